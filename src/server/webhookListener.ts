/**
 * The stdio-mode webhook listener: when CHATKAZI_WEBHOOK_PORT is set, a small node:http server on
 * CHATKAZI_WEBHOOK_HOST (default 127.0.0.1) serves `POST /webhooks/chatkazi/<hookId>` and nothing
 * else. It listens on this machine only unless the user exposes it (a tunnel); the address it got is
 * what `get_webhook_url` shows. A port that cannot be opened does not stop the server: sending still
 * works, and `get_webhook_url` says why receiving does not.
 */
import { Effect, Layer, Option } from "effect"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { Inbox } from "../services/Inbox.js"
import { HookIds, WEBHOOK_PATH, WebhookAddress, WebhookConfig, type WebhookOrigin } from "../services/WebhookConfig.js"
import { nodeWebhookHandler } from "./webhook.js"

const listen = (server: Server, port: number, host: string) =>
  Effect.async<AddressInfo, Error>((resume) => {
    const onError = (error: Error) => resume(Effect.fail(error))
    server.once("error", onError)
    server.listen(port, host, () => {
      server.off("error", onError)
      resume(Effect.succeed(server.address() as AddressInfo))
    })
  })

const hostInUrl = (host: string) => host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "127.0.0.1" : host

export const WebhookListener: Layer.Layer<WebhookAddress, never, WebhookConfig | Inbox | HookIds> = Layer.scoped(
  WebhookAddress,
  Effect.gen(function*() {
    const settings = yield* WebhookConfig
    if (Option.isNone(settings.listenPort)) return { _tag: "None" } satisfies WebhookOrigin
    const port = settings.listenPort.value
    const handle = nodeWebhookHandler(yield* Effect.runtime<Inbox | HookIds>())
    const server = createServer((request, response) => {
      const url = new URL(request.url ?? "/", "http://listener")
      const hookId = url.pathname.startsWith(WEBHOOK_PATH) ? url.pathname.slice(WEBHOOK_PATH.length) : undefined
      if (hookId === undefined || hookId.includes("/")) {
        response.writeHead(404, { "content-type": "application/json", connection: "close" })
        return response.end(JSON.stringify({ ok: false, error: "not found" }))
      }
      if (request.method !== "POST") {
        response.writeHead(405, { "content-type": "application/json", allow: "POST", connection: "close" })
        return response.end(JSON.stringify({ ok: false, error: "use POST" }))
      }
      void handle(request, response, hookId)
    })
    // Slow or idle clients must not hold sockets open for long.
    server.requestTimeout = 15_000
    server.headersTimeout = 10_000
    server.keepAliveTimeout = 5_000
    return yield* listen(server, port, settings.listenHost).pipe(
      Effect.tap(() => Effect.addFinalizer(() => Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      }))),
      Effect.map((address) => `http://${hostInUrl(settings.listenHost)}:${address.port}`),
      Effect.tap((origin) => Effect.logInfo(`Webhook listener on ${origin}${WEBHOOK_PATH}<hookId>`)),
      Effect.map((origin): WebhookOrigin => ({ _tag: "Listener", origin })),
      Effect.catchAll((error) =>
        Effect.as(
          Effect.logWarning(`Webhook listener could not start: ${error.message}`),
          {
            _tag: "None",
            problem: `the webhook listener could not open ${settings.listenHost}:${port} (${error.message})`
          } satisfies WebhookOrigin
        )
      )
    )
  })
)
