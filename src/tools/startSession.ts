import { Effect, Schema } from "effect"
import { ChatKazi } from "../services/ChatKazi.js"
import { Linking } from "../services/Linking.js"
import { OptionalSessionId } from "./Inputs.js"
import { describeDetails, describeSession, SessionView, viewSession } from "./SessionView.js"
import { defineTool } from "./Tool.js"

export const startSession = defineTool({
  name: "start_session",
  title: "Start a WhatsApp session",
  description:
    "Create or start a WhatsApp session (instance). Its QR code appears a few seconds later: fetch it with " +
    "get_session_qr (which waits for it) or call wait_for_session (which returns it as soon as it appears) and " +
    "show it to the user, then wait_for_session until it is connected. A session that is " +
    "already active is a conflict; check it with get_session_status instead.",
  input: Schema.Struct({ sessionId: OptionalSessionId }),
  output: SessionView,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  run: ({ sessionId }) =>
    Effect.gen(function*() {
      const session = viewSession(yield* (yield* ChatKazi).startSession(sessionId))
      yield* (yield* Linking).started(sessionId)
      return { data: session, text: `Started. ${describeSession(session)}${describeDetails(session.details)}` }
    })
})
