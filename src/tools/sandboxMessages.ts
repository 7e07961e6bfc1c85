/**
 * `sandbox_messages`: what the sandbox accepted. Offered only in sandbox mode, so the model (and
 * the user) can see that a send "worked" without anything reaching WhatsApp.
 */
import { Effect, Schema } from "effect"
import { SessionId } from "./Inputs.js"
import { defineTool } from "./Tool.js"
import { type AcceptedMessage, Simulator } from "../sandbox/Simulator.js"

const Message = Schema.Struct({
  messageId: Schema.String,
  acceptedAt: Schema.String,
  kind: Schema.Literal("text", "media"),
  sessionId: Schema.String,
  to: Schema.String,
  text: Schema.optional(Schema.String),
  url: Schema.optional(Schema.String),
  type: Schema.optional(Schema.String),
  caption: Schema.optional(Schema.String),
  mimetype: Schema.optional(Schema.String),
  fileName: Schema.optional(Schema.String)
})

const describe = (m: AcceptedMessage) =>
  m.kind === "text"
    ? `- ${m.messageId}: text to ${m.to} from "${m.sessionId}": ${JSON.stringify(m.text)}`
    : `- ${m.messageId}: ${m.type} to ${m.to} from "${m.sessionId}": ${m.url}${m.caption ? ` (caption ${JSON.stringify(m.caption)})` : ""}`

export const sandboxMessages = defineTool({
  name: "sandbox_messages",
  title: "List the messages the sandbox received",
  description:
    "Sandbox mode only: list the messages the simulated ChatKazi gateway accepted, oldest first. None of them " +
    "was delivered to WhatsApp. Use it to check what a send would have sent.",
  input: Schema.Struct({
    sessionId: Schema.optional(SessionId.annotations({ description: "Only this session's messages." }))
  }),
  output: Schema.Struct({ count: Schema.Number, messages: Schema.Array(Message) }),
  annotations: { readOnlyHint: true, openWorldHint: false },
  run: ({ sessionId }) =>
    Effect.gen(function*() {
      const all = yield* (yield* Simulator).messages
      const messages = sessionId === undefined ? all : all.filter((m) => m.sessionId === sessionId)
      const text = messages.length === 0
        ? "The sandbox has received no messages yet."
        : `The sandbox received ${messages.length} message(s); none was delivered to WhatsApp:\n` +
          messages.map(describe).join("\n")
      return { data: { count: messages.length, messages: messages.map(withoutUndefined) }, text }
    })
})

const withoutUndefined = (message: AcceptedMessage) =>
  Object.fromEntries(Object.entries(message).filter(([, value]) => value !== undefined)) as typeof Message.Type
