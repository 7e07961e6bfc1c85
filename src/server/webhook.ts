/**
 * `POST /webhooks/chatkazi/<hookId>`: ChatKazi delivering incoming messages. The decision is a
 * transport-agnostic Effect (`receiveWebhook`); `nodeWebhookHandler` serves it on any node:http
 * request (the stdio-mode listener, and express in http mode through `webhookRoute`).
 *
 * - An unknown hook id: 404, and the body is not even read. Nothing says whether a secret is set.
 * - Over 1 MiB: 413. Not JSON: 400. Stored: 200 at once, so the gateway does not retry.
 * - More than `MAX_WEBHOOK_MESSAGES` messages in one body: 413 and nothing stored. Each message costs
 *   a claim, a push and a publish on the store, so whoever holds the URL must not make one request
 *   cost thousands; refusing the whole body (rather than keeping the first ones) keeps a delivery
 *   all-or-nothing, so a gateway that splits and retries loses nothing silently.
 * - The store unreachable: 503, so the gateway retries later instead of the message being lost.
 */
import { Effect, Option, Runtime } from "effect"
import type { IncomingMessage as NodeRequest, ServerResponse } from "node:http"
import { HookIds, WEBHOOK_PATH } from "../services/WebhookConfig.js"
import { Inbox } from "../services/Inbox.js"
import { decodeWebhookPayload } from "../services/internal/webhookPayload.js"

export const MAX_WEBHOOK_BYTES = 1024 * 1024

/** The most messages one delivery may carry; a gateway sends one, or a handful at most. */
export const MAX_WEBHOOK_MESSAGES = 100

export interface WebhookResponse {
  readonly status: number
  readonly body: Readonly<Record<string, unknown>>
}

const refuse = (status: number, error: string): WebhookResponse => ({ status, body: { ok: false, error } })

const UNKNOWN = refuse(404, "unknown webhook")

/** Whether a hook id names an account: checked before the body is read. */
export const knowsHook = (hookId: string): Effect.Effect<boolean, never, HookIds> =>
  Effect.map(HookIds, (ids) => Option.isSome(ids.accountOf(hookId)))

/**
 * One delivery. `body` may be cut by the transport at `MAX_WEBHOOK_BYTES + 1` bytes: anything longer
 * than the limit is refused whole. The content type is not trusted to say JSON: the body is.
 */
export const receiveWebhook = (
  hookId: string,
  body: Uint8Array | string
): Effect.Effect<WebhookResponse, never, Inbox | HookIds> =>
  Effect.gen(function*() {
    const account = (yield* HookIds).accountOf(hookId)
    if (Option.isNone(account)) return UNKNOWN
    const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body
    if (bytes.length > MAX_WEBHOOK_BYTES) return refuse(413, `the body is larger than ${MAX_WEBHOOK_BYTES} bytes`)
    let payload: unknown
    try {
      payload = JSON.parse(Buffer.from(bytes).toString("utf8"))
    } catch {
      return refuse(400, "the body must be JSON")
    }
    const messages = decodeWebhookPayload(payload, new Date())
    if (messages.length > MAX_WEBHOOK_MESSAGES) {
      return refuse(
        413,
        `the body holds ${messages.length} messages, more than the ${MAX_WEBHOOK_MESSAGES} one delivery may carry; ` +
          "nothing was stored: send them in smaller batches"
      )
    }
    const inbox = yield* Inbox
    return yield* inbox.receive(account.value, messages).pipe(
      Effect.tap(({ duplicates, stored }) =>
        Effect.logDebug(`webhook for account ${account.value.slice(0, 8)}: ${stored} stored, ${duplicates} duplicate(s)`)
      ),
      Effect.map(({ duplicates, stored }): WebhookResponse => ({ status: 200, body: { ok: true, stored, duplicates } })),
      Effect.catchAll((unavailable) =>
        Effect.as(
          Effect.logWarning(`webhook not stored: ${unavailable.reason}`),
          refuse(503, "the message store is unavailable; retry later")
        )
      )
    )
  })

/** Reads at most `limit + 1` bytes: enough to know a body is too large without holding all of it. */
const readBody = (request: NodeRequest, limit: number): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    let size = 0
    const done = () => {
      request.off("data", onData)
      resolve(Buffer.concat(chunks).subarray(0, limit + 1))
    }
    const onData = (chunk: Buffer) => {
      chunks.push(chunk)
      size += chunk.length
      if (size > limit) {
        request.pause()
        done()
      }
    }
    request.on("data", onData)
    request.once("end", done)
    request.once("error", reject)
    // A sender that went away mid-body: nothing half-read is stored.
    request.once("close", () => {
      if (!request.complete && size <= limit) reject(new Error("the request was aborted"))
    })
  })

const send = (response: ServerResponse, answer: WebhookResponse, close = false) => {
  if (response.headersSent) return
  response.writeHead(answer.status, {
    "content-type": "application/json",
    "cache-control": "no-store",
    ...(close ? { connection: "close" } : {})
  })
  response.end(JSON.stringify(answer.body))
}

/** Serves one node:http request for `hookId` with the services of `runtime`. */
export const nodeWebhookHandler = (runtime: Runtime.Runtime<Inbox | HookIds>) => {
  const run = Runtime.runPromise(runtime)
  return async (request: NodeRequest & { body?: unknown }, response: ServerResponse, hookId: string) => {
    try {
      if (!(await run(knowsHook(hookId)))) return send(response, UNKNOWN, true)
      const declared = Number(request.headers["content-length"])
      if (Number.isFinite(declared) && declared > MAX_WEBHOOK_BYTES) {
        return send(response, refuse(413, `the body is larger than ${MAX_WEBHOOK_BYTES} bytes`), true)
      }
      // A body parser mounted before this route may have read the body already (as raw bytes or text).
      const body = Buffer.isBuffer(request.body) || typeof request.body === "string"
        ? request.body
        : await readBody(request, MAX_WEBHOOK_BYTES)
      const answer = await run(receiveWebhook(hookId, body))
      send(response, answer, answer.status === 413)
    } catch {
      send(response, refuse(500, "the webhook could not be handled"), true)
    }
  }
}

/**
 * The route for an express app (http mode):
 * `const route = webhookRoute(runtime); app.post(route.path, route.handler)`, mounted before any
 * JSON body parser (or after `express.raw()`), so the raw body reaches the decoder.
 */
export const webhookRoute = (runtime: Runtime.Runtime<Inbox | HookIds>) => {
  const handle = nodeWebhookHandler(runtime)
  return {
    path: "/webhooks/chatkazi/:hookId",
    handler: (
      request: NodeRequest & { params: Record<string, string | undefined>; body?: unknown; originalUrl?: string },
      response: ServerResponse & { locals?: Record<string, unknown> }
    ) => {
      // express matches this path in any letter case (and with a trailing slash), so the hook id may
      // arrive in a URL the request log does not recognise as a webhook's: the route itself says what
      // may be logged. The request log reads `originalUrl` once the response is done.
      if (response.locals !== undefined) response.locals[LOGGED_PATH] = REDACTED_WEBHOOK_PATH
      if (request.originalUrl !== undefined) request.originalUrl = REDACTED_WEBHOOK_PATH
      void handle(request, response, request.params.hookId ?? "")
    }
  }
}

/** What a log may say of a webhook request's path: never the hook id, which lets its holder post. */
export const REDACTED_WEBHOOK_PATH = `${WEBHOOK_PATH}<hookId>`

/** The `res.locals` entry where a route leaves the path the request log should show instead of the URL. */
export const LOGGED_PATH = "loggedPath"
