/**
 * `chatkazi-mcp sandbox --port N`: the simulator alone, as an HTTP server on 127.0.0.1, for
 * testing other integrations against it. Says where it listens on stderr; stops on SIGINT/SIGTERM
 * (the runtime interrupts it, and the server's scope closes the socket).
 */
import * as HttpServer from "@effect/platform/HttpServer"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Console, Effect, FiberSet, Layer } from "effect"
import { createServer } from "node:http"
import { errorCode } from "../services/internal/errorCode.js"
import { SandboxConfig, type SandboxSettings } from "./SandboxConfig.js"
import { Simulator } from "./Simulator.js"
import { SimulatorApp } from "./SimulatorApp.js"
import { SimulatedContacts } from "./SimulatedContacts.js"

export interface SandboxServerOptions {
  /** 0 picks a free port. */
  readonly port: number
  readonly settings?: Partial<SandboxSettings>
  /** Incoming messages (contacts' replies, POST /sandbox/inbound) are POSTed here, as ChatKazi does. */
  readonly webhookUrl?: string | undefined
}

/**
 * The webhook URL as it may be printed: a ChatKazi hook id (the part after /webhooks/chatkazi/, in any
 * letter case) lets whoever reads it post into the inbox, so it is replaced by `<hookId>`.
 */
export const printableWebhookUrl = (url: string): string =>
  url.replace(/(\/webhooks\/chatkazi\/)[^/?#]+/i, "$1<hookId>")

/** Posts each incoming payload to the webhook URL, like the real gateway; a failure is logged, not retried. */
const WebhookForwarding = (url: string): Layer.Layer<never, never, Simulator> =>
  Layer.scopedDiscard(
    Effect.gen(function*() {
      const simulator = yield* Simulator
      const shown = printableWebhookUrl(url)
      // Closing the layer interrupts the posts still under way (and aborts their requests).
      const run = yield* FiberSet.makeRuntime<never>()
      yield* simulator.watchInbound((payload) =>
        run(
          Effect.tryPromise((signal) =>
            fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(payload), signal })
          ).pipe(
            Effect.flatMap((response) =>
              response.ok ? Effect.void : Console.error(`Webhook ${shown} answered HTTP ${response.status}`)
            ),
            Effect.catchAll((error) => Console.error(`Webhook ${shown} could not be reached: ${String(error.error)}`))
          )
        )
      )
    })
  )

/** The simulator served on 127.0.0.1:`port`. */
export const layer = (options: SandboxServerOptions): Layer.Layer<HttpServer.HttpServer | Simulator, unknown> =>
  Layer.mergeAll(
    HttpServer.serve(SimulatorApp),
    SimulatedContacts,
    options.webhookUrl === undefined ? Layer.empty : WebhookForwarding(options.webhookUrl)
  ).pipe(
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: options.port, host: "127.0.0.1" })),
    Layer.provideMerge(Simulator.layer),
    Layer.provide(SandboxConfig.layer(options.settings))
  )

const announce = (options: SandboxServerOptions) => Effect.gen(function*() {
  const address = yield* HttpServer.HttpServer.pipe(Effect.map((server) => server.address))
  const { settings } = yield* Simulator
  const origin = address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : HttpServer.formatAddress(address)
  yield* Console.error(
    [
      `ChatKazi sandbox listening on ${origin}`,
      `  API:      ${origin}/api/v1  (use it as CHATKAZI_BASE_URL; ${
        settings.apiKey === undefined ? "any non-empty x-api-key" : "x-api-key must be the one given with --api-key"
      })`,
      `  Sandbox:  POST ${origin}/sandbox/scan {"sessionId"}, POST ${origin}/sandbox/disconnect {"sessionId"}, GET ${origin}/sandbox/messages`,
      `  Inbound:  POST ${origin}/sandbox/inbound {any webhook JSON}; contacts answer texts ${
        settings.replyAfterMs === undefined ? "never" : `${settings.replyAfterMs / 1000} s later`
      }${options.webhookUrl === undefined ? " (no --webhook-url: kept at GET /sandbox/inbound)" : `, posted to ${printableWebhookUrl(options.webhookUrl)}`}`,
      `  Rules:    plan limit ${settings.maxSessions} session(s); QR scanned ${describeScan(settings)}; media links whose path contains "empty" are empty files`,
      "Nothing is sent to WhatsApp. Stop with Ctrl+C."
    ].join("\n")
  )
})

const describeScan = (settings: SandboxSettings) => {
  const ways = [
    ...(settings.scanAfterMs === undefined ? [] : [`${settings.scanAfterMs / 1000} s after it is first fetched`]),
    ...(settings.scanAfterPolls === undefined ? [] : [`after ${settings.scanAfterPolls} status checks`]),
    "on POST /sandbox/scan"
  ]
  return ways.join(", or ")
}

/** Why the socket could not be opened, and what to do about it. */
const describeListenFailure = (port: number, error: unknown): string => {
  switch (errorCode(error)) {
    case "EADDRINUSE":
      return `Port ${port} on 127.0.0.1 is already in use, so the sandbox cannot listen there: stop what uses it, ` +
        "or pick another port with --port N (--port 0 picks a free one)."
    case "EACCES":
      return `This user may not listen on port ${port}: pick a port above 1023 with --port N.`
    default:
      return `The sandbox could not listen on 127.0.0.1:${port}: ${error instanceof Error ? error.message : String(error)}`
  }
}

/** Serves until interrupted; says why on stderr when it cannot start. */
export const runSandboxServer = (options: SandboxServerOptions): Effect.Effect<never, unknown> =>
  Layer.launch(Layer.effectDiscard(announce(options)).pipe(Layer.provideMerge(layer(options)))).pipe(
    Effect.tapError((error) => Console.error(describeListenFailure(options.port, error)))
  )
