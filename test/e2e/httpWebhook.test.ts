/**
 * End to end, issue 13 wired into http mode: the built `chatkazi-mcp http` as a subprocess serves
 * ChatKazi's webhook at CHATKAZI_PUBLIC_URL, and what arrives is read over MCP (Streamable HTTP,
 * each account with its own ChatKazi key as the bearer).
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { CallToolResultSchema, type CallToolResult } from "@modelcontextprotocol/sdk/types.js"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { HttpServerProcess } from "../support/HttpServerProcess.js"
import { textOf } from "../support/McpHarness.js"
import { ScriptedGateway } from "../support/ScriptedGateway.js"

const KEY_A = "ck_hook_ACCOUNT-A-5e1d7a90-never-print"
const KEY_B = "ck_hook_ACCOUNT-B-0b9c3f12-never-print"
const SECRET = "http-webhook-secret-DO-NOT-PRINT-0123456789abcdef"

let server: HttpServerProcess
let gateway: ScriptedGateway
let origin: string
let a: Client
let b: Client
let urlA: string
let urlB: string

const call = async (client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> => {
  const result = CallToolResultSchema.parse(await client.callTool({ name, arguments: args }))
  expect(result.isError ?? false, textOf(result)).toBe(false)
  return result
}

const post = (url: string, body: unknown) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })

const text = (id: string, from: string, body: string) => ({ sessionId: "default", from, text: body, id })

beforeAll(async () => {
  // The gateway only confirms keys for get_webhook_url: A and B are real, anything else is not.
  gateway = await ScriptedGateway.start()
  gateway.setDefault("GET", "/sessions", (request) =>
    [KEY_A, KEY_B].includes(String(request.headers["x-api-key"]))
      ? { json: { success: true, data: [] } }
      : { status: 401, json: { success: false, message: "Invalid API key" } })
  server = await HttpServerProcess.startPublic({
    CHATKAZI_BASE_URL: gateway.baseUrl,
    CHATKAZI_SECRET: SECRET
  })
  origin = await server.origin()
  ;[a, b] = await Promise.all([server.connect(KEY_A), server.connect(KEY_B)])
  urlA = (await call(a, "get_webhook_url")).structuredContent!["url"] as string
  urlB = (await call(b, "get_webhook_url")).structuredContent!["url"] as string
})

afterAll(async () => {
  await Promise.all([a, b].map((client) => client?.close().catch(() => undefined)))
  if (server !== undefined) {
    for (const secret of [KEY_A, KEY_B, SECRET, urlA.split("/").pop()!, urlB.split("/").pop()!]) {
      expect(server.stderr).not.toContain(secret)
    }
    await server.kill()
  }
  await gateway?.close()
})

describe("receiving in http mode", () => {
  it("gives a bearer that ChatKazi rejects no URL, only the Unauthorized guidance", async () => {
    const stranger = await server.connect("any-string-at-all")
    try {
      const result = CallToolResultSchema.parse(await stranger.callTool({ name: "get_webhook_url", arguments: {} }))
      expect(result.isError).toBe(true)
      expect(textOf(result)).toContain("rejected the API key")
      expect(JSON.stringify(result)).not.toContain("/webhooks/chatkazi/")
    } finally {
      await stranger.close()
    }
  })

  it("gives each account its own URL on CHATKAZI_PUBLIC_URL", async () => {
    const result = await call(a, "get_webhook_url")
    expect(result.structuredContent).toMatchObject({ receiving: true, via: "public-url" })
    expect(urlA).toMatch(new RegExp(`^${origin}/webhooks/chatkazi/[A-Za-z0-9_-]{40,}$`))
    expect(urlB).toMatch(new RegExp(`^${origin}/webhooks/chatkazi/[A-Za-z0-9_-]{40,}$`))
    expect(urlB).not.toBe(urlA)
  })

  it("wakes a wait_for_message over HTTP with a webhook POSTed to the server", async () => {
    const progress: Array<unknown> = []
    const waiting = a.callTool(
      { name: "wait_for_message", arguments: { from: "+254 712 345 678", timeoutSeconds: 20 } },
      CallToolResultSchema,
      { onprogress: (p) => progress.push(p), timeout: 30_000 }
    )
    // The first progress report comes once the wait listens.
    await expect.poll(() => progress.length, { timeout: 10_000 }).toBeGreaterThan(0)
    expect((await post(urlA, text("hook-other", "254733000111", "not the one"))).status).toBe(200)
    expect((await post(urlA, text("hook-reply", "254712345678", "Yes, we open at 9."))).status).toBe(200)

    const result = CallToolResultSchema.parse(await waiting)
    expect(result.isError ?? false).toBe(false)
    expect(textOf(result)).toMatch(/⟦sender-text⟧[\s\S]*Yes, we open at 9\.[\s\S]*⟦\/sender-text⟧/)
    expect(textOf(result)).not.toContain("not the one")
  })

  it("refuses an unknown hook id with 404 and stores nothing", async () => {
    const unknown = `${origin}/webhooks/chatkazi/${"x".repeat(43)}`
    const response = await post(unknown, text("hook-stray", "254700000009", "stray"))
    expect(response.status).toBe(404)
    for (const client of [a, b]) {
      expect(textOf(await call(client, "list_messages", { limit: 100 }))).not.toContain("stray")
    }
  })

  it("keeps two accounts apart: a message to B's URL is B's alone", async () => {
    expect((await post(urlB, text("hook-b-1", "254744000222", "For account B only"))).status).toBe(200)
    expect(textOf(await call(b, "list_messages", {}))).toContain("For account B only")
    expect(textOf(await call(a, "list_messages", {}))).not.toContain("For account B only")
    expect(textOf(await call(a, "list_messages", {}))).toContain("Yes, we open at 9.")
    expect(textOf(await call(b, "list_messages", {}))).not.toContain("Yes, we open at 9.")
  })

  it("offers chatkazi://messages per account, read only (no subscriptions over stateless HTTP)", async () => {
    expect(a.getServerCapabilities()?.resources?.subscribe ?? false).toBe(false)
    const { resources } = await a.listResources()
    expect(resources.map((r) => r.uri)).toContain("chatkazi://messages")
    const read = async (client: Client) => {
      const { contents } = await client.readResource({ uri: "chatkazi://messages" })
      return contents.map((c) => ("text" in c ? c.text : "")).join("\n")
    }
    expect(await read(a)).toContain("Yes, we open at 9.")
    expect(await read(a)).not.toContain("For account B only")
    expect(await read(b)).toContain("For account B only")
  })

  it("logs no hook id even when the path comes in another letter case or with a trailing slash", async () => {
    const hookId = urlA.split("/").pop()!
    const logged = () => server.requestLog.filter((line) => line["status"] === 200 && String(line["http"]).includes("hookId")).length
    const before = logged()
    for (const [i, path] of [`/Webhooks/ChatKazi/${hookId}`, `/WEBHOOKS/chatkazi/${hookId}/`].entries()) {
      // express routes both to the webhook, so the gateway's delivery is stored...
      expect((await post(`${origin}${path}`, text(`hook-case-${i}`, "254755000333", "Any case"))).status).toBe(200)
    }
    await server.waitForStderr(() => logged() >= before + 2)
    // ...and the request log names the route, not the id.
    expect(server.stderr).not.toContain(hookId)
  })

  it("logs webhook requests without their hook id", async () => {
    await server.waitForStderr((stderr) => stderr.includes("/webhooks/chatkazi/<hookId>"))
    const hooks = server.requestLog.filter((line) => String(line["http"]).includes("/webhooks/"))
    expect(hooks.length).toBeGreaterThan(0)
    for (const line of hooks) expect(line["http"]).toBe("POST /webhooks/chatkazi/<hookId>")
  })
})
