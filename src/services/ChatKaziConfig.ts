/**
 * How to reach the ChatKazi gateway, read from the environment with Effect `Config`.
 * The API key stays `Redacted` until the request header is set.
 */
import { Config, ConfigError, Context, Effect, Layer, Option, Redacted } from "effect"
import { InvalidConfig, MissingApiKey } from "../errors/ChatKaziError.js"
import { isWellFormedKey, MALFORMED_KEY } from "./Credentials.js"

export const DEFAULT_BASE_URL = "https://api.chatkazi.app/api/v1"

export interface ChatKaziSettings {
  readonly apiKey: Redacted.Redacted<string>
  /** Absolute http(s) URL without a trailing slash. */
  readonly baseUrl: string
  /** Bound on every single request to the gateway. */
  readonly timeoutMs: number
  /** Extra attempts for reads that failed transiently (so `2` means at most three requests). */
  readonly maxRetries: number
  /** First backoff delay; it doubles, with jitter, on each retry. */
  readonly retryBaseDelayMs: number
  /** The longest `Retry-After` worth waiting for inside one tool call. */
  readonly maxRetryAfterMs: number
  /** Requests in flight to the gateway at once; the rest queue. */
  readonly maxConcurrency: number
  /** Bound on the check of a media URL before it is handed to the gateway. */
  readonly mediaCheckTimeoutMs: number
}

/** Reads one setting, turning Effect's `ConfigError` into an `InvalidConfig` that names it. */
export const setting = <A>(name: string, config: Config.Config<A>) =>
  Effect.mapError(config, (error) => new InvalidConfig({ setting: name, problem: describeConfigError(error) }))

export const positiveInt = (name: string, fallback: number) =>
  integer(name, fallback, 1)

export const nonNegativeInt = (name: string, fallback: number) =>
  integer(name, fallback, 0)

/** A blank value (a template's `"NAME": ""`) counts as unset: `Config.integer` would read it as 0. */
const integer = (name: string, fallback: number, min: number) =>
  setting(name, Config.string(name).pipe(Config.withDefault(""))).pipe(
    Effect.flatMap((raw) => raw.trim() === "" ? Effect.succeed(fallback) : setting(name, Config.integer(name))),
    Effect.filterOrFail(
      (n) => n >= min,
      (n) => new InvalidConfig({ setting: name, problem: `expected a whole number of at least ${min}, got ${n}` })
    )
  )

export const parseBaseUrl = (raw: string): Effect.Effect<string, InvalidConfig> => {
  const invalid = (problem: string) => new InvalidConfig({ setting: "CHATKAZI_BASE_URL", problem })
  const trimmed = raw.trim()
  if (!URL.canParse(trimmed)) {
    // What looks like "user:password@" is left out of the quote: the message reaches logs and the model.
    const shown = trimmed.replace(/^([^/]*\/\/)[^/?#]*@/, "$1…@")
    return Effect.fail(invalid(`"${shown}" is not a URL; use something like ${DEFAULT_BASE_URL}`))
  }
  const url = new URL(trimmed)
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return Effect.fail(invalid(`it must be an http(s) URL, got "${url.protocol}"`))
  }
  // The base URL is shown in the ready line, in transport errors the model reads and by `check`:
  // no place for a password. The gateway takes the API key as a header anyway.
  if (url.username !== "" || url.password !== "") {
    return Effect.fail(invalid("it must not carry a user name or password; the API key goes in CHATKAZI_API_KEY"))
  }
  if (url.search || url.hash) {
    return Effect.fail(invalid("it must not carry a query string or fragment"))
  }
  return Effect.succeed(url.href.replace(/\/+$/, ""))
}

const describeConfigError = (error: ConfigError.ConfigError): string =>
  ConfigError.isInvalidData(error)
    ? error.message
    : ConfigError.isMissingData(error)
    ? "it is missing"
    : String(error).replace(/^\(?Invalid data at \w+: ?/, "")

/** The API key: set, and nothing a header cannot carry. */
const apiKey = Effect.gen(function*() {
  const raw = yield* setting("CHATKAZI_API_KEY", Config.option(Config.redacted("CHATKAZI_API_KEY")))
  const key = Option.isNone(raw) ? "" : Redacted.value(raw.value).trim()
  if (key === "") return yield* new MissingApiKey()
  if (!isWellFormedKey(key)) {
    return yield* new InvalidConfig({
      setting: "CHATKAZI_API_KEY",
      problem: `${MALFORMED_KEY}; copy the key again from the ChatKazi dashboard`
    })
  }
  return Redacted.make(key)
})

/** Each setting of the connection to the gateway, by its variable's name, read on its own. */
export const connectionSettings = {
  CHATKAZI_API_KEY: apiKey,
  CHATKAZI_BASE_URL: setting(
    "CHATKAZI_BASE_URL",
    Config.string("CHATKAZI_BASE_URL").pipe(Config.withDefault(DEFAULT_BASE_URL))
  ).pipe(Effect.flatMap(parseBaseUrl)),
  CHATKAZI_TIMEOUT_MS: positiveInt("CHATKAZI_TIMEOUT_MS", 30_000),
  CHATKAZI_MAX_RETRIES: nonNegativeInt("CHATKAZI_MAX_RETRIES", 2),
  CHATKAZI_RETRY_BASE_DELAY_MS: nonNegativeInt("CHATKAZI_RETRY_BASE_DELAY_MS", 250),
  CHATKAZI_MAX_RETRY_AFTER_MS: nonNegativeInt("CHATKAZI_MAX_RETRY_AFTER_MS", 10_000),
  CHATKAZI_MAX_CONCURRENCY: positiveInt("CHATKAZI_MAX_CONCURRENCY", 8),
  CHATKAZI_MEDIA_CHECK_TIMEOUT_MS: positiveInt("CHATKAZI_MEDIA_CHECK_TIMEOUT_MS", 5_000)
}

const { CHATKAZI_API_KEY: _, ...gatewaySettings } = connectionSettings

type GatewayRead = { readonly [K in keyof typeof gatewaySettings]: Effect.Effect.Success<(typeof gatewaySettings)[K]> }

const fromRead = (read: GatewayRead): Omit<ChatKaziSettings, "apiKey"> => ({
  baseUrl: read.CHATKAZI_BASE_URL,
  timeoutMs: read.CHATKAZI_TIMEOUT_MS,
  maxRetries: read.CHATKAZI_MAX_RETRIES,
  retryBaseDelayMs: read.CHATKAZI_RETRY_BASE_DELAY_MS,
  maxRetryAfterMs: read.CHATKAZI_MAX_RETRY_AFTER_MS,
  maxConcurrency: read.CHATKAZI_MAX_CONCURRENCY,
  mediaCheckTimeoutMs: read.CHATKAZI_MEDIA_CHECK_TIMEOUT_MS
})

export class ChatKaziConfig extends Context.Tag("chatkazi-mcp/ChatKaziConfig")<ChatKaziConfig, ChatKaziSettings>() {
  /** Reads `CHATKAZI_*` from the environment (or the current `ConfigProvider`). */
  static readonly layer: Layer.Layer<ChatKaziConfig, MissingApiKey | InvalidConfig> = Layer.effect(
    ChatKaziConfig,
    Effect.map(Effect.all(connectionSettings), (read) => ({ apiKey: read.CHATKAZI_API_KEY, ...fromRead(read) }))
  )

  /** Every setting but the key: what all callers of an HTTP server share when each brings their own key. */
  static readonly sharedSettings: Effect.Effect<Omit<ChatKaziSettings, "apiKey">, InvalidConfig> = Effect.map(
    Effect.all(gatewaySettings),
    fromRead
  )

  /** Settings for tests and embedding apps: defaults filled in, any of them overridden. */
  static readonly make = (settings: Partial<Omit<ChatKaziSettings, "apiKey">> & { readonly apiKey: string }) =>
    ChatKaziConfig.of({
      timeoutMs: 30_000,
      maxRetries: 2,
      retryBaseDelayMs: 250,
      maxRetryAfterMs: 10_000,
      maxConcurrency: 8,
      mediaCheckTimeoutMs: 5_000,
      ...settings,
      baseUrl: Effect.runSync(parseBaseUrl(settings.baseUrl ?? DEFAULT_BASE_URL)),
      apiKey: Redacted.make(settings.apiKey)
    })
}
