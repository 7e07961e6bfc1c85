/**
 * What the model is told after a send: the receipt, or that an identical earlier send's receipt is
 * being returned instead of sending the message a second time.
 */
import { Clock, Effect, Schema } from "effect"
import { Details } from "../services/Domain.js"
import type { GuardedReceipt } from "../services/SendGuard.js"
import { ConfirmationOutcome } from "./SendConfirmation.js"

export const SendOutcome = {
  sessionId: Schema.String,
  to: Schema.String,
  messageId: Schema.optional(Schema.String),
  status: Schema.optional(Schema.String).annotations({ description: "The delivery status ChatKazi reported, if any." }),
  duplicate: Schema.Boolean.annotations({
    description: "True when this call repeated an identical recent send and nothing new was sent."
  }),
  details: Details,
  confirmation: Schema.optional(ConfirmationOutcome)
}

/** The outcome of a send that did not happen: only the approval step's account of why. */
export const unsentOutcome = (sessionId: string, to: string, confirmation: ConfirmationOutcome) => ({
  sessionId,
  to,
  duplicate: false,
  details: {},
  confirmation
})

export const sendOutcome = (sessionId: string, to: string, guarded: GuardedReceipt) => ({
  sessionId,
  to,
  ...(guarded.receipt.messageId === undefined ? {} : { messageId: guarded.receipt.messageId }),
  ...(guarded.receipt.status === undefined ? {} : { status: guarded.receipt.status }),
  duplicate: guarded.duplicateOf !== undefined,
  details: guarded.receipt.details
})

/** One sentence about the send; `what` names the message ("text message", "image"). */
export const describeSend = (what: string, sessionId: string, to: string, guarded: GuardedReceipt) =>
  Effect.map(Clock.currentTimeMillis, (now) => {
    const id = guarded.receipt.messageId ? ` (message id ${guarded.receipt.messageId})` : ""
    if (guarded.duplicateOf) {
      const ago = Math.max(0, Math.round((now - guarded.duplicateOf.sentAt) / 1000))
      return `Not sent again: the same ${what} went to ${to} from session "${sessionId}" ${ago} s ago${id}, and ` +
        "sending it twice would look like spam. That earlier send's receipt is returned. If the user really wants " +
        "it sent again, wait until CHATKAZI_DEDUPE_WINDOW_SECONDS has passed or change the message."
    }
    return `Sent the ${what} to ${to} from session "${sessionId}"${id}${
      guarded.receipt.status ? `, status ${guarded.receipt.status}` : ""
    }.`
  })
