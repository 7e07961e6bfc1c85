/**
 * The linking card in a real browser: a host page built on the extension's `AppBridge` renders
 * `ui://chatkazi/link` (read from the built server in --sandbox mode) in a sandboxed iframe under
 * the extension's restrictive default CSP, with its tool calls forwarded to the server by an MCP
 * client in this test. The QR is read back from a screenshot, the simulated phone scans it, and
 * the card must say Connected and tell the model. Screenshots are kept in test-artifacts/.
 */
import { isToolVisibilityAppOnly } from "@modelcontextprotocol/ext-apps/app-bridge"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { getDefaultEnvironment, StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import type { CallToolRequest, CallToolResult } from "@modelcontextprotocol/sdk/types.js"
import { build } from "esbuild"
import { mkdirSync, writeFileSync } from "node:fs"
import { resolve } from "node:path"
import type { Browser, FrameLocator } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { launchChromium, readQr } from "../support/chromium.js"
import { ScriptedGateway } from "../support/ScriptedGateway.js"
import { repoRoot, serverEntry } from "../support/serverEntry.js"

const artifacts = resolve(repoRoot, "test-artifacts")
const HOST_URL = "http://host.test/"
/** What the extension says a host must enforce when a resource declares no origins. */
const DEFAULT_CSP = "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; " +
  "img-src 'self' data:; media-src 'self' data:; connect-src 'none'"
/** Long enough for the screenshots before the simulated scan even on a loaded machine. */
const SCAN_AFTER_SECONDS = 8

const LIGHT = {
  "--color-background-primary": "#fafaf7",
  "--color-background-secondary": "#eeeeea",
  "--color-text-primary": "#1b1b18",
  "--color-text-secondary": "#55554f",
  "--color-border-primary": "#cfcfc8",
  "--color-ring-primary": "#3358d4",
  "--font-sans": "DejaVu Sans, sans-serif"
}
const DARK = {
  "--color-background-primary": "#202124",
  "--color-background-secondary": "#2d2e32",
  "--color-text-primary": "#e8e8e3",
  "--color-text-secondary": "#a9a9a2",
  "--color-border-primary": "#46474c",
  "--color-ring-primary": "#8fa8ff",
  "--font-sans": "DejaVu Sans, sans-serif"
}

/** What the host page (browserHost/host.ts) puts on its window. */
interface HostWindow {
  hostCallTool(params: CallToolRequest["params"]): Promise<CallToolResult>
  testHost: {
    readonly modelContext: Array<unknown>
    readonly messages: Array<unknown>
    open(card: {
      html: string
      toolInput: Record<string, unknown>
      toolResult: CallToolResult
      theme: "light" | "dark"
      variables: Record<string, string>
    }): Promise<void>
    setTheme(theme: "light" | "dark", variables: Record<string, string>): Promise<void>
  }
}

const textOf = (result: CallToolResult) => result.content.flatMap((c) => (c.type === "text" ? [c.text] : [])).join("\n")

/** Connects to the built server as a host that renders MCP Apps would. */
const connectAsAppsHost = async (args: ReadonlyArray<string>, env: Record<string, string> = {}) => {
  const client = new Client(
    { name: "link-card-test-host", version: "0.0.0" },
    { capabilities: { extensions: { "io.modelcontextprotocol/ui": { mimeTypes: ["text/html;profile=mcp-app"] } } } }
  )
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [serverEntry, ...args],
      env: { ...getDefaultEnvironment(), ...env },
      stderr: "ignore"
    })
  )
  return client
}

const hostScript = () =>
  build({
    entryPoints: [resolve(repoRoot, "test/ui/browserHost/host.ts")],
    bundle: true,
    write: false,
    format: "iife",
    platform: "browser",
    logLevel: "error"
  }).then((out) => out.outputFiles[0]!.text.replaceAll("</script", "<\\/script"))

/** A page of the test host, its tool calls forwarded to `client`, with what it saw recorded. */
const openHost = async (browser: Browser, client: Client, script: string) => {
  const listed = (await client.listTools()).tools
  const appCalls: Array<string> = []
  const requests: Array<string> = []
  const consoleErrors: Array<string> = []
  const page = await browser.newPage({ viewport: { width: 520, height: 760 } })
  page.on("request", (request) => requests.push(request.url()))
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text())
  })
  // What a host does with an app's tools/call: only tools the app may call reach the server.
  await page.exposeFunction("hostCallTool", async (params: CallToolRequest["params"]) => {
    const tool = listed.find((t) => t.name === params.name)
    const visibility = (tool?._meta?.["ui"] as { visibility?: Array<string> } | undefined)?.visibility
    if (tool === undefined || (visibility !== undefined && !visibility.includes("app"))) {
      throw new Error(`tool ${params.name} is not available to apps`)
    }
    appCalls.push(params.name)
    return client.callTool(params)
  })
  await page.route(HOST_URL, (route) =>
    route.fulfill({
      contentType: "text/html",
      headers: { "content-security-policy": DEFAULT_CSP },
      body: `<!doctype html><html><head><meta charset="utf-8"><style>
        body { margin: 0; padding: 16px; font-family: sans-serif; }
        html[data-theme="dark"] body { background: #111214; }
        iframe { border: 1px solid #8886; border-radius: 12px; width: 460px; height: 620px; display: block; }
      </style></head><body><script>${script}</script></body></html>`
    })
  )
  await page.goto(HOST_URL)
  const card = (): FrameLocator => page.frameLocator("iframe")
  return {
    page,
    listed,
    appCalls,
    requests,
    consoleErrors,
    card,
    /** Opens the card as the host does after the model called a tool with a card. */
    open: async (toolInput: Record<string, unknown>, toolResult: CallToolResult, theme: "light" | "dark", variables: Record<string, string>) => {
      const resource = await client.readResource({ uri: "ui://chatkazi/link" })
      const html = (resource.contents[0] as { text: string }).text
      await page.evaluate((card) => (globalThis as unknown as HostWindow).testHost.open(card), { html, toolInput, toolResult, theme, variables })
    },
    shoot: async (name: string) => {
      mkdirSync(artifacts, { recursive: true })
      const png = await page.locator("iframe").screenshot()
      writeFileSync(resolve(artifacts, name), png)
      return png
    },
    background: () =>
      card().locator("body").evaluate((body) =>
        (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(body)
          .backgroundColor
      )
  }
}

let browser: Browser
let script: string
beforeAll(async () => {
  ;[browser, script] = await Promise.all([launchChromium(), hostScript()])
}, 60_000)
afterAll(async () => {
  await browser?.close()
})

// The two scenarios run side by side (own server, own page, one browser): most of their time is waiting.
describe.concurrent("the linking card in a host that renders MCP Apps, on the sandbox", { timeout: 60_000 }, () => {
  let client: Client
  let host: Awaited<ReturnType<typeof openHost>>

  beforeAll(async () => {
    client = await connectAsAppsHost(["--sandbox", "--scan-after", String(SCAN_AFTER_SECONDS), "--scan-after-polls", "never"])
    host = await openHost(browser, client, script)
  }, 60_000)
  afterAll(async () => {
    await client?.close()
  })

  it("keeps the app-only tool out of the model's tool list", ({ expect }) => {
    const { listed } = host
    const names = listed.map((t) => t.name)
    // This client declared MCP Apps, so it is told about the card's tool, marked for the app only...
    expect(names).toContain("link_card_state")
    expect(listed.find((t) => t.name === "link_card_state")?._meta).toMatchObject({ ui: { visibility: ["app"] } })
    // ...and what the host hands its model, by the extension's rule, leaves it out.
    const forModel = listed.filter((t) => !isToolVisibilityAppOnly(t)).map((t) => t.name)
    expect(forModel).not.toContain("link_card_state")
    expect(forModel).toEqual(expect.arrayContaining(["get_session_qr", "wait_for_session"]))
  })

  it("shows a scannable QR in light and dark, then Connected after the scan, and tells the model", async ({ expect }) => {
    await client.callTool({ name: "start_session", arguments: { sessionId: "default" } })
    await client.callTool({ name: "wait_for_session", arguments: { sessionId: "default", until: ["qr_ready"], intervalSeconds: 0.5 } })
    // The model's call: from here the simulated phone scans the QR after SCAN_AFTER_SECONDS.
    const qrResult = await client.callTool({ name: "get_session_qr", arguments: { sessionId: "default" } }) as CallToolResult
    const payload = (qrResult.structuredContent as { qr: string }).qr
    expect(payload).toMatch(/^2@chatkazi-sandbox/)

    const { appCalls, background, page, shoot } = host
    await host.open({ sessionId: "default" }, qrResult, "light", LIGHT)

    const frame = host.card()
    await expect.poll(() => frame.locator("#qr canvas").count()).toBe(1)
    await expect.poll(() => frame.locator("#state").textContent()).toBe("Waiting for you to scan the code")
    expect(await frame.locator("#session-id").textContent()).toBe("default")
    expect(await frame.locator("#qr").getAttribute("role")).toBe("img")
    expect(await frame.locator("#qr").getAttribute("aria-label")).toMatch(/QR code to link WhatsApp session "default"/)
    expect(await frame.locator("#rotation").textContent()).toMatch(/refreshes this code about every 20 s/)
    expect(await background()).toBe("rgb(250, 250, 247)")
    expect(readQr(await shoot("link-card-light.png"))).toBe(payload)

    await page.evaluate((variables) => (globalThis as unknown as HostWindow).testHost.setTheme("dark", variables), DARK)
    await expect.poll(background).toBe("rgb(32, 33, 36)")
    expect(await frame.locator("#state").textContent(), "the phone must not have scanned yet").not.toBe("Connected")
    expect(readQr(await shoot("link-card-dark.png"))).toBe(payload)

    // Keyboard: Tab reaches "Check now", Enter checks at once.
    const before = appCalls.length
    await frame.locator("body").press("Tab")
    expect(await frame.locator(":focus").getAttribute("id")).toBe("check")
    await frame.locator("#check").press("Enter")
    await expect.poll(() => appCalls.length).toBeGreaterThan(before)

    await expect.poll(() => frame.locator("#state").textContent(), { timeout: 20_000 }).toBe("Connected")
    expect(await frame.locator("#done").isVisible()).toBe(true)
    expect(await frame.locator("#waiting").isVisible()).toBe(false)
    await expect.poll(() => frame.locator("#done-text").textContent()).toMatch(/The assistant has been told/)
    await shoot("link-card-connected-dark.png")
    await page.evaluate((variables) => (globalThis as unknown as HostWindow).testHost.setTheme("light", variables), LIGHT)
    await expect.poll(background).toBe("rgb(250, 250, 247)")
    await shoot("link-card-connected-light.png")

    // The card polled its own tool, and nothing else, while it waited.
    expect(new Set(appCalls)).toEqual(new Set(["link_card_state"]))
    // The model is told, once, through the extension's context update and a chat message.
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as HostWindow).testHost.messages.length)).toBe(1)
    const [context] = await page.evaluate(() => (globalThis as unknown as HostWindow).testHost.modelContext) as Array<{ content: Array<{ text: string }> }>
    expect(context?.content[0]?.text).toMatch(/session "default" become connected/)
    const [message] = await page.evaluate(() => (globalThis as unknown as HostWindow).testHost.messages) as Array<{ role: string; content: Array<{ text: string }> }>
    expect(message).toMatchObject({ role: "user" })
    expect(message?.content[0]?.text).toMatch(/"default" is connected/)
    // The server agrees.
    const status = await client.callTool({ name: "get_session_status", arguments: { sessionId: "default" } }) as CallToolResult
    expect(textOf(status)).toMatch(/connected/)

    // Nothing left the page but the host document itself, and nothing broke the CSP.
    expect(host.requests).toEqual([HOST_URL])
    expect(host.consoleErrors.filter((e) => /Content Security Policy|Refused to/i.test(e))).toEqual([])
  })
})

describe.concurrent("the linking card against a gateway whose QR rotates", { timeout: 60_000 }, () => {
  let gateway: ScriptedGateway
  let client: Client
  let host: Awaited<ReturnType<typeof openHost>>
  // What the scripted ChatKazi says right now; the test changes it as a phone and WhatsApp would.
  let state = "qr_ready"
  let qr = "2@first-linking-code"

  beforeAll(async () => {
    gateway = await ScriptedGateway.start()
    gateway.setDefault("GET", "/session/status", (request) => ({
      json: { success: true, data: { sessionId: request.query["sessionId"], status: state } }
    }))
    gateway.setDefault("GET", "/session/qr", (request) => ({
      json: { success: true, data: { sessionId: request.query["sessionId"], status: state, qr, pairingCode: "WXYZ-1234" } }
    }))
    client = await connectAsAppsHost([], { CHATKAZI_API_KEY: "ck_test_link_card", CHATKAZI_BASE_URL: gateway.baseUrl })
    host = await openHost(browser, client, script)
  }, 60_000)
  afterAll(async () => {
    await client?.close()
    await gateway?.close()
  })

  it("swaps in each new QR, counts down to the next, shows the pairing code, then Connected", async ({ expect }) => {
    const qrResult = await client.callTool({ name: "get_session_qr", arguments: { sessionId: "shop" } }) as CallToolResult
    await host.open({ sessionId: "shop" }, qrResult, "dark", DARK)
    const frame = host.card()
    await expect.poll(() => frame.locator("#qr canvas").count()).toBe(1)
    expect(readQr(await host.shoot("link-card-first-qr-dark.png"))).toBe("2@first-linking-code")
    expect(await frame.locator("#pairing-code").textContent()).toBe("WXYZ-1234")
    expect(await frame.locator("#pairing").isVisible()).toBe(true)

    // WhatsApp replaces the code: the card's next poll draws the new one, and now it can count down.
    qr = "2@second-linking-code"
    await expect.poll(async () => readQr(await host.page.locator("iframe").screenshot()), { timeout: 10_000 })
      .toBe("2@second-linking-code")
    expect(await frame.locator("#rotation").textContent()).toMatch(/^New code in about (1\d|20) s\.$/)
    expect(await frame.locator("#qr-text").textContent()).toBe("2@second-linking-code")
    await host.shoot("link-card-rotated-dark.png")

    state = "connected"
    await expect.poll(() => frame.locator("#state").textContent(), { timeout: 10_000 }).toBe("Connected")
    const polls = gateway.count("GET", "/session/status")
    expect(gateway.count("GET", "/session/qr")).toBeGreaterThanOrEqual(2) // the model's fetch, then the card's
    expect(new Set(host.appCalls)).toEqual(new Set(["link_card_state"]))
    // Once connected the card stops polling: nothing more reaches the gateway for longer than its 2.5 s interval.
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    expect(gateway.count("GET", "/session/status")).toBe(polls)
  })
})
