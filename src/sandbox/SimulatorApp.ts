/**
 * The simulator over HTTP: the ChatKazi API under `/api/v1` (same paths, bodies, key check and
 * statuses as CHATKAZI_API.md), plus the sandbox's own controls under `/sandbox` (no key needed).
 * Served on a socket by `SandboxServer`, or in process by `SandboxHttpClient`.
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect, ParseResult, Schema } from "effect"
import { MEDIA_TYPES } from "../services/Domain.js"
import * as Rules from "./Simulator.js"
import { Refusal, Simulator, type SimulatorApi } from "./Simulator.js"

const ok = (data: unknown) => HttpServerResponse.unsafeJson({ success: true, data })

const refused = (status: number, message: string) =>
  HttpServerResponse.unsafeJson({ success: false, message }, { status })

/** Runs a handler and answers its refusals, bad bodies and bad queries the way the gateway would. */
const answer = <R>(
  handler: Effect.Effect<unknown, Refusal | ParseResult.ParseError | { readonly _tag: "RequestError" }, R>
) =>
  handler.pipe(
    Effect.map(ok),
    Effect.catchAll((error) =>
      Effect.succeed(
        error instanceof Refusal
          ? refused(error.status, error.message)
          : ParseResult.isParseError(error)
          ? refused(400, ParseResult.ArrayFormatter.formatErrorSync(error).map(describeIssue).join("; "))
          : refused(400, "the body must be JSON")
      )
    )
  )

const describeIssue = (issue: ParseResult.ArrayFormatterIssue) =>
  issue.path.length === 0 ? issue.message : `${issue.path.join(".")}: ${issue.message}`

/** `x-api-key` must be there, and be the configured key when the sandbox has one. */
const checkKey = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  const { settings } = yield* Simulator
  const key = request.headers["x-api-key"]?.trim()
  if (!key) return yield* new Refusal({ status: 401, message: "Missing API key: send it in the x-api-key header" })
  if (settings.apiKey !== undefined && key !== settings.apiKey) {
    return yield* new Refusal({ status: 401, message: "Invalid API key" })
  }
})

/** An `/api/v1` endpoint: the key is checked before anything else. */
const api = <A, R>(
  handler: (simulator: SimulatorApi) => Effect.Effect<A, Refusal | ParseResult.ParseError | { readonly _tag: "RequestError" }, R>
) => answer(checkKey.pipe(Effect.zipRight(Effect.flatMap(Simulator, handler))))

const NonEmpty = Schema.String.pipe(Schema.filter((s) => s.trim() !== "" || "must not be empty"))

const SessionQuery = Schema.Struct({ sessionId: NonEmpty })
const SessionBody = Schema.Struct({ sessionId: NonEmpty })
const TextBody = Schema.Struct({ sessionId: NonEmpty, to: NonEmpty, text: NonEmpty })
const MediaBody = Schema.Struct({
  sessionId: NonEmpty,
  to: NonEmpty,
  url: NonEmpty,
  type: Schema.optionalWith(Schema.Literal(...MEDIA_TYPES), { default: () => "image" as const }),
  caption: Schema.optional(Schema.String),
  mimetype: Schema.optional(Schema.String),
  fileName: Schema.optional(Schema.String)
})

const parseOptions = { errors: "all" } as const
const query = <A, I extends Readonly<Record<string, string | ReadonlyArray<string> | undefined>>>(
  schema: Schema.Schema<A, I>
) => HttpServerRequest.schemaSearchParams(schema, parseOptions)
const body = <A, I>(schema: Schema.Schema<A, I>) => HttpServerRequest.schemaBodyJson(schema, parseOptions)

/** A session id from the JSON body or, for convenience with curl, the query string. */
const sessionIdFromBodyOrQuery = Effect.orElse(
  Effect.map(body(SessionBody), (b) => b.sessionId),
  () => Effect.map(query(SessionQuery), (q) => q.sessionId)
)

export const ApiRoutes = HttpRouter.empty.pipe(
  HttpRouter.get("/sessions", api((s) => s.apply(Rules.listSessions))),
  HttpRouter.post("/session/start", api((s) => Effect.flatMap(body(SessionBody), (b) => s.apply(Rules.startSession(b.sessionId))))),
  HttpRouter.get("/session/status", api((s) => Effect.flatMap(query(SessionQuery), (q) => s.apply(Rules.sessionStatus(q.sessionId))))),
  HttpRouter.get("/session/qr", api((s) => Effect.flatMap(query(SessionQuery), (q) => s.apply(Rules.sessionQr(q.sessionId))))),
  HttpRouter.post("/session/logout", api((s) => Effect.flatMap(body(SessionBody), (b) => s.apply(Rules.logoutSession(b.sessionId))))),
  HttpRouter.post("/messages/text", api((s) => Effect.flatMap(body(TextBody), (m) => s.apply(Rules.sendText(m))))),
  HttpRouter.post("/messages/media", api((s) => Effect.flatMap(body(MediaBody), (m) => s.apply(Rules.sendMedia(m)))))
)

/** A sandbox control about one session, named in the body or the query. */
const control = (rule: (sessionId: string) => Rules.Rule<unknown>) =>
  answer(Effect.flatMap(Simulator, (s) => Effect.flatMap(sessionIdFromBodyOrQuery, (id) => s.apply(rule(id)))))

export const SandboxRoutes = HttpRouter.empty.pipe(
  HttpRouter.get("/messages", answer(Effect.flatMap(Simulator, (s) => s.messages))),
  HttpRouter.post("/scan", control(Rules.scan)),
  HttpRouter.post("/disconnect", control(Rules.disconnect)),
  // Any JSON, as ChatKazi would post it to the webhook: in --sandbox mode it lands in the Inbox.
  HttpRouter.post(
    "/inbound",
    answer(Effect.flatMap(Simulator, (s) =>
      Effect.flatMap(body(Schema.Unknown), (payload) => Effect.as(s.inject(payload), { accepted: true }))))
  ),
  HttpRouter.get("/inbound", answer(Effect.flatMap(Simulator, (s) => s.inbound)))
)

const about = {
  name: "ChatKazi sandbox",
  note: "A simulator of the ChatKazi API. Nothing is sent to WhatsApp.",
  api: "/api/v1 (x-api-key required)",
  sandbox: [
    "GET /sandbox/messages",
    "POST /sandbox/scan {sessionId}",
    "POST /sandbox/disconnect {sessionId}",
    "POST /sandbox/inbound {any webhook JSON}",
    "GET /sandbox/inbound"
  ]
}

/** The whole simulator: API, sandbox controls, and JSON 404s for anything else. */
export const SimulatorApp = HttpRouter.empty.pipe(
  HttpRouter.get("/", Effect.succeed(ok(about))),
  HttpRouter.mount("/api/v1", ApiRoutes),
  HttpRouter.mount("/sandbox", SandboxRoutes),
  HttpRouter.all("*", Effect.succeed(refused(404, "No such endpoint in the ChatKazi sandbox")))
)
