/**
 * When the server is its own small OAuth authorization server, and with what settings.
 *
 * It is on in `http` mode with bring-your-own-key (no server `CHATKAZI_API_KEY`) when both
 * `CHATKAZI_PUBLIC_URL` and `CHATKAZI_SECRET` are set. The public URL is the origin users reach;
 * it must be https except on localhost/127.0.0.1 (local use and tests), which is also all the SDK's
 * auth router accepts. The secret derives the keys that encrypt stored ChatKazi keys and sign the
 * login form, so every replica given the same secret accepts every other replica's tokens.
 */
import { Config, Effect, Option, Redacted } from "effect"
import { MIN_SECRET_BYTES, parseSecret } from "../../services/WebhookConfig.js"
import { InvalidConfig } from "../../errors/ChatKaziError.js"
import { positiveInt, setting } from "../../services/ChatKaziConfig.js"
import { parsePublicUrl } from "../../services/PublicUrl.js"

export { MIN_SECRET_BYTES }

export interface OAuthSettings {
  /** The origin users reach, e.g. `https://mcp.example.com` (no trailing slash, no path). */
  readonly publicUrl: string
  /** At least 32 bytes; never logged. */
  readonly secret: Redacted.Redacted<string>
  /** How long an access token lives (default one hour; CHATKAZI_OAUTH_ACCESS_TOKEN_SECONDS). */
  readonly accessTokenTtlMs: number
  /** How long a refresh token lives unused (default 30 days); each use rotates it. */
  readonly refreshTokenTtlMs: number
  /** How long an authorization code lives (default and at most 60 seconds). */
  readonly codeTtlMs: number
  /** How long a registered client is kept after its last registration or sign-in (default 90 days). */
  readonly clientTtlMs: number
}

export const DEFAULT_TTLS = {
  accessTokenTtlMs: 60 * 60 * 1000,
  refreshTokenTtlMs: 30 * 24 * 60 * 60 * 1000,
  codeTtlMs: 60 * 1000,
  clientTtlMs: 90 * 24 * 60 * 60 * 1000
} as const

/** Settings from values a caller already has; checks them the way the environment is checked. */
export const makeOAuthSettings = (
  input: { readonly publicUrl: string; readonly secret: string } & Partial<Omit<OAuthSettings, "publicUrl" | "secret">>
): Effect.Effect<OAuthSettings, InvalidConfig> =>
  Effect.gen(function*() {
    const publicUrl = yield* parsePublicUrl(input.publicUrl)
    const secret = yield* checkSecret(input.secret)
    const codeTtlMs = Math.min(input.codeTtlMs ?? DEFAULT_TTLS.codeTtlMs, DEFAULT_TTLS.codeTtlMs)
    return {
      ...DEFAULT_TTLS,
      ...input,
      codeTtlMs,
      publicUrl,
      secret
    }
  })

/**
 * Reads the OAuth settings from the environment: `None` when OAuth login is off (a server key is
 * set, or the public URL or the secret is missing), an `InvalidConfig` when a value is unusable.
 */
export const loadOAuthSettings: Effect.Effect<Option.Option<OAuthSettings>, InvalidConfig> = Effect.gen(function*() {
  const serverKey = yield* setting("CHATKAZI_API_KEY", Config.string("CHATKAZI_API_KEY").pipe(Config.withDefault("")))
  const publicUrl = yield* setting("CHATKAZI_PUBLIC_URL", Config.string("CHATKAZI_PUBLIC_URL").pipe(Config.withDefault("")))
  const secret = (yield* setting("CHATKAZI_SECRET", Config.string("CHATKAZI_SECRET").pipe(Config.withDefault("")))).trim()
  if (serverKey.trim() !== "" || (publicUrl.trim() === "" && secret === "")) return Option.none()
  if (publicUrl.trim() === "" || secret === "") {
    const missing = publicUrl.trim() === "" ? "CHATKAZI_PUBLIC_URL" : "CHATKAZI_SECRET"
    yield* Effect.logWarning(`OAuth login for connectors is off because ${missing} is not set`)
    return Option.none()
  }
  const accessTokenSeconds = yield* positiveInt("CHATKAZI_OAUTH_ACCESS_TOKEN_SECONDS", DEFAULT_TTLS.accessTokenTtlMs / 1000)
  return Option.some(yield* makeOAuthSettings({ publicUrl, secret, accessTokenTtlMs: accessTokenSeconds * 1000 }))
})

/** The one rule for CHATKAZI_SECRET (WebhookConfig's), and here it must be set. */
const checkSecret = (secret: string): Effect.Effect<Redacted.Redacted<string>, InvalidConfig> =>
  parseSecret(secret).pipe(
    Effect.flatMap(Option.match({
      onNone: () =>
        Effect.fail(new InvalidConfig({ setting: "CHATKAZI_SECRET", problem: "it is empty; generate one with `openssl rand -hex 32`" })),
      onSome: Effect.succeed
    }))
  )
