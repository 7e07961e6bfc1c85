import { Effect, Schema } from "effect"
import { ChatKazi } from "../services/ChatKazi.js"
import { SessionId } from "./Inputs.js"
import { describeDetails, describeSession, SessionView, viewSession } from "./SessionView.js"
import { defineTool } from "./Tool.js"

export const getSessionStatus = defineTool({
  name: "get_session_status",
  title: "Get a WhatsApp session's state",
  description:
    "Get the current state of a WhatsApp session (not_started, connecting, qr_ready, pairing_code_ready, " +
    "connected, disconnected, logged_out) and what to do next. To wait for a change, use wait_for_session " +
    "rather than calling this in a loop.",
  input: Schema.Struct({ sessionId: SessionId }),
  output: SessionView,
  annotations: { readOnlyHint: true, openWorldHint: true },
  run: ({ sessionId }) =>
    Effect.gen(function*() {
      const session = viewSession(yield* (yield* ChatKazi).sessionStatus(sessionId))
      return { data: session, text: describeSession(session) + describeDetails(session.details) }
    })
})
