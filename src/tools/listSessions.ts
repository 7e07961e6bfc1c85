import { Effect, Schema } from "effect"
import { ChatKazi } from "../services/ChatKazi.js"
import { NoArguments } from "./Inputs.js"
import { describeSession, SessionView, viewSession } from "./SessionView.js"
import { defineTool } from "./Tool.js"

export const listSessions = defineTool({
  name: "list_sessions",
  title: "List WhatsApp sessions",
  description:
    "List every WhatsApp session (instance) on the ChatKazi account with its state and the next step for it. " +
    "Use it to find session ids and to see which sessions can send messages (state connected).",
  input: NoArguments,
  output: Schema.Struct({ count: Schema.Number, sessions: Schema.Array(SessionView) }),
  annotations: { readOnlyHint: true, openWorldHint: true },
  run: () =>
    Effect.gen(function*() {
      const sessions = (yield* (yield* ChatKazi).listSessions).map(viewSession)
      const text = sessions.length === 0
        ? "The account has no WhatsApp sessions yet. Call start_session to create one."
        : `The account has ${sessions.length} session(s):\n${sessions.map((s) => `- ${describeSession(s)}`).join("\n")}`
      return { data: { count: sessions.length, sessions }, text }
    })
})
