import { Effect, Schema } from "effect"
import { ChatKazi } from "../services/ChatKazi.js"
import { SendGuard } from "../services/SendGuard.js"
import { MessageText, OptionalSessionId, Recipient } from "./Inputs.js"
import { ConfirmationCode, confirmationFlow, confirmedSend } from "./SendConfirmation.js"
import { describeSend, SendOutcome, sendOutcome, unsentOutcome } from "./SendResult.js"
import { defineTool } from "./Tool.js"

export const sendWhatsappText = defineTool({
  name: "send_whatsapp_text",
  title: "Send a WhatsApp text message",
  description:
    "Send a plain text WhatsApp message from a connected session. Only message people who expect it: WhatsApp " +
    "bans numbers that send bulk or unsolicited messages. Each call sends one real message, so do not repeat a " +
    "call to check that it worked; an identical repeat within a short window is not sent again." +
    confirmationFlow("send_whatsapp_text"),
  input: Schema.Struct({ to: Recipient, text: MessageText, sessionId: OptionalSessionId, confirmationCode: ConfirmationCode }),
  output: Schema.Struct(SendOutcome),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  run: ({ confirmationCode, sessionId, text, to }) =>
    Effect.gen(function*() {
      const guard = yield* SendGuard
      const chatKazi = yield* ChatKazi
      yield* guard.checkRecipient(to)
      return yield* confirmedSend({
        tool: "send_whatsapp_text",
        send: { sessionId, to, content: { kind: "text", text } },
        code: confirmationCode,
        unsent: (confirmation) => unsentOutcome(sessionId, to, confirmation),
        deliver: Effect.gen(function*() {
          const guarded = yield* guard.once({ sessionId, to, content: { text } }, chatKazi.sendText({ sessionId, to, text }))
          return { data: sendOutcome(sessionId, to, guarded), text: yield* describeSend("text message", sessionId, to, guarded) }
        })
      })
    })
})
