/**
 * Whether a pasted ChatKazi API key works: the login page lists the account's sessions with it,
 * through the same `ChatKazi` service the tools use, before any code is issued.
 */
import type { HttpClient } from "@effect/platform"
import { Data, Effect, Layer, Redacted } from "effect"
import { ChatKazi } from "../../services/ChatKazi.js"
import { ChatKaziConfig, type ChatKaziSettings } from "../../services/ChatKaziConfig.js"
import { isWellFormedKey } from "../../services/Credentials.js"

/** Everything about reaching ChatKazi except the key, which comes from the user. */
export type GatewaySettings = Omit<ChatKaziSettings, "apiKey">

/** Why the key was not accepted, in words for the person at the login page. */
export class KeyRejected extends Data.TaggedError("KeyRejected")<{
  readonly reason: string
  /** True when the key itself is wrong; false when ChatKazi could not be asked. */
  readonly invalidKey: boolean
}> {}

export const checkKey = (
  gateway: GatewaySettings,
  apiKey: Redacted.Redacted<string>
): Effect.Effect<void, KeyRejected, HttpClient.HttpClient> => {
  const key = Redacted.value(apiKey)
  if (key === "") return Effect.fail(new KeyRejected({ reason: "Paste your ChatKazi API key.", invalidKey: true }))
  if (!isWellFormedKey(key)) {
    return Effect.fail(
      new KeyRejected({
        reason: "The key contains spaces, line breaks, control or non-ASCII characters. Copy it again from the " +
          "ChatKazi dashboard.",
        invalidKey: true
      })
    )
  }
  return ChatKazi.pipe(
    Effect.flatMap((chatKazi) => chatKazi.listSessions),
    Effect.provide(ChatKazi.layer.pipe(Layer.provide(Layer.succeed(ChatKaziConfig, { ...gateway, apiKey })))),
    Effect.asVoid,
    Effect.mapError((error) => {
      switch (error._tag) {
        case "Unauthorized":
          return new KeyRejected({
            reason: `ChatKazi did not accept this key (HTTP ${error.status}). Copy it again from the ChatKazi dashboard.`,
            invalidKey: true
          })
        case "LimitReached":
          return new KeyRejected({
            reason: "ChatKazi refused this account because it reached its plan limit. Check your plan in the ChatKazi dashboard.",
            invalidKey: true
          })
        default:
          return new KeyRejected({
            reason: "ChatKazi could not be reached to check the key, so nothing was saved. Try again in a moment.",
            invalidKey: false
          })
      }
    })
  )
}
