import { Effect, Schema } from "effect"
import { ChatKazi } from "../services/ChatKazi.js"
import { SendGuard } from "../services/SendGuard.js"
import { MessageText, OptionalSessionId, Recipient } from "./Inputs.js"
import { describeSend, SendOutcome, sendOutcome } from "./SendResult.js"
import { defineTool } from "./Tool.js"

export const sendWhatsappText = defineTool({
  name: "send_whatsapp_text",
  title: "Send a WhatsApp text message",
  description:
    "Send a plain text WhatsApp message from a connected session. Only message people who expect it: WhatsApp " +
    "bans numbers that send bulk or unsolicited messages. Each call sends one real message, so do not repeat a " +
    "call to check that it worked; an identical repeat within a short window is not sent again.",
  input: Schema.Struct({ to: Recipient, text: MessageText, sessionId: OptionalSessionId }),
  output: Schema.Struct(SendOutcome),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  run: ({ sessionId, text, to }) =>
    Effect.gen(function*() {
      const guard = yield* SendGuard
      const chatKazi = yield* ChatKazi
      yield* guard.checkRecipient(to)
      const guarded = yield* guard.once({ sessionId, to, content: { text } }, chatKazi.sendText({ sessionId, to, text }))
      return { data: sendOutcome(sessionId, to, guarded), text: yield* describeSend("text message", sessionId, to, guarded) }
    })
})
