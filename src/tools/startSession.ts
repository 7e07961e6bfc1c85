import { Effect, Schema } from "effect"
import { ChatKazi } from "../services/ChatKazi.js"
import { OptionalSessionId } from "./Inputs.js"
import { describeDetails, describeSession, SessionView, viewSession } from "./SessionView.js"
import { defineTool } from "./Tool.js"

export const startSession = defineTool({
  name: "start_session",
  title: "Start a WhatsApp session",
  description:
    "Create or start a WhatsApp session (instance). Afterwards the session usually moves to qr_ready: fetch the QR " +
    "with get_session_qr for the user to scan, then wait_for_session until it is connected. A session that is " +
    "already active is a conflict; check it with get_session_status instead.",
  input: Schema.Struct({ sessionId: OptionalSessionId }),
  output: SessionView,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  run: ({ sessionId }) =>
    Effect.gen(function*() {
      const session = viewSession(yield* (yield* ChatKazi).startSession(sessionId))
      return { data: session, text: `Started. ${describeSession(session)}${describeDetails(session.details)}` }
    })
})
