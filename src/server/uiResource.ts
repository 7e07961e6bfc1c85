/**
 * The MCP Apps side of the edge (extension `io.modelcontextprotocol/ui`): the linking card as a
 * `ui://` resource, and which tools a client is shown. A tool only the card may call (visibility
 * ["app"]) is listed to clients that declared the extension, whose hosts keep it from the model,
 * and left out for every other client, so no model ever sees it; calling it works either way.
 */
import type {
  ClientCapabilities,
  ReadResourceResult,
  Resource,
  Tool as McpTool
} from "@modelcontextprotocol/sdk/types.js"
import { LINK_CARD_URI } from "../tools/LinkCard.js"
import type { ResourceProvider } from "./resourceProviders.js"

export const UI_EXTENSION = "io.modelcontextprotocol/ui"
export const UI_MIME_TYPE = "text/html;profile=mcp-app"

/**
 * Everything the card needs is inside its HTML, so its CSP declares no origin at all: no network,
 * no outside scripts, styles or images, no frames (the hosts' restrictive default).
 */
const linkCardMeta = {
  ui: {
    csp: { connectDomains: [], resourceDomains: [], frameDomains: [], baseUriDomains: [] },
    prefersBorder: true
  }
}

export const linkCardResource: Resource = {
  uri: LINK_CARD_URI,
  name: "link-card",
  title: "Link WhatsApp",
  description:
    "A live card for linking a phone: the current QR code (redrawn as it rotates), the pairing code, the session " +
    "state, and Connected once the phone is linked. Shown by hosts that render MCP Apps with get_session_qr and " +
    "wait_for_session.",
  mimeType: UI_MIME_TYPE,
  _meta: linkCardMeta
}

export const uiResources: ReadonlyArray<Resource> = [linkCardResource]

/**
 * The contents of a `ui://` resource of this server, or undefined for any other URI. The card's
 * HTML (about 290 kB, built by scripts/ui.mjs) is loaded on the first read, so a start does not pay for it.
 */
export const readUiResource = async (uri: string): Promise<ReadResourceResult | undefined> => {
  if (uri !== LINK_CARD_URI) return undefined
  const { linkCardHtml } = await import("../ui/link/generated/cardHtml.js")
  return { contents: [{ uri, mimeType: UI_MIME_TYPE, text: linkCardHtml, _meta: linkCardMeta }] }
}

/** The client said it renders MCP Apps: it declared the extension with the HTML profile. */
export const rendersApps = (capabilities: ClientCapabilities | undefined): boolean => {
  const declared = capabilities?.extensions?.[UI_EXTENSION] as { readonly mimeTypes?: unknown } | undefined
  return Array.isArray(declared?.mimeTypes) && declared.mimeTypes.includes(UI_MIME_TYPE)
}

const isAppOnly = (tool: McpTool): boolean => {
  const visibility = (tool._meta?.["ui"] as { readonly visibility?: unknown } | undefined)?.visibility
  return Array.isArray(visibility) && !visibility.includes("model")
}

/** What `tools/list` shows this client. */
export const listedTools = (tools: ReadonlyArray<McpTool>, capabilities: ClientCapabilities | undefined): Array<McpTool> =>
  rendersApps(capabilities) ? [...tools] : tools.filter((tool) => !isAppOnly(tool))

/** The `ui://` resources, as one of the server's resource providers. */
export const uiResourceProvider: ResourceProvider = { resources: uiResources, read: readUiResource }
