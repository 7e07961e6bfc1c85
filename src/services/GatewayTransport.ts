/**
 * One HTTP exchange with the gateway, reduced to what ChatKazi reads: the status, the body text and
 * two headers, within `timeoutMs`. Two ways to make it: on `fetch` directly (the server's: one Effect
 * operation a request, its timer a plain timer), or on any `@effect/platform` `HttpClient` (the
 * sandbox's, the tests' fakes; its timeout runs on the `Clock`, so `TestClock` drives it). Neither
 * follows a redirect: a cross-origin redirect would carry the x-api-key header along.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type { HttpClientError } from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { Effect, Option } from "effect"
import { Timeout } from "../errors/ChatKaziError.js"
import type { GatewayAnswer } from "./internal/GatewayResponse.js"

export interface GatewayRequest {
  readonly method: "GET" | "POST"
  /** The full URL, query included. */
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  /** A JSON body, already encoded. */
  readonly body?: string | undefined
}

/**
 * Why no answer arrived: while sending (`request`; `reason` "Transport" means the network, anything
 * else that the request never left) or while reading the answer (`response`).
 */
export interface TransportFailure {
  readonly stage: "request" | "response"
  readonly reason: string
  readonly cause: unknown
}

/** The longest delay a Node timer keeps (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647

export type GatewayTransport = (request: GatewayRequest) => Effect.Effect<GatewayAnswer, TransportFailure | Timeout>

/** `init`, with redirects handed back instead of followed: the caller's options cannot turn that off. */
const withoutRedirects = (init: Option.Option<globalThis.RequestInit>): globalThis.RequestInit => ({
  ...Option.getOrElse(init, () => ({})),
  redirect: "manual"
})

const answerOf = (status: number, body: string, headers: (name: string) => string | null | undefined): GatewayAnswer => ({
  status,
  body,
  retryAfter: headers("retry-after") ?? undefined,
  location: headers("location") ?? undefined
})

/**
 * On `fetch` itself: sending, reading the body and the timer are one asynchronous operation;
 * interrupting it or running out of time aborts the request. `init` is merged into every request's
 * options.
 */
export const fetchTransport = (
  timeoutMs: number,
  init: Option.Option<globalThis.RequestInit> = Option.none(),
  fetch: typeof globalThis.fetch = globalThis.fetch
): GatewayTransport => {
  const options = withoutRedirects(init)
  return (request) =>
    Effect.async<GatewayAnswer, TransportFailure | Timeout>((resume) => {
      const controller = new AbortController()
      let settled = false
      const settle = (outcome: Effect.Effect<GatewayAnswer, TransportFailure | Timeout>) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resume(outcome)
      }
      // Node fires a longer delay after 1 ms; such a setting means no timeout, as Effect reads it.
      const timer = timeoutMs > MAX_TIMER_MS ? undefined : setTimeout(() => {
        settle(Effect.fail(new Timeout({ timeoutMs })))
        controller.abort()
      }, timeoutMs)
      const { signal } = controller
      fetch(request.url, { ...options, method: request.method, headers: request.headers, body: request.body ?? null, signal })
        .then(
          (response) =>
            response.text().then(
              (body) => settle(Effect.succeed(answerOf(response.status, body, (name) => response.headers.get(name)))),
              (cause) => settle(Effect.fail({ stage: "response", reason: "Decode", cause }))
            ),
          (cause) => settle(Effect.fail({ stage: "request", reason: "Transport", cause }))
        )
      return Effect.sync(() => {
        settled = true
        clearTimeout(timer)
        controller.abort()
      })
    })
}

/**
 * On any `HttpClient`, with its own tracing off (it would open a span and send b3/traceparent
 * headers to ChatKazi on every request). `init` reaches the platform's fetch client; other clients
 * ignore it.
 */
export const httpClientTransport = (
  httpClient: HttpClient.HttpClient,
  timeoutMs: number,
  init: Option.Option<globalThis.RequestInit> = Option.none()
): GatewayTransport => {
  const client = HttpClient.withTracerDisabledWhen(httpClient, () => true)
  const options = withoutRedirects(init)
  return (request) => {
    const base = HttpClientRequest.make(request.method)(request.url, { headers: request.headers })
    const withBody = request.body === undefined
      ? base
      : HttpClientRequest.bodyText(base, request.body, request.headers["content-type"])
    return client.execute(withBody).pipe(
      Effect.flatMap((response) =>
        Effect.map(response.text, (body) => answerOf(response.status, body, (name) => response.headers[name]))
      ),
      Effect.provideService(FetchHttpClient.RequestInit, options),
      Effect.mapError((error: HttpClientError): TransportFailure => ({
        stage: error._tag === "RequestError" ? "request" : "response",
        reason: error.reason,
        cause: error.cause
      })),
      Effect.timeoutFail({ duration: timeoutMs, onTimeout: () => new Timeout({ timeoutMs }) })
    )
  }
}
