/**
 * The ChatKazi gateway as an Effect service: one method per endpoint, typed errors, and the
 * retry policy each endpoint's idempotency allows. The only module that speaks to the gateway.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { Clock, Context, Duration, Effect, Layer, Option, type ParseResult, Redacted, Schedule, ScheduleDecision } from "effect"
import {
  type ChatKaziError,
  DeliveryUncertain,
  EmptyMedia,
  InvalidConfig,
  Timeout,
  Transport,
  UpstreamUnavailable
} from "../errors/ChatKaziError.js"
import { ChatKaziConfig, type ChatKaziSettings, DEFAULT_BASE_URL } from "./ChatKaziConfig.js"
import { type ChatKaziTest, layerChatKaziTest } from "./ChatKaziTest.js"
import type { MediaMessage, SendReceipt, Session, SessionQr, TextMessage } from "./Domain.js"
import { errorCode } from "./internal/errorCode.js"
import { type GatewayFailure, interpretAnswer } from "./internal/GatewayResponse.js"
import {
  fetchTransport,
  type GatewayRequest,
  type GatewayTransport,
  httpClientTransport,
  type TransportFailure
} from "./GatewayTransport.js"
import {
  type BodyDecoder,
  decodeSendReceiptBody,
  decodeSessionBody,
  decodeSessionListBody,
  decodeSessionQrBody,
  mentionsFailedDownload,
  reportsEmptyMedia
} from "./internal/Responses.js"

export interface ChatKaziApi {
  readonly listSessions: Effect.Effect<ReadonlyArray<Session>, ChatKaziError>
  readonly startSession: (sessionId: string) => Effect.Effect<Session, ChatKaziError>
  readonly sessionStatus: (sessionId: string) => Effect.Effect<Session, ChatKaziError>
  readonly sessionQr: (sessionId: string) => Effect.Effect<SessionQr, ChatKaziError>
  readonly logoutSession: (sessionId: string) => Effect.Effect<Session, ChatKaziError>
  readonly sendText: (message: TextMessage) => Effect.Effect<SendReceipt, ChatKaziError>
  readonly sendMedia: (message: MediaMessage) => Effect.Effect<SendReceipt, ChatKaziError>
}

export class ChatKazi extends Context.Tag("chatkazi-mcp/ChatKazi")<ChatKazi, ChatKaziApi>() {
  /**
   * The live gateway on an `HttpClient` (the platform's fetch client, the sandbox's in-process one, a
   * test's fake). A `FetchHttpClient.RequestInit` in the context is merged into every request's
   * options; redirects are never followed.
   */
  static readonly layer: Layer.Layer<ChatKazi, never, ChatKaziConfig | HttpClient.HttpClient> = Layer.effect(
    ChatKazi,
    Effect.gen(function*() {
      const config = yield* ChatKaziConfig
      const transport = httpClientTransport(
        yield* HttpClient.HttpClient,
        config.timeoutMs,
        yield* Effect.serviceOption(FetchHttpClient.RequestInit)
      )
      return makeChatKazi(config, transport, yield* Effect.makeSemaphore(config.maxConcurrency))
    })
  )

  /**
   * The same on `fetch` directly, without the `HttpClient` machinery around each request: what the
   * server runs (about 0.3 ms less CPU a call). A `FetchHttpClient.Fetch` (e.g. a proxy-aware fetch)
   * and a `FetchHttpClient.RequestInit` in the context are honoured as the platform's client does.
   */
  static readonly layerFetch: Layer.Layer<ChatKazi, never, ChatKaziConfig> = Layer.effect(
    ChatKazi,
    Effect.gen(function*() {
      const config = yield* ChatKaziConfig
      const transport = fetchTransport(
        config.timeoutMs,
        yield* Effect.serviceOption(FetchHttpClient.RequestInit),
        Option.getOrElse(yield* Effect.serviceOption(FetchHttpClient.Fetch), () => globalThis.fetch)
      )
      return makeChatKazi(config, transport, yield* Effect.makeSemaphore(config.maxConcurrency))
    })
  )

  /**
   * An in-memory gateway, with its recorder (`ChatKaziTest`): `sessions` maps ids to their starting
   * states; sends are recorded, and any operation can be made to fail.
   */
  static readonly layerTest = (sessions: Readonly<Record<string, string>> = {}): Layer.Layer<ChatKazi | ChatKaziTest> =>
    layerChatKaziTest(sessions)

  /**
   * The live gateway without a Layer, for a server that builds each caller's services per request
   * (building a Layer costs about 1 ms of CPU; this, microseconds). `inFlight` bounds the requests in
   * flight; share one semaphore (and one transport) between callers so `maxConcurrency` holds for
   * the process.
   */
  static readonly make = (config: ChatKaziSettings, transport: GatewayTransport, inFlight: Effect.Semaphore): ChatKaziApi =>
    makeChatKazi(config, transport, inFlight)
}

/**
 * Reads can be repeated freely. A write may deliver a WhatsApp message or change a session, so it
 * is repeated only when the gateway provably did not act on it.
 */
type Idempotency = "read" | "write"

interface Call<A> {
  readonly operation: string
  readonly idempotency: Idempotency
  readonly request: GatewayRequest
  readonly decode: BodyDecoder<A>
  /** Set for media sends: a gateway error that says the download failed becomes `EmptyMedia`. */
  readonly mediaUrl?: string
}

const makeChatKazi = (config: ChatKaziSettings, transport: GatewayTransport, inFlight: Effect.Semaphore): ChatKaziApi => {
  const readHeaders = { "x-api-key": Redacted.value(config.apiKey), accept: "application/json" }
  const writeHeaders = { ...readHeaders, "content-type": "application/json" }

  const attempt = (request: GatewayRequest): Effect.Effect<unknown, AttemptFailure> =>
    transport(request).pipe(
      Effect.mapError((failure) => failure instanceof Timeout ? failure : toTransport(config.baseUrl)(failure)),
      Effect.flatMap((answer) => Effect.flatMap(Clock.currentTimeMillis, (now) => interpretAnswer(answer, now))),
      inFlight.withPermits(1)
    )

  /**
   * The retry schedule is entered only once an attempt has failed: it is then given that failure
   * first, so its decisions (and the warnings it logs) are those of a schedule around every attempt.
   */
  const attemptWithRetries = (call: Call<unknown>): Effect.Effect<unknown, AttemptFailure> =>
    Effect.catchAll(attempt(call.request), (first) => {
      if (config.maxRetries === 0 || !retryable(config, call.idempotency)(first)) return Effect.fail(first)
      let replayed = false
      const again = Effect.suspend(() => {
        if (replayed) return attempt(call.request)
        replayed = true
        return Effect.fail(first)
      })
      return Effect.retry(again, retryPolicy(config, call.idempotency, call.operation))
    })

  const run = <A>(call: Call<A>): Effect.Effect<A, ChatKaziError> =>
    attemptWithRetries(call).pipe(
      Effect.flatMap((body) => Effect.mapError(call.decode(body), unexpectedAnswer)),
      // Only a refusal or a gateway failure can be about the download: a 401, 402, 404 or 409 keeps
      // its own guidance even when its text mentions fetching something.
      Effect.mapError((error) => {
        const media = call.mediaUrl !== undefined &&
            (error._tag === "InvalidRequest" || error._tag === "UpstreamUnavailable") &&
            mentionsFailedDownload(error.gatewayMessage)
          ? new EmptyMedia({ url: call.mediaUrl, gatewayMessage: error.gatewayMessage })
          : error
        return call.idempotency === "write" ? uncertainDelivery(call.operation, media) : media
      })
    )

  const get = (path: string, sessionId?: string): GatewayRequest => ({
    method: "GET",
    url: sessionId === undefined
      ? `${config.baseUrl}${path}`
      : `${config.baseUrl}${path}?${new URLSearchParams({ sessionId })}`,
    headers: readHeaders
  })

  const post = (path: string, body: Record<string, unknown>): GatewayRequest => ({
    method: "POST",
    url: `${config.baseUrl}${path}`,
    headers: writeHeaders,
    body: JSON.stringify(body)
  })

  return ChatKazi.of({
    listSessions: run({
      operation: "list_sessions",
      idempotency: "read",
      request: get("/sessions"),
      decode: decodeSessionListBody
    }).pipe(
      // No session is named here, so a 404 means the address is not the ChatKazi API.
      Effect.catchTag("NotFound", () =>
        Effect.fail(
          new InvalidConfig({
            setting: "CHATKAZI_BASE_URL",
            problem: `${config.baseUrl}/sessions answered HTTP 404, so ${config.baseUrl} is not the ChatKazi API ` +
              `address; it is usually ${DEFAULT_BASE_URL} (https, ending in /api/v1)`
          })
        ))
    ),
    startSession: (sessionId) =>
      run({
        operation: "start_session",
        idempotency: "write",
        request: post("/session/start", { sessionId }),
        decode: decodeSessionBody(sessionId)
      }),
    sessionStatus: (sessionId) =>
      run({
        operation: "get_session_status",
        idempotency: "read",
        request: get("/session/status", sessionId),
        decode: decodeSessionBody(sessionId)
      }),
    sessionQr: (sessionId) =>
      run({
        operation: "get_session_qr",
        idempotency: "read",
        request: get("/session/qr", sessionId),
        decode: decodeSessionQrBody(sessionId)
      }),
    logoutSession: (sessionId) =>
      run({
        operation: "logout_session",
        idempotency: "write",
        request: post("/session/logout", { sessionId }),
        decode: decodeSessionBody(sessionId)
      }),
    sendText: (message) =>
      run({
        operation: "send_whatsapp_text",
        idempotency: "write",
        request: post("/messages/text", { sessionId: message.sessionId, to: message.to, text: message.text }),
        decode: decodeSendReceiptBody
      }),
    sendMedia: (message) =>
      run({
        operation: "send_whatsapp_media",
        idempotency: "write",
        request: post("/messages/media", withoutUndefined({ ...message })),
        decode: decodeSendReceiptBody,
        mediaUrl: message.url
      }).pipe(
        Effect.filterOrFail(
          (receipt) => !reportsEmptyMedia(receipt),
          () => new EmptyMedia({ url: message.url, gatewayMessage: "the gateway reported a size of 0 bytes" })
        )
      )
  })
}

const withoutUndefined = (fields: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined))

const CONNECT_FAILURES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"])

/** What a Node network error code means, in words a user can act on. */
const CODE_MEANINGS: Readonly<Record<string, string>> = {
  ECONNREFUSED: "the connection was refused: nothing is listening at that address",
  ENOTFOUND: "the host name was not found (DNS)",
  EAI_AGAIN: "the host name could not be looked up right now (DNS)",
  EHOSTUNREACH: "the host is unreachable from this network",
  ENETUNREACH: "the network is unreachable",
  ECONNRESET: "the connection was reset",
  ETIMEDOUT: "the connection timed out"
}

const describeCode = (code: string): string => {
  const meaning = CODE_MEANINGS[code] ??
    (code === "ERR_SSL_WRONG_VERSION_NUMBER"
      ? "the server at that address does not speak TLS: use http:// if it is plain HTTP, or check the port"
      : /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|TLS|SSL/.test(code)
      ? "its TLS certificate was not accepted"
      : undefined)
  return meaning === undefined ? code : `${code}, ${meaning}`
}

/** The innermost message of an error's cause chain: fetch's own is a bare "fetch failed". */
const innermostMessage = (error: unknown): string | undefined => {
  let message: string | undefined
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    message = current.message
    current = current.cause
  }
  return message
}

const toTransport = (baseUrl: string) => (failure: TransportFailure): Transport => {
  const code = errorCode(failure.cause)
  const connectFailed = failure.stage === "request" && code !== undefined && CONNECT_FAILURES.has(code)
  const detail = code !== undefined
    ? describeCode(code)
    : innermostMessage(failure.cause) === "bad port"
    ? "fetch refuses to connect to that port (one browsers block, e.g. 6000): use another port"
    : innermostMessage(failure.cause) ?? failure.reason
  return new Transport({
    reason: failure.stage === "response" ? `the connection broke while reading the answer (${detail})` : `${detail}`,
    mayHaveArrived: !connectFailed && !(failure.stage === "request" && failure.reason !== "Transport"),
    baseUrl
  })
}

const unexpectedAnswer = (error: ParseResult.ParseError) =>
  new UpstreamUnavailable({ gatewayMessage: `an answer this server does not understand: ${error.message.split("\n")[0]}` })

type AttemptFailure = GatewayFailure | Timeout | Transport

const retryable = (config: ChatKaziSettings, idempotency: Idempotency) => (error: AttemptFailure): boolean => {
  switch (error._tag) {
    case "RateLimited":
      return error.retryAfterSeconds === undefined || error.retryAfterSeconds * 1000 <= config.maxRetryAfterMs
    case "Transport":
      return idempotency === "read" || !error.mayHaveArrived
    case "Timeout":
    case "UpstreamUnavailable":
      return idempotency === "read"
    default:
      return false
  }
}

/**
 * Jittered exponential backoff, bounded in count, that waits as long as a `Retry-After` asks. Each
 * retry is logged as a warning (the MCP edge passes it on to the client too).
 */
const retryPolicy = (config: ChatKaziSettings, idempotency: Idempotency, operation: string) =>
  Schedule.identity<AttemptFailure>().pipe(
    Schedule.intersect(Schedule.exponential(Duration.millis(config.retryBaseDelayMs)).pipe(Schedule.jittered)),
    Schedule.modifyDelay(([error], delay) =>
      error._tag === "RateLimited" && error.retryAfterSeconds !== undefined
        ? Duration.seconds(error.retryAfterSeconds)
        : delay
    ),
    Schedule.intersect(Schedule.recurs(config.maxRetries)),
    Schedule.whileInput(retryable(config, idempotency)),
    Schedule.onDecision(([[error], retries], decision) =>
      ScheduleDecision.isContinue(decision)
        ? Effect.logWarning(
          `ChatKazi ${operation}: ${describeFailure(error)}; retrying (retry ${retries + 1} of ${config.maxRetries})`
        )
        : Effect.void
    )
  )

const describeFailure = (error: AttemptFailure): string =>
  error._tag === "Timeout"
    ? `no answer within ${error.timeoutMs} ms`
    : error._tag === "Transport"
    ? error.message
    : "status" in error && error.status !== undefined
    ? `HTTP ${error.status}`
    : error._tag === "RateLimited"
    ? "HTTP 429"
    : error._tag

/** After a write, only failures that prove nothing happened keep their own meaning. */
const uncertainDelivery = (operation: string, error: ChatKaziError): ChatKaziError => {
  switch (error._tag) {
    case "Timeout":
      return new DeliveryUncertain({ operation, reason: `no answer within ${error.timeoutMs} ms` })
    case "Transport":
      return error.mayHaveArrived ? new DeliveryUncertain({ operation, reason: error.reason }) : error
    case "UpstreamUnavailable":
      return new DeliveryUncertain({
        operation,
        reason: `${error.status === undefined ? "an unreadable answer" : `HTTP ${error.status}`}${
          error.gatewayMessage ? `: ${error.gatewayMessage}` : ""
        }`
      })
    default:
      return error
  }
}

