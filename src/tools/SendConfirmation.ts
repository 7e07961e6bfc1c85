/**
 * The confirmation step of the send tools: the optional `confirmationCode` argument, what the
 * result says about the approval, and the step itself, between the checks that refuse a send and
 * the send (dedupe, pace, gateway).
 */
import { Effect, Schema } from "effect"
import type { ChatKaziError } from "../errors/ChatKaziError.js"
import type { Account } from "../services/Account.js"
import { CODE_VALIDITY_MS, Confirmations, describePending, messageKind, type PendingSend, type Verdict } from "../services/Confirmations.js"
import type { ToolReply } from "./Tool.js"

export const ConfirmationCode = Schema.optionalWith(
  Schema.String.annotations({
    description: "Only when an earlier call of this tool returned a confirmationCode and the user then approved " +
      "the preview: that code, with the other arguments exactly as before. Leave it out otherwise."
  }),
  { exact: true }
)

/** How the send tools describe the flow to the model (appended to their descriptions). */
export const confirmationFlow = (tool: string) =>
  " The server may first ask the user to approve the message: if they do not, nothing is sent and the result " +
  "says so; do not send it again unless the user asks. If instead a call sends nothing and returns a preview " +
  "with a confirmationCode, show the preview to the user and, only if they agree, call " +
  `${tool} again with the same arguments plus confirmationCode.`

export const ConfirmationOutcome = Schema.Struct({
  outcome: Schema.Literal(
    "approved_by_user",
    "approved_with_code",
    "declined",
    "dismissed",
    "unticked",
    "unanswered",
    "code_issued"
  ),
  confirmationCode: Schema.optional(Schema.String),
  expiresAt: Schema.optional(Schema.String.annotations({ description: "When the code stops working (ISO 8601)." })),
  preview: Schema.optional(Schema.String.annotations({ description: "The message as the user must see it before approving." }))
}).annotations({
  description: "Present when the send needed the user's approval. Unless the outcome starts with approved, " +
    "nothing was sent."
})
export type ConfirmationOutcome = typeof ConfirmationOutcome.Type

export interface ConfirmedSendOptions<O, R> {
  readonly tool: string
  readonly send: PendingSend
  readonly code: string | undefined
  /** The result's data when nothing was sent. */
  readonly unsent: (confirmation: ConfirmationOutcome) => O
  /** Dedupe, pace and the send itself. */
  readonly deliver: Effect.Effect<ToolReply<O>, ChatKaziError, R>
}

/** Runs `deliver` once the send is approved (or needs no approval); otherwise the reply says why nothing went out. */
export const confirmedSend = <O extends object, R>(
  options: ConfirmedSendOptions<O, R>
): Effect.Effect<ToolReply<O>, ChatKaziError, R | Confirmations | Account> =>
  Effect.gen(function*() {
    const confirmations = yield* Confirmations
    const verdict = yield* confirmations.confirm(options.send, options.code)
    if (verdict._tag === "Proceed") {
      const reply = yield* options.deliver
      if (verdict.approvedBy === undefined) return reply
      return {
        ...reply,
        data: { ...reply.data, confirmation: { outcome: `approved_${verdict.approvedBy === "user" ? "by_user" : "with_code"}` } },
        text: `${reply.text} ${verdict.approvedBy === "user" ? "The user approved it." : "The user approved it with its confirmation code."}`
      }
    }
    return unsentReply(options, verdict, confirmations.settings.timeoutSeconds)
  })

const unsentReply = <O extends object, R>(
  options: ConfirmedSendOptions<O, R>,
  verdict: Exclude<Verdict, { _tag: "Proceed" }>,
  timeoutSeconds: number
): ToolReply<O> => {
  const { send } = options
  const what = `this ${messageKind(send.content)} to +${send.to} from session "${send.sessionId}"`
  if (verdict._tag === "CodeIssued") {
    const preview = describePending(send)
    return {
      data: options.unsent({
        outcome: "code_issued",
        confirmationCode: verdict.code,
        expiresAt: new Date(verdict.expiresAt).toISOString(),
        preview
      }),
      text: `Not sent yet: every message needs the user's approval first (CHATKAZI_CONFIRM_SENDS=always), and this ` +
        `connection cannot ask them directly. Show the user this preview as it is and ask whether to send it:\n\n` +
        `${preview}\n\nOnly if the user agrees, call ${options.tool} again with exactly the same arguments plus ` +
        `confirmationCode "${verdict.code}" (it confirms this message only, once, for ${CODE_VALIDITY_MS / 60_000} ` +
        "minutes). If they do not agree, do not send it. Never approve it on the user's behalf."
    }
  }
  const why = {
    declined: `the user declined to send ${what}.`,
    dismissed: `the user closed the question about ${what} without approving it.`,
    unticked: `the user answered the question about ${what} without ticking "Yes, send it", so it was not approved.`,
    unanswered: `the user did not answer the question about ${what} within ${timeoutSeconds} ` +
      `second${timeoutSeconds === 1 ? "" : "s"} ` +
      "(CHATKAZI_CONFIRM_TIMEOUT_SECONDS)."
  }[verdict.answer]
  return {
    data: options.unsent({ outcome: verdict.answer }),
    text: `Not sent: ${why} Do not send it again, or try another way to send it, unless the user asks you to.`
  }
}
