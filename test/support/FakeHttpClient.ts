/**
 * A routing fake of `@effect/platform`'s `HttpClient`, built with `HttpClient.make`.
 *
 * It records every request that reaches it (method, full URL, headers, parsed JSON body) and
 * answers from a script per `METHOD path`: a response (status, body, headers), a transport
 * failure shaped like the one Node's fetch produces (a `RequestError` whose cause chain carries
 * `code: "ECONNREFUSED"`…), a body that breaks while being read, or a request that never answers.
 * Replies of a route are used in order; the last one repeats.
 */
import { HttpClient, HttpClientError, type HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { Effect, Layer } from "effect"

export interface RecordedRequest {
  readonly method: string
  /** The full URL as it would go on the wire, query included. */
  readonly url: string
  readonly path: string
  readonly query: URLSearchParams
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string>>
  readonly contentType: string | undefined
  /** The body as sent, when there was one. */
  readonly bodyText: string | undefined
  /** The body parsed as JSON (`undefined` when there was no body). */
  readonly body: unknown
}

export type Reply =
  | { readonly _tag: "Respond"; readonly status: number; readonly body: string; readonly headers: Record<string, string> }
  | { readonly _tag: "FailTransport"; readonly code: string }
  | { readonly _tag: "BreakBody"; readonly status: number; readonly code: string }
  | { readonly _tag: "Hang" }
  | { readonly _tag: "Await"; readonly effect: (request: RecordedRequest) => Effect.Effect<Reply> }

/** A status with a body: a string as is, anything else as JSON. */
export const respond = (status: number, body: unknown = "", headers: Record<string, string> = {}): Reply => ({
  _tag: "Respond",
  status,
  body: typeof body === "string" ? body : JSON.stringify(body),
  headers: typeof body === "string" || "content-type" in headers
    ? headers
    : { "content-type": "application/json", ...headers }
})

/** A JSON body with status 200. */
export const json = (body: unknown, status = 200): Reply => respond(status, body)

/** The request fails before any response, like Node's fetch when a socket errors (`ECONNREFUSED`, `ECONNRESET`…). */
export const transportFailure = (code: string): Reply => ({ _tag: "FailTransport", code })

/** Headers arrive, then the connection breaks while the body is read. */
export const brokenBody = (status = 200, code = "ECONNRESET"): Reply => ({ _tag: "BreakBody", status, code })

/** The request is never answered (until interrupted). */
export const hang: Reply = { _tag: "Hang" }

/** The answer is decided by an effect, e.g. one that waits on a gate the test opens. */
export const awaiting = (effect: (request: RecordedRequest) => Effect.Effect<Reply>): Reply => ({ _tag: "Await", effect })

/** The error Node's fetch (undici) reports, with the system error code two levels down the cause chain. */
export const nodeFetchError = (code: string) =>
  Object.assign(new TypeError("fetch failed"), {
    cause: Object.assign(new Error(`${code.toLowerCase()} 127.0.0.1:443`), { code, errno: -1, syscall: "connect" })
  })

export interface FakeHttp {
  readonly client: HttpClient.HttpClient
  readonly layer: Layer.Layer<HttpClient.HttpClient>
  /** Every request that reached the fake, in order. */
  readonly requests: ReadonlyArray<RecordedRequest>
  /** Requests to `METHOD path`. */
  readonly requestsTo: (method: string, path: string) => ReadonlyArray<RecordedRequest>
  /** Requests waiting for their answer right now, and the most there ever were at once. */
  readonly inFlight: () => number
  readonly maxInFlight: () => number
  /** Scripts the answers to `METHOD path` (replaces any earlier script for it). */
  readonly route: (method: string, path: string, ...replies: ReadonlyArray<Reply>) => FakeHttp
}

const parseBody = (text: string | undefined): unknown => {
  if (text === undefined) return undefined
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

const bodyText = (request: HttpClientRequest.HttpClientRequest): string | undefined => {
  const body = request.body
  switch (body._tag) {
    case "Uint8Array":
      return new TextDecoder().decode(body.body)
    case "Raw":
      return typeof body.body === "string" ? body.body : String(body.body)
    case "Empty":
      return undefined
    default:
      return `<${body._tag} body>`
  }
}

/** Statuses a fetch `Response` may not carry a body with. */
const NULL_BODY = new Set([101, 204, 205, 304])

export const makeFakeHttp = (): FakeHttp => {
  const requests: Array<RecordedRequest> = []
  const routes = new Map<string, Array<Reply>>()
  let inFlight = 0
  let maxInFlight = 0

  const next = (key: string): Reply | undefined => {
    const script = routes.get(key)
    if (script === undefined || script.length === 0) return undefined
    return script.length > 1 ? script.shift() : script[0]
  }

  const answer = (
    request: HttpClientRequest.HttpClientRequest,
    recorded: RecordedRequest,
    reply: Reply
  ): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> => {
    switch (reply._tag) {
      case "Respond":
        return Effect.succeed(HttpClientResponse.fromWeb(
          request,
          new Response(NULL_BODY.has(reply.status) || request.method === "HEAD" ? null : reply.body, {
            status: reply.status,
            headers: reply.headers
          })
        ))
      case "FailTransport":
        return Effect.fail(
          new HttpClientError.RequestError({ request, reason: "Transport", cause: nodeFetchError(reply.code) })
        )
      case "BreakBody": {
        const stream = new ReadableStream<Uint8Array>({
          start: (controller) => controller.error(nodeFetchError(reply.code))
        })
        return Effect.succeed(HttpClientResponse.fromWeb(request, new Response(stream, { status: reply.status })))
      }
      case "Hang":
        return Effect.never
      case "Await":
        return Effect.flatMap(reply.effect(recorded), (decided) => answer(request, recorded, decided))
    }
  }

  const client = HttpClient.make((request, url) => {
    const text = bodyText(request)
    const recorded: RecordedRequest = {
      method: request.method,
      url: url.href,
      path: url.pathname,
      query: url.searchParams,
      headers: { ...request.headers },
      contentType: request.body._tag === "Empty" ? undefined : request.body.contentType,
      bodyText: text,
      body: parseBody(text)
    }
    requests.push(recorded)
    const reply = next(`${request.method} ${url.pathname}`) ??
      respond(599, `fake HttpClient: no route for ${request.method} ${url.pathname}`)
    return Effect.suspend(() => {
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      return answer(request, recorded, reply)
    }).pipe(Effect.ensuring(Effect.sync(() => inFlight--)))
  })

  const fake: FakeHttp = {
    client,
    layer: Layer.succeed(HttpClient.HttpClient, client),
    requests,
    requestsTo: (method, path) => requests.filter((r) => r.method === method && r.path === path),
    inFlight: () => inFlight,
    maxInFlight: () => maxInFlight,
    route: (method, path, ...replies) => {
      routes.set(`${method.toUpperCase()} ${path}`, [...replies])
      return fake
    }
  }
  return fake
}
