import { Effect, Schema } from "effect"
import { ChatKazi } from "../services/ChatKazi.js"
import { SessionId } from "./Inputs.js"
import { describeDetails, describeSession, SessionView, viewSession } from "./SessionView.js"
import { defineTool } from "./Tool.js"

export const logoutSession = defineTool({
  name: "logout_session",
  title: "Log out a WhatsApp session",
  description:
    "Log a WhatsApp session out and disconnect it, clearing its state: the phone is unlinked and must scan a new " +
    "QR to use it again. Confirm with the user before calling this.",
  input: Schema.Struct({ sessionId: SessionId }),
  output: SessionView,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  run: ({ sessionId }) =>
    Effect.gen(function*() {
      const reported = yield* (yield* ChatKazi).logoutSession(sessionId)
      const session = viewSession({ ...reported, state: reported.state ?? "logged_out" })
      return { data: session, text: `Logged out. ${describeSession(session)}${describeDetails(session.details)}` }
    })
})
