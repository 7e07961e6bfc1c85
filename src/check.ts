/**
 * `chatkazi-mcp check`: reads the settings the server would read, asks ChatKazi for the session
 * list once, and says for each setting and for the key whether it works. Exit 0 only when all do.
 * The key itself is never printed.
 */
import type { HttpClient } from "@effect/platform"
import { Config, Console, Effect, Either, Layer, Option, Redacted } from "effect"
import type { ChatKaziError } from "./errors/ChatKaziError.js"
import { ChatKazi } from "./services/ChatKazi.js"
import { ChatKaziConfig, connectionSettings, nonNegativeInt, setting } from "./services/ChatKaziConfig.js"
import { DEFAULT_LINKING_SETTINGS } from "./services/Linking.js"
import { parseRedisUrl } from "./services/RedisStore.js"
import { safetySettings } from "./services/SafetyConfig.js"
import { webhookSettings } from "./services/WebhookConfig.js"

/** The settings of linking and of shared state, read the way the server reads them. */
const otherSettings = {
  CHATKAZI_QR_WAIT_SECONDS: nonNegativeInt("CHATKAZI_QR_WAIT_SECONDS", DEFAULT_LINKING_SETTINGS.qrWaitSeconds),
  CHATKAZI_REDIS_URL: setting("CHATKAZI_REDIS_URL", Config.option(Config.redacted("CHATKAZI_REDIS_URL"))).pipe(
    Effect.flatMap(Option.match({
      onNone: () => Effect.succeed("not set: state in this process's memory"),
      onSome: (url) =>
        Redacted.value(url).trim() === ""
          ? Effect.succeed("not set: state in this process's memory")
          : Effect.map(parseRedisUrl(url), (parsed) => parsed.description)
    }))
  )
}

/** The receiving settings, in words: a bad one turns receiving off (the rest still works). */
const receivingSettings = {
  CHATKAZI_SECRET: Effect.map(webhookSettings.CHATKAZI_SECRET, Option.match({
    onNone: () => "not set: receiving incoming messages is off",
    onSome: () => "set (not shown)"
  })),
  CHATKAZI_WEBHOOK_PORT: Effect.map(webhookSettings.CHATKAZI_WEBHOOK_PORT, Option.match({
    onNone: () => "not set: no webhook listener (stdio mode)",
    onSome: (port) => port === 0 ? "a free port, picked at start" : `port ${port}`
  })),
  CHATKAZI_WEBHOOK_HOST: webhookSettings.CHATKAZI_WEBHOOK_HOST,
  CHATKAZI_PUBLIC_URL: Effect.map(webhookSettings.CHATKAZI_PUBLIC_URL, Option.getOrElse(() => "not set"))
}

type Verdict = { readonly ok: boolean; readonly name: string; readonly text: string }

const show = (name: string, value: unknown): string => {
  if (Redacted.isRedacted(value)) return "set (not shown)"
  if (Option.isOption(value)) {
    return Option.match(value, { onNone: () => "anyone (no allowlist)", onSome: (list) => String(list) })
  }
  if (name === "CHATKAZI_READ_ONLY") return value ? "on: only the tools that change nothing" : "off"
  return String(value)
}

const readAll = <S extends Record<string, Effect.Effect<unknown, ChatKaziError>>>(settings: S) =>
  Effect.forEach(Object.entries(settings), ([name, read]) =>
    Effect.map(Effect.either(read), (result): Verdict =>
      Either.match(result, {
        onLeft: (error) => ({
          ok: false,
          name,
          text: error._tag === "InvalidConfig"
            ? `invalid: ${error.problem}`
            : "not set: copy your key from the ChatKazi dashboard into the \"env\" block of the MCP host config " +
              "(or try npx chatkazi-mcp --sandbox, which needs none)"
        }),
        onRight: (value) => ({ ok: true, name, text: `ok: ${show(name, value)}` })
      })))

/** What one list_sessions call says about the key and the address. */
const keyVerdict = (error: ChatKaziError): Verdict => {
  switch (error._tag) {
    case "Unauthorized":
      return {
        ok: false,
        name: "API key",
        text: `rejected by ChatKazi (HTTP ${error.status}${error.gatewayMessage ? `: "${error.gatewayMessage}"` : ""}); ` +
          "copy it again from the ChatKazi dashboard"
      }
    case "Transport":
    case "Timeout":
    case "UpstreamUnavailable":
      return { ok: false, name: "API key", text: `unreachable, so not checked: ${error.message}` }
    case "InvalidConfig":
      return { ok: false, name: error.setting, text: `wrong: ${error.problem}` }
    default:
      return { ok: false, name: "API key", text: `not confirmed, ChatKazi answered unexpectedly: ${error.message}` }
  }
}

const callOnce = Effect.gen(function*() {
  const chatKazi = yield* ChatKazi
  return yield* Effect.either(chatKazi.listSessions)
})

/** Prints a verdict per setting and for the key; succeeds with whether everything works. */
export const runCheck: Effect.Effect<boolean, never, HttpClient.HttpClient> = Effect.gen(function*() {
  const settings = [
    ...yield* readAll(connectionSettings),
    ...yield* readAll(safetySettings),
    ...yield* readAll(otherSettings),
    ...yield* readAll(receivingSettings)
  ]
  const config = yield* Effect.either(Effect.all(connectionSettings))
  const key: Verdict = Either.isLeft(config)
    ? { ok: false, name: "API key", text: "not checked: fix the settings above first" }
    : yield* callOnce.pipe(
      Effect.provide(ChatKazi.layer.pipe(
        Layer.provide(Layer.succeed(
          ChatKaziConfig,
          ChatKaziConfig.of({
            apiKey: config.right.CHATKAZI_API_KEY,
            baseUrl: config.right.CHATKAZI_BASE_URL,
            timeoutMs: config.right.CHATKAZI_TIMEOUT_MS,
            // One call: a verdict, not a retry loop.
            maxRetries: 0,
            retryBaseDelayMs: 0,
            maxRetryAfterMs: 0,
            maxConcurrency: 1,
            mediaCheckTimeoutMs: config.right.CHATKAZI_MEDIA_CHECK_TIMEOUT_MS
          })
        ))
      )),
      Effect.map(Either.match({
        onLeft: keyVerdict,
        onRight: (sessions): Verdict => ({
          ok: true,
          name: "API key",
          text: `valid: ChatKazi at ${config.right.CHATKAZI_BASE_URL} listed ${sessions.length} session(s)`
        })
      }))
    )
  const verdicts = [...settings, key]
  const width = Math.max(...verdicts.map((v) => v.name.length)) + 2
  yield* Console.log(verdicts.map((v) => `${v.ok ? "✓" : "✗"} ${v.name.padEnd(width)}${v.text}`).join("\n"))
  const problems = verdicts.filter((v) => !v.ok).length
  yield* Console.log(
    problems === 0
      ? "\nEverything works: an MCP host can start chatkazi-mcp with these settings."
      : `\n${problems} problem(s). Fix them where the settings are set (the "env" block of the MCP host config) and run the check again.`
  )
  return problems === 0
})
