/**
 * The guards that protect the user's WhatsApp number, read from the environment.
 */
import { Config, Context, Effect, Layer, Option } from "effect"
import { InvalidConfig } from "../errors/ChatKaziError.js"
import { nonNegativeInt, positiveInt, setting } from "./ChatKaziConfig.js"

export interface SafetySettings {
  /** A repeat of the same send within this many seconds returns the first receipt; 0 turns it off. */
  readonly dedupeWindowSeconds: number
  /** Sends per session in any sliding minute. */
  readonly maxSendsPerMinute: number
  /** Numbers (`254712345678`) or prefixes (`2547*`) that may receive messages; none means anyone. */
  readonly allowedRecipients: Option.Option<ReadonlyArray<string>>
  /** Only the tools that change nothing are listed and callable. */
  readonly readOnly: boolean
  /**
   * When the user must approve a send: `auto` asks when the client can ask them, `always` also makes
   * a client that cannot ask repeat the call with a one-time code, `never` sends without asking.
   */
  readonly confirmSends: ConfirmSends
  /** How long a question to the user may stay unanswered before the send is dropped. */
  readonly confirmTimeoutSeconds: number
}

export const CONFIRM_SENDS = ["auto", "always", "never"] as const
export type ConfirmSends = (typeof CONFIRM_SENDS)[number]

/** Each safety setting, by its variable's name, read on its own. */
export const safetySettings = {
  CHATKAZI_DEDUPE_WINDOW_SECONDS: nonNegativeInt("CHATKAZI_DEDUPE_WINDOW_SECONDS", 30),
  CHATKAZI_MAX_SENDS_PER_MINUTE: positiveInt("CHATKAZI_MAX_SENDS_PER_MINUTE", 20),
  CHATKAZI_ALLOWED_RECIPIENTS: setting(
    "CHATKAZI_ALLOWED_RECIPIENTS",
    Config.option(Config.string("CHATKAZI_ALLOWED_RECIPIENTS"))
  ).pipe(Effect.flatMap(Option.match({ onNone: () => Effect.succeedNone, onSome: (raw) => parseAllowlist(raw) }))),
  CHATKAZI_READ_ONLY: setting("CHATKAZI_READ_ONLY", Config.boolean("CHATKAZI_READ_ONLY").pipe(Config.withDefault(false))),
  CHATKAZI_CONFIRM_SENDS: setting(
    "CHATKAZI_CONFIRM_SENDS",
    Config.string("CHATKAZI_CONFIRM_SENDS").pipe(Config.withDefault(""))
  ).pipe(Effect.flatMap((raw) => parseConfirmSends(raw))),
  CHATKAZI_CONFIRM_TIMEOUT_SECONDS: positiveInt("CHATKAZI_CONFIRM_TIMEOUT_SECONDS", 120)
}

export class SafetyConfig extends Context.Tag("chatkazi-mcp/SafetyConfig")<SafetyConfig, SafetySettings>() {
  static readonly layer: Layer.Layer<SafetyConfig, InvalidConfig> = Layer.effect(
    SafetyConfig,
    Effect.map(Effect.all(safetySettings), (read) => ({
      dedupeWindowSeconds: read.CHATKAZI_DEDUPE_WINDOW_SECONDS,
      maxSendsPerMinute: read.CHATKAZI_MAX_SENDS_PER_MINUTE,
      allowedRecipients: read.CHATKAZI_ALLOWED_RECIPIENTS,
      readOnly: read.CHATKAZI_READ_ONLY,
      confirmSends: read.CHATKAZI_CONFIRM_SENDS,
      confirmTimeoutSeconds: read.CHATKAZI_CONFIRM_TIMEOUT_SECONDS
    }))
  )

  static readonly make = (settings: Partial<SafetySettings> = {}) =>
    SafetyConfig.of({
      dedupeWindowSeconds: 30,
      maxSendsPerMinute: 20,
      allowedRecipients: Option.none(),
      readOnly: false,
      confirmSends: "auto",
      confirmTimeoutSeconds: 120,
      ...settings
    })
}

/** A blank value counts as unset, like the other settings; the words are read case-insensitively. */
const parseConfirmSends = (raw: string): Effect.Effect<ConfirmSends, InvalidConfig> => {
  const value = raw.trim().toLowerCase()
  if (value === "") return Effect.succeed("auto")
  return (CONFIRM_SENDS as ReadonlyArray<string>).includes(value)
    ? Effect.succeed(value as ConfirmSends)
    : Effect.fail(
      new InvalidConfig({
        setting: "CHATKAZI_CONFIRM_SENDS",
        problem: `expected auto, always or never, got "${raw.trim()}"`
      })
    )
}

/**
 * Numbers and `prefix*` entries. An entry that is not a number fails the whole setting: silently
 * dropping it could leave an empty list, which would mean "anyone" — the guard failing open. A lone
 * `*` (or a blank value) says "anyone" explicitly.
 */
const parseAllowlist = (raw: string): Effect.Effect<Option.Option<ReadonlyArray<string>>, InvalidConfig> => {
  const entries = raw.split(",").map((entry) => entry.trim()).filter((entry) => entry !== "")
  if (entries.includes("*")) return Effect.succeedNone
  const bad = entries.find((entry) => !/^\+?[\d\s\-()]*\d[\d\s\-()]*\*?$/.test(entry))
  if (bad !== undefined) {
    return Effect.fail(
      new InvalidConfig({
        setting: "CHATKAZI_ALLOWED_RECIPIENTS",
        problem: `"${bad}" is not a phone number or a prefix ending in * (e.g. 254712345678,2547*)`
      })
    )
  }
  const list = entries.map((entry) => entry.replace(/\D/g, "") + (entry.endsWith("*") ? "*" : ""))
  return Effect.succeed(list.length === 0 ? Option.none() : Option.some(list))
}

export const isAllowedRecipient = (allowlist: ReadonlyArray<string>, to: string): boolean =>
  allowlist.some((entry) => entry.endsWith("*") ? to.startsWith(entry.slice(0, -1)) : to === entry)
