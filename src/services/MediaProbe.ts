/**
 * Looks at a media URL before the gateway is asked to send it: the gateway downloads the file
 * itself, and a dead or empty link otherwise surfaces as a vague failure (or a blank message).
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Context, Effect, Layer } from "effect"
import { EmptyMedia, MediaUnreachable } from "../errors/ChatKaziError.js"
import { ChatKaziConfig, type ChatKaziSettings } from "./ChatKaziConfig.js"
import { errorCode } from "./internal/errorCode.js"

export interface MediaFacts {
  /** The file's MIME type, from the server's `Content-Type`, when it gave one. */
  readonly mimetype?: string
  /** The file's size in bytes, when the server said. */
  readonly size?: number
}

export interface MediaProbeApi {
  readonly check: (url: string) => Effect.Effect<MediaFacts, EmptyMedia | MediaUnreachable>
}

export class MediaProbe extends Context.Tag("chatkazi-mcp/MediaProbe")<MediaProbe, MediaProbeApi>() {
  /** Checks over HTTP with a short timeout; private hosts are refused unless the gateway is on one too. */
  static readonly layer: Layer.Layer<MediaProbe, never, ChatKaziConfig | HttpClient.HttpClient> = Layer.effect(
    MediaProbe,
    Effect.gen(function*() {
      return MediaProbe.make(yield* ChatKaziConfig, yield* HttpClient.HttpClient)
    })
  )

  /** The same probe without a Layer, for a server that builds each caller's services per request. */
  static readonly make = (config: ChatKaziSettings, client: HttpClient.HttpClient): MediaProbeApi => {
    const gatewayIsLocal = isPrivateHost(new URL(config.baseUrl).hostname)
    return MediaProbe.of({
      check: (url) => checkMedia(client, url, { allowPrivate: gatewayIsLocal, timeoutMs: config.mediaCheckTimeoutMs })
    })
  }

  /** Trusts every URL; for tests and apps that check media their own way. */
  static readonly layerTrusting: Layer.Layer<MediaProbe> = Layer.succeed(MediaProbe, { check: () => Effect.succeed({}) })
}

interface ProbeOptions {
  readonly allowPrivate: boolean
  readonly timeoutMs: number
}

/** The reasons to refuse a media link without requesting it: not http(s), credentials, a private host. */
export const precheckMediaUrl = (raw: string, allowPrivate: boolean): Effect.Effect<URL, MediaUnreachable> => {
  const unreachable = (reason: string) => Effect.fail(new MediaUnreachable({ url: raw, reason }))
  if (!URL.canParse(raw)) return unreachable("it is not a URL")
  const url = new URL(raw)
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return unreachable(`only http and https links can be sent, not ${url.protocol}`)
  }
  if (url.username || url.password) return unreachable("it carries a user name or password")
  if (!allowPrivate && isPrivateHost(url.hostname)) {
    return unreachable(`${url.hostname} is a private or local address that ChatKazi cannot reach`)
  }
  return Effect.succeed(url)
}

const checkMedia = (client: HttpClient.HttpClient, raw: string, options: ProbeOptions) =>
  Effect.gen(function*() {
    const unreachable = (reason: string) => new MediaUnreachable({ url: raw, reason })
    const url = yield* precheckMediaUrl(raw, options.allowPrivate)
    const ask = (request: HttpClientRequest.HttpClientRequest) =>
      client.execute(request).pipe(
        Effect.map(factsOf),
        Effect.scoped,
        Effect.timeoutFail({
          duration: options.timeoutMs,
          onTimeout: () => unreachable(`its server did not answer within ${options.timeoutMs / 1000} s`)
        }),
        Effect.catchTag("RequestError", "ResponseError", (error) =>
          Effect.fail(unreachable(`its server could not be reached (${describe(error.cause) ?? error.reason})`)))
      )
    const head = yield* ask(HttpClientRequest.head(url))
    // Some servers answer HEAD for dynamic files with an error or a length of 0: only a GET of the
    // first byte settles either.
    const answer = head.status < 300 && head.size !== 0
      ? head
      : yield* ask(HttpClientRequest.get(url, { headers: { range: "bytes=0-0" } }))
    if (answer.size === 0) return yield* new EmptyMedia({ url: raw, gatewayMessage: undefined })
    if (answer.status >= 400) return yield* unreachable(`its server answered HTTP ${answer.status}`)
    return {
      ...(answer.mimetype === undefined ? {} : { mimetype: answer.mimetype }),
      ...(answer.size === undefined ? {} : { size: answer.size })
    }
  })

interface Answer extends MediaFacts {
  readonly status: number
}

const factsOf = (response: HttpClientResponse.HttpClientResponse): Answer => {
  const headers = response.headers
  const total = headers["content-range"]?.match(/\/\s*(\d+)\s*$/)?.[1]
  const length = response.status === 206 || response.status === 416 ? total : headers["content-length"] ?? total
  const mimetype = headers["content-type"]?.split(";")[0]?.trim().toLowerCase()
  return {
    status: response.status,
    ...(length === undefined ? {} : { size: Number(length) }),
    ...(mimetype ? { mimetype } : {})
  }
}

const describe = (cause: unknown): string | undefined => {
  const inner = cause instanceof Error && cause.cause instanceof Error ? cause.cause : cause
  return errorCode(cause) ?? (inner instanceof Error ? inner.message : undefined)
}

/** Loopback, private, link-local and carrier-grade NAT addresses, and `localhost` names. */
export const isPrivateHost = (hostname: string): boolean => {
  // A trailing dot ("localhost.") names the same host.
  const host = hostname.replace(/^\[|\]$/g, "").replace(/\.$/, "").toLowerCase()
  if (host === "localhost" || host.endsWith(".localhost") || host.endsWith(".local") || host.endsWith(".internal")) {
    return true
  }
  const v4 = host.replace(/^::ffff:/, "").match(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/)
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])]
    return a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127)
  }
  if (host.includes(":")) {
    return host === "::" || host === "::1" || /^f[cd][0-9a-f]{2}:/.test(host) || /^fe[89ab][0-9a-f]:/.test(host) ||
      /^::ffff:[0-9a-f]{1,4}:[0-9a-f]{1,4}$/.test(host)
  }
  return false
}
