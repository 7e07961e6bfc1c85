/**
 * `chatkazi-mcp --sandbox` end to end: the built server (the package's bin) driven by the MCP SDK
 * client over stdio, as a host would.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { getDefaultEnvironment, StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import type { CallToolResult, Progress } from "@modelcontextprotocol/sdk/types.js"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { serverEntry, serverNode } from "../support/serverEntry.js"

const connect = async (args: ReadonlyArray<string>, env: Record<string, string> = {}) => {
  const client = new Client({ name: "sandbox-e2e", version: "0.0.0" })
  await client.connect(
    new StdioClientTransport({
      command: serverNode,
      args: [serverEntry, ...args],
      env: { ...getDefaultEnvironment(), ...env },
      stderr: "ignore"
    })
  )
  return client
}

const textOf = (result: unknown) =>
  (result as CallToolResult).content.filter((c) => c.type === "text").map((c) => c.text).join("\n")

const NOTICE = /^\[SANDBOX\] .*no real WhatsApp message was sent/

describe("chatkazi-mcp --sandbox", { timeout: 60_000 }, () => {
  let client: Client
  beforeAll(async () => {
    client = await connect(["--sandbox"])
  }, 60_000)
  afterAll(async () => {
    await client?.close()
  })

  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const result = await client.callTool({ name, arguments: args }) as CallToolResult
    return { result, text: textOf(result) }
  }

  it("offers every tool plus sandbox_messages, each with a plain object input schema", async () => {
    const { tools } = await client.listTools()
    expect(tools.map((t) => t.name)).toEqual([
      "list_sessions",
      "start_session",
      "get_session_status",
      "get_session_qr",
      "wait_for_session",
      "logout_session",
      "send_whatsapp_text",
      "send_whatsapp_media",
      "get_webhook_url",
      "list_messages",
      "wait_for_message",
      "sandbox_messages"
    ])
    for (const tool of tools) {
      expect(tool.inputSchema.type).toBe("object")
      expect(tool.inputSchema).not.toHaveProperty("anyOf")
      expect(tool.inputSchema).not.toHaveProperty("$schema")
    }
    const wait = tools.find((t) => t.name === "wait_for_session")!
    expect(wait.annotations?.readOnlyHint).toBe(true)
    expect((wait.inputSchema.properties as any).sessionId.description).toContain("session")
    expect((wait.inputSchema.properties as any).timeoutSeconds).toMatchObject({ maximum: 300, default: 45 })
  })

  it("says it is the sandbox at the start of every result, failures included", async () => {
    const listed = await call("list_sessions")
    expect(listed.text).toMatch(NOTICE)
    expect(listed.text).toContain("Session \"default\": not_started")
    const unknown = await call("get_session_status", { sessionId: "ghost" })
    expect(unknown.result.isError).toBe(true)
    expect(unknown.text).toMatch(NOTICE)
    expect(unknown.text).toContain("does not know that session (HTTP 404)")
  })

  it("links a session, waits with progress notifications, sends, and lists what it received", async () => {
    expect((await call("start_session", { sessionId: "e2e" })).text).toContain("connecting")

    const notSent = await call("send_whatsapp_text", { sessionId: "e2e", to: "254712345678", text: "too early" })
    expect(notSent.result.isError).toBe(true)
    expect(notSent.text).toContain("not connected")

    const ready = await call("wait_for_session", { sessionId: "e2e", until: ["qr_ready"], intervalSeconds: 0.5 })
    expect(ready.result.structuredContent).toMatchObject({ state: "qr_ready", reachedTarget: true, timedOut: false })

    const qr = await call("get_session_qr", { sessionId: "e2e" })
    expect(qr.result.structuredContent).toMatchObject({ format: "payload", qr: expect.stringMatching(/^2@chatkazi-sandbox/) })
    expect(qr.result.content.some((c) => c.type === "image")).toBe(true)

    const progress: Array<Progress> = []
    const connected = await client.callTool(
      { name: "wait_for_session", arguments: { sessionId: "e2e", intervalSeconds: 0.5 } },
      undefined,
      { onprogress: (p) => void progress.push(p) }
    ) as CallToolResult
    expect(connected.structuredContent).toMatchObject({ state: "connected", reachedTarget: true, timedOut: false })
    // Three polls (the sandbox scans on the third status check); the last may race the result.
    expect(progress.length).toBeGreaterThanOrEqual(2)
    expect(progress[0]).toMatchObject({ total: 45, message: expect.stringMatching(/^qr_ready after/) })
    for (const [i, p] of progress.entries()) {
      expect(p.message).toMatch(/^(qr_ready|connected) after \d+(\.\d)? s$/)
      if (i > 0) expect(p.progress).toBeGreaterThan(progress[i - 1]!.progress)
    }

    expect((await call("send_whatsapp_text", { sessionId: "e2e", to: "+254 712 345 678", text: "Habari!" })).text)
      .toContain("Sent the text message to 254712345678")
    expect(
      (await call("send_whatsapp_media", {
        sessionId: "e2e",
        to: "254712345678",
        url: "https://files.example/menu.pdf",
        type: "document"
      })).result.structuredContent
    ).toMatchObject({ mimetype: "application/pdf", duplicate: false })
    const empty = await call("send_whatsapp_media", { sessionId: "e2e", to: "254712345678", url: "https://files.example/empty.png" })
    expect(empty.result.isError).toBe(true)
    expect(empty.text).toContain("is empty (0 bytes)")

    const received = await call("sandbox_messages", { sessionId: "e2e" })
    expect(received.text).toMatch(NOTICE)
    expect(received.result.structuredContent).toMatchObject({
      count: 2,
      messages: [
        { kind: "text", to: "254712345678", text: "Habari!" },
        { kind: "media", type: "document", url: "https://files.example/menu.pdf" }
      ]
    })

    expect((await call("logout_session", { sessionId: "e2e" })).text).toContain("logged_out")
  })

  it("start_session then wait_for_session: the wait hands over the QR as soon as it appears, then waits for the scan", async () => {
    await call("start_session", { sessionId: "direct" })
    const shown = await call("wait_for_session", { sessionId: "direct", intervalSeconds: 0.5 })
    expect(shown.result.structuredContent).toMatchObject({ state: "qr_ready", showToUser: true, reachedTarget: false })
    expect(shown.result.content.some((c) => c.type === "image")).toBe(true)
    expect(shown.text).toContain("then call wait_for_session again")
    const connected = await call("wait_for_session", { sessionId: "direct", intervalSeconds: 0.5 })
    expect(connected.result.structuredContent).toMatchObject({ state: "connected", reachedTarget: true, showToUser: false })
    await call("logout_session", { sessionId: "direct" })
  })

  it("start_session then get_session_qr at once: the QR call waits out the connecting delay", async () => {
    await call("start_session", { sessionId: "via-qr" })
    const qr = await call("get_session_qr", { sessionId: "via-qr" })
    expect(qr.result.structuredContent).toMatchObject({ state: "qr_ready", format: "payload" })
    expect(qr.result.content.some((c) => c.type === "image")).toBe(true)
    const connected = await call("wait_for_session", { sessionId: "via-qr", intervalSeconds: 0.5 })
    expect(connected.result.structuredContent).toMatchObject({ state: "connected", showToUser: false })
    await call("logout_session", { sessionId: "via-qr" })
  })
})

describe("chatkazi-mcp without --sandbox", { timeout: 60_000 }, () => {
  it("does not offer sandbox_messages", async () => {
    const client = await connect([], { CHATKAZI_API_KEY: "not-used", CHATKAZI_BASE_URL: "http://127.0.0.1:9/api/v1" })
    try {
      const { tools } = await client.listTools()
      expect(tools.map((t) => t.name)).not.toContain("sandbox_messages")
      expect(tools).toHaveLength(11)
    } finally {
      await client.close()
    }
  })
})
