/**
 * Every tool the server offers, in the order `tools/list` shows them.
 */
import { getSessionQr } from "./getSessionQr.js"
import { getSessionStatus } from "./getSessionStatus.js"
import { getWebhookUrl } from "./getWebhookUrl.js"
import { listMessages } from "./listMessages.js"
import { linkCardState } from "./linkCardState.js"
import { listSessions } from "./listSessions.js"
import { logoutSession } from "./logoutSession.js"
import { sendWhatsappMedia } from "./sendWhatsappMedia.js"
import { sendWhatsappText } from "./sendWhatsappText.js"
import { startSession } from "./startSession.js"
import { Effect, Option } from "effect"
import { ReceivingProblem } from "../services/WebhookConfig.js"
import type { Tool, ToolRequirements } from "./Tool.js"
import { waitForMessage } from "./waitForMessage.js"
import { waitForSession } from "./waitForSession.js"

/**
 * A tool about incoming messages, answering with the settings problem instead when receiving is off
 * because a setting is unusable (stdio mode keeps the other tools working then).
 */
const receiving = <I, IE, O, OE, R>(tool: Tool<I, IE, O, OE, R>): Tool<I, IE, O, OE, R> => ({
  ...tool,
  run: (input) =>
    Effect.flatMap(ReceivingProblem, Option.match({ onNone: () => tool.run(input), onSome: (problem) => Effect.fail(problem) }))
})

export const tools = [
  listSessions,
  startSession,
  getSessionStatus,
  getSessionQr,
  waitForSession,
  logoutSession,
  sendWhatsappText,
  sendWhatsappMedia,
  receiving(getWebhookUrl),
  receiving(listMessages),
  receiving(waitForMessage),
  linkCardState
] as const

/** The services a runtime must provide to run every tool. */
export type ToolServices = ToolRequirements<(typeof tools)[number]>
