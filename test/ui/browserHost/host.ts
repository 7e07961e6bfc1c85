/**
 * A minimal MCP Apps host for the browser test, built on the extension's own host side
 * (`AppBridge`): renders a `ui://` resource's HTML in a sandboxed iframe, hands it the tool input
 * and result, forwards its tool calls to Node (`hostCallTool`, where the test's MCP client calls
 * the real server), and records what the app tells the model.
 */
import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge"
import type { CallToolRequest, CallToolResult } from "@modelcontextprotocol/sdk/types.js"

type Theme = "light" | "dark"
type Variables = Record<string, string>

export interface OpenCard {
  readonly html: string
  readonly toolInput: Record<string, unknown>
  readonly toolResult: CallToolResult
  readonly theme: Theme
  readonly variables: Variables
}

declare global {
  interface Window {
    /** Exposed by the test from Node: the host's forwarding of an app's tool call to the server. */
    hostCallTool(params: CallToolRequest["params"]): Promise<CallToolResult>
    testHost: {
      readonly modelContext: Array<unknown>
      readonly messages: Array<unknown>
      open(card: OpenCard): Promise<void>
      setTheme(theme: Theme, variables: Variables): Promise<void>
    }
  }
}

let bridge: AppBridge | undefined

window.testHost = {
  modelContext: [],
  messages: [],
  async open(card) {
    const iframe = document.createElement("iframe")
    iframe.title = "Linking card"
    iframe.setAttribute("sandbox", "allow-scripts")
    iframe.srcdoc = card.html
    document.body.append(iframe)
    const app = new AppBridge(
      null,
      { name: "chatkazi-test-host", version: "1.0.0" },
      { serverTools: {}, updateModelContext: { text: {}, structuredContent: {} }, message: { text: {} }, logging: {} },
      { hostContext: { theme: card.theme, styles: { variables: card.variables as never }, displayMode: "inline" } }
    )
    app.oncalltool = (params) => window.hostCallTool(params)
    app.onupdatemodelcontext = async (params) => {
      window.testHost.modelContext.push(params)
      return {}
    }
    app.onmessage = async (params) => {
      window.testHost.messages.push(params)
      return {}
    }
    app.onsizechange = ({ height }) => {
      if (height !== undefined) iframe.style.height = `${Math.ceil(height)}px`
    }
    const initialized = new Promise<void>((resolve) => {
      app.oninitialized = () => resolve()
    })
    await app.connect(new PostMessageTransport(iframe.contentWindow!, iframe.contentWindow!))
    await initialized
    await app.sendToolInput({ arguments: card.toolInput })
    await app.sendToolResult(card.toolResult)
    bridge = app
  },
  async setTheme(theme, variables) {
    document.documentElement.dataset["theme"] = theme
    await bridge!.sendHostContextChange({ theme, styles: { variables: variables as never } })
  }
}
