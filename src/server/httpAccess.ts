/**
 * Who may call the HTTP server, and with which ChatKazi key each call goes upstream.
 *
 * - Bring-your-own-key (no `CHATKAZI_API_KEY` on the server): the bearer token IS the caller's
 *   ChatKazi key, used for that request only.
 * - Shared key (`CHATKAZI_API_KEY` set): callers prove themselves with one of `CHATKAZI_HTTP_TOKENS`
 *   and every call uses the server's key. Without tokens, only a loopback bind is allowed (anyone
 *   who can reach it could spend the key).
 *
 * Keys and tokens stay `Redacted`, or are kept only as SHA-256 digests, and never reach a log line.
 */
import { Config, Effect, Option, Redacted } from "effect"
import { createHash, timingSafeEqual } from "node:crypto"
import { InvalidConfig } from "../errors/ChatKaziError.js"
import { setting } from "../services/ChatKaziConfig.js"
import { bearerToken, isWellFormedKey, MALFORMED_KEY } from "../services/Credentials.js"
import { isOurs as isOAuthToken } from "./oauth/tokens.js"

export type HttpAccess =
  | { readonly _tag: "OwnKey" }
  | {
    readonly _tag: "SharedKey"
    readonly apiKey: Redacted.Redacted<string>
    /** SHA-256 digests of `CHATKAZI_HTTP_TOKENS`; empty means open (loopback only). */
    readonly tokenDigests: ReadonlyArray<Buffer>
  }

export type Admission =
  | { readonly _tag: "Admitted"; readonly apiKey: Redacted.Redacted<string> }
  /** Answered with 401; `challenge` is its `WWW-Authenticate` value when the refusal has its own. */
  | { readonly _tag: "Refused"; readonly reason: string; readonly challenge?: string }
  /** Who it is cannot be told right now (e.g. the token store is unreachable): 503, try again. */
  | { readonly _tag: "Unavailable"; readonly reason: string }

/** Tokens shorter than this are guessable; refuse them at start rather than run with them. */
const MIN_TOKEN_LENGTH = 16

export const isLoopback = (host: string): boolean => {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase()
  return bare === "localhost" || bare === "::1" || /^127(\.\d{1,3}){3}$/.test(bare)
}

/** Reads the access mode from the environment; `host` is where the server will listen. */
export const readHttpAccess = (host: string): Effect.Effect<HttpAccess, InvalidConfig> =>
  Effect.gen(function*() {
    const apiKey = (yield* setting("CHATKAZI_API_KEY", Config.string("CHATKAZI_API_KEY").pipe(Config.withDefault(""))))
      .trim()
    const tokens = (yield* setting(
      "CHATKAZI_HTTP_TOKENS",
      Config.string("CHATKAZI_HTTP_TOKENS").pipe(Config.withDefault(""))
    )).split(",").map((token) => token.trim()).filter((token) => token !== "")

    if (apiKey === "") {
      if (tokens.length > 0) {
        return yield* new InvalidConfig({
          setting: "CHATKAZI_HTTP_TOKENS",
          problem: "it is set but CHATKAZI_API_KEY is not. Tokens guard a shared key: set CHATKAZI_API_KEY too, or " +
            "unset CHATKAZI_HTTP_TOKENS to let each caller bring their own ChatKazi key"
        })
      }
      return { _tag: "OwnKey" } as const
    }
    if (!isWellFormedKey(apiKey)) {
      return yield* new InvalidConfig({
        setting: "CHATKAZI_API_KEY",
        problem: `${MALFORMED_KEY}; copy the key again from the ChatKazi dashboard`
      })
    }
    const weak = tokens.findIndex((token) => token.length < MIN_TOKEN_LENGTH || !isWellFormedKey(token))
    if (weak >= 0) {
      return yield* new InvalidConfig({
        setting: "CHATKAZI_HTTP_TOKENS",
        problem: `token ${weak + 1} is shorter than ${MIN_TOKEN_LENGTH} characters or contains spaces or control ` +
          "characters; use long random tokens (e.g. `openssl rand -hex 32`)"
      })
    }
    if (tokens.length === 0 && !isLoopback(host)) {
      return yield* new InvalidConfig({
        setting: "CHATKAZI_HTTP_TOKENS",
        problem: `it is empty, so anyone who can reach ${host} could send WhatsApp messages with the server's ` +
          "CHATKAZI_API_KEY. Set CHATKAZI_HTTP_TOKENS (comma-separated) or listen on 127.0.0.1 only"
      })
    }
    return { _tag: "SharedKey", apiKey: Redacted.make(apiKey), tokenDigests: tokens.map(digest) } as const
  })

/** Decides from the `Authorization` header whether a request may go on, and with which ChatKazi key. */
export const admit = (access: HttpAccess, authorization: string | undefined): Admission => {
  const bearer = Option.fromNullable(bearerToken(authorization)).pipe(Option.filter(isWellFormedKey))
  switch (access._tag) {
    case "OwnKey":
      return Option.match(bearer, {
        onNone: () => refused("send your ChatKazi API key as \"Authorization: Bearer <key>\""),
        // An OAuth token from when login was on (or from another server) is never sent to ChatKazi as a key.
        onSome: (key) =>
          isOAuthToken(key)
            ? refused("this server has no OAuth login; send your ChatKazi API key as \"Authorization: Bearer <key>\"")
            : { _tag: "Admitted", apiKey: Redacted.make(key) }
      })
    case "SharedKey":
      if (access.tokenDigests.length === 0) return { _tag: "Admitted", apiKey: access.apiKey }
      return Option.isSome(bearer) && isOneOf(digest(bearer.value), access.tokenDigests)
        ? { _tag: "Admitted", apiKey: access.apiKey }
        : refused("send one of this server's access tokens (CHATKAZI_HTTP_TOKENS) as \"Authorization: Bearer <token>\"")
  }
}

/** For the line printed at start: which mode, never a secret. */
export const describeAccess = (access: HttpAccess): string =>
  access._tag === "OwnKey"
    ? "bring-your-own-key (each request's bearer token is its ChatKazi API key)"
    : access.tokenDigests.length === 0
    ? "shared key, no tokens (loopback only)"
    : `shared key, ${access.tokenDigests.length} access token(s)`

const refused = (reason: string): Admission => ({ _tag: "Refused", reason })

const digest = (token: string): Buffer => createHash("sha256").update(token).digest()

/** Compares against every digest, always all of them, in constant time each. */
const isOneOf = (candidate: Buffer, digests: ReadonlyArray<Buffer>): boolean =>
  digests.reduce((found, known) => timingSafeEqual(candidate, known) || found, false)
