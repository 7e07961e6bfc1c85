/**
 * `CHATKAZI_PUBLIC_URL`: the origin users and ChatKazi reach the http-mode server at. One reading
 * for everything built on it: the OAuth issuer and resource, and the webhook URL.
 *
 * It must be https, except on localhost and 127.0.0.1 (local use and tests), which is also all the
 * MCP SDK's auth router accepts for an issuer; and an origin only: the OAuth metadata and the
 * webhook route sit at fixed paths from the root.
 */
import { Config, Effect, Option } from "effect"
import { InvalidConfig } from "../errors/ChatKaziError.js"
import { setting } from "./ChatKaziConfig.js"

/** The origin, without a trailing slash, or why `raw` is not one. */
export const parsePublicUrl = (raw: string): Effect.Effect<string, InvalidConfig> => {
  const invalid = (problem: string) => new InvalidConfig({ setting: "CHATKAZI_PUBLIC_URL", problem })
  const trimmed = raw.trim()
  if (!URL.canParse(trimmed)) {
    return Effect.fail(invalid(`"${trimmed}" is not a URL; use the https origin users reach, e.g. https://mcp.example.com`))
  }
  const url = new URL(trimmed)
  const loopback = url.hostname === "localhost" || url.hostname === "127.0.0.1"
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    return Effect.fail(invalid("it must be an https URL (http is allowed only for localhost and 127.0.0.1)"))
  }
  if (url.pathname !== "/" || url.search || url.hash || url.username || url.password) {
    return Effect.fail(invalid("it must be an origin only (like https://mcp.example.com), without a path, query or fragment"))
  }
  return Effect.succeed(url.origin)
}

/** `CHATKAZI_PUBLIC_URL` from the environment: none when unset, an `InvalidConfig` when unusable. */
export const readPublicUrl: Effect.Effect<Option.Option<string>, InvalidConfig> = setting(
  "CHATKAZI_PUBLIC_URL",
  Config.string("CHATKAZI_PUBLIC_URL").pipe(Config.withDefault(""))
).pipe(
  Effect.flatMap((raw) => raw.trim() === "" ? Effect.succeedNone : Effect.asSome(parsePublicUrl(raw)))
)
