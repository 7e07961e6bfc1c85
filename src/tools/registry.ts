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
import type { ToolRequirements } from "./Tool.js"
import { waitForMessage } from "./waitForMessage.js"
import { waitForSession } from "./waitForSession.js"

export const tools = [
  listSessions,
  startSession,
  getSessionStatus,
  getSessionQr,
  waitForSession,
  logoutSession,
  sendWhatsappText,
  sendWhatsappMedia,
  getWebhookUrl,
  listMessages,
  waitForMessage,
  linkCardState
] as const

/** The services a runtime must provide to run every tool. */
export type ToolServices = ToolRequirements<(typeof tools)[number]>
