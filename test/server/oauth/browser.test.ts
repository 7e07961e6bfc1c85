/**
 * The login page in a real headless Chromium: the form is found by its label, filled and submitted
 * without any script of ours, a wrong key brings the page back with the reason, and the right key
 * lands on the client's redirect URI with a code (so the CSP's form-action lets the redirect pass).
 * Screenshots are kept under test-artifacts/ for a human to look at.
 */
import { startAuthorization } from "@modelcontextprotocol/sdk/client/auth.js"
import { mkdirSync } from "node:fs"
import { type Browser, chromium } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Discovered, discover, redeem, register } from "../../support/OAuthClient.js"
import { KEY_A, type OAuthApp, scriptAccounts, startOAuthApp } from "../../support/OAuthApp.js"
import { ScriptedGateway } from "../../support/ScriptedGateway.js"

const ARTIFACTS = "test-artifacts/oauth"

/** The page's window, typed just enough (the project's lib has no DOM). */
interface BrowserWindow {
  readonly getComputedStyle: (element: unknown) => { readonly backgroundColor: string }
}

let gateway: ScriptedGateway
let app: OAuthApp
let d: Discovered
let browser: Browser

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true })
  gateway = await ScriptedGateway.start()
  scriptAccounts(gateway)
  app = await startOAuthApp(gateway)
  d = await discover(app.origin)
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] })
})
afterAll(async () => {
  await browser?.close()
  await app?.close()
  await gateway?.close()
})

describe("the login page in Chromium", () => {
  it("takes a wrong key back with the reason, then the right key through to the client with a code", async () => {
    const redirectUri = `${app.origin}/callback`
    const client = await register(d, redirectUri, { client_name: "Claude" })
    const { authorizationUrl, codeVerifier } = await startAuthorization(d.authorizationServer, {
      metadata: d.metadata,
      clientInformation: client,
      redirectUrl: redirectUri,
      state: "browser-state",
      resource: d.resource
    })
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 720, height: 640 } })
    const page = await context.newPage()
    const blocked: Array<string> = []
    page.on("console", (message) => {
      if (/Content Security Policy|Refused/i.test(message.text())) blocked.push(message.text())
    })
    await page.goto(authorizationUrl.href)
    expect(await page.title()).toBe("Connect ChatKazi")
    await expect(page.getByRole("heading", { name: "Connect your ChatKazi account" }).isVisible()).resolves.toBe(true)
    expect(await page.locator("main").innerText()).toContain("Claude asks to use your ChatKazi WhatsApp gateway")
    // The inline stylesheet applied: the CSP's hash matches it.
    expect(await page.getByRole("button", { name: "Connect" }).evaluate((el) => (globalThis as unknown as BrowserWindow).getComputedStyle(el).backgroundColor))
      .toBe("rgb(26, 127, 75)")
    await page.screenshot({ path: `${ARTIFACTS}/authorize.png`, fullPage: true })

    await page.getByLabel("ChatKazi API key").fill("ck_live_WRONG")
    await page.getByRole("button", { name: "Connect" }).click()
    await page.waitForLoadState()
    expect(await page.getByRole("alert").innerText()).toContain("ChatKazi did not accept this key")
    expect(await page.getByLabel("ChatKazi API key").inputValue()).toBe("")
    await page.screenshot({ path: `${ARTIFACTS}/authorize-wrong-key.png`, fullPage: true })

    await page.getByLabel("ChatKazi API key").fill(KEY_A)
    await Promise.all([
      page.waitForURL((url) => url.pathname === "/callback"),
      page.getByRole("button", { name: "Connect" }).click()
    ])
    const landed = new URL(page.url())
    expect(landed.searchParams.get("state")).toBe("browser-state")
    const code = landed.searchParams.get("code")!
    expect(code).toMatch(/^ckmcp_ac_/)
    expect(blocked).toEqual([])
    await context.close()

    const tokens = await redeem(d, { client, code, codeVerifier, redirectUri, location: landed })
    expect(tokens.access_token).toMatch(/^ckmcp_at_/)
  })
})
