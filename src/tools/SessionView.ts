/**
 * How a session is shown to the model: the gateway's facts plus what the state means and what to do.
 */
import { Schema } from "effect"
import { Details, type Session } from "../services/Domain.js"
import { guideFor } from "./SessionLifecycle.js"

export const SessionView = Schema.Struct({
  sessionId: Schema.String,
  state: Schema.optional(Schema.String).annotations({ description: "The state as ChatKazi reported it." }),
  meaning: Schema.String,
  nextStep: Schema.String,
  pairingCode: Schema.optional(Schema.String),
  details: Details
})
export type SessionView = typeof SessionView.Type

export const viewSession = (session: Session): SessionView => ({ ...session, ...guideFor(session.state) })

/** One line for the model: id, state, meaning, next step, and a pairing code when there is one. */
export const describeSession = (view: SessionView): string =>
  `Session "${view.sessionId}": ${view.state ?? "state unknown"} (${view.meaning}). Next: ${view.nextStep}.` +
  (view.pairingCode ? ` Pairing code: ${view.pairingCode}.` : "")

/** Extra gateway fields, compactly, so nothing the gateway said is hidden from the model. */
export const describeDetails = (details: Readonly<Record<string, unknown>>): string => {
  const entries = Object.entries(details)
  if (entries.length === 0) return ""
  const json = JSON.stringify(details)
  return `\nOther fields from ChatKazi: ${json.length > 600 ? `${json.slice(0, 597)}...` : json}`
}
