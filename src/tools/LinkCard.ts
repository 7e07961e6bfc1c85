/**
 * The linking card: the MCP Apps view (extension `io.modelcontextprotocol/ui`) that hosts able to
 * render one show with the QR tools' results. Its HTML is served by src/server/uiResource.ts.
 */
import type { ToolUi } from "./Tool.js"

export const LINK_CARD_URI = "ui://chatkazi/link"

/** What the QR tools declare: hosts with MCP Apps render their results in the card. */
export const rendersLinkCard: ToolUi = { resourceUri: LINK_CARD_URI }

/** What the card's own tool declares: the card may call it, the model never sees it. */
export const forLinkCardOnly: ToolUi = { resourceUri: LINK_CARD_URI, visibility: ["app"] }
