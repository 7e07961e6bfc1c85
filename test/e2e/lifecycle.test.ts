/**
 * End to end, issue 2: the process as a host sees it. Starting without an API key, stdout carrying
 * JSON-RPC and nothing else (checked line by line on the raw stream), and exiting 0 when stdin
 * closes or SIGTERM arrives.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { type Exit, McpHarness, SECRET_API_KEY, textOf } from "../support/McpHarness.js"
import { ScriptedGateway } from "../support/ScriptedGateway.js"

let gateway: ScriptedGateway

beforeAll(async () => {
  gateway = await ScriptedGateway.start()
})

afterAll(async () => {
  await gateway?.close()
})

/** Generous: "within a few seconds", never a timing claim. */
const exitWithin = (harness: McpHarness, ms = 10_000): Promise<Exit | "still running"> =>
  Promise.race([
    harness.exited,
    new Promise<"still running">((resolve) => setTimeout(() => resolve("still running"), ms).unref())
  ])

const VALID_CALLS: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
  ["list_sessions", {}],
  ["start_session", {}],
  ["get_session_status", { sessionId: "default" }],
  ["get_session_qr", { sessionId: "default" }],
  ["wait_for_session", { sessionId: "default", timeoutSeconds: 1 }],
  ["logout_session", { sessionId: "default" }],
  ["send_whatsapp_text", { to: "254712345678", text: "hello" }],
  ["send_whatsapp_media", { to: "254712345678", url: "https://example.com/a.jpg" }]
]

describe("without CHATKAZI_API_KEY", () => {
  let server: McpHarness

  beforeAll(async () => {
    gateway.reset()
    server = await McpHarness.start({ CHATKAZI_BASE_URL: gateway.baseUrl })
  })

  afterAll(async () => {
    await server?.close()
  })

  it("still initializes and lists the eleven tools", async () => {
    expect(server.client.getServerVersion()).toMatchObject({ name: "chatkazi-mcp" })
    expect(await server.listTools()).toHaveLength(11)
  })

  it("warns on stderr, naming CHATKAZI_API_KEY", () => {
    expect(server.stderr).toContain("CHATKAZI_API_KEY")
    expect(server.stderr.match(/CHATKAZI_API_KEY is not set/g)).toHaveLength(1)
  })

  it("answers every tool call with an isError result naming CHATKAZI_API_KEY, and sends nothing", async () => {
    for (const [name, args] of VALID_CALLS) {
      const result = await server.call(name, args)
      expect(result.isError, name).toBe(true)
      expect(textOf(result), name).toMatch(/CHATKAZI_API_KEY is not set.*"env"/s)
    }
    expect(gateway.requests).toEqual([])
    expect(server.protocolErrors).toEqual([])
  })
})

describe("a gateway that refuses connections", () => {
  let server: McpHarness

  beforeAll(async () => {
    const closed = await ScriptedGateway.start()
    const baseUrl = closed.baseUrl
    await closed.close()
    server = await McpHarness.start({
      CHATKAZI_API_KEY: SECRET_API_KEY,
      CHATKAZI_BASE_URL: baseUrl,
      CHATKAZI_RETRY_BASE_DELAY_MS: "1"
    })
  })

  afterAll(async () => {
    await server?.close()
  })

  it("is reported as unreachable, not as a send that may have been delivered", async () => {
    // Nothing was sent when the connection is refused, so saying "uncertain" would be wrong.
    const result = await server.call("send_whatsapp_text", { to: "254712345678", text: "nobody home" })
    expect(result.isError).toBe(true)
    expect(textOf(result)).toMatch(/^Could not reach ChatKazi at http:\/\/127\.0\.0\.1:\d+\/api\/v1: ECONNREFUSED, the connection was refused.*CHATKAZI_BASE_URL/)
    expect(textOf(result)).not.toMatch(/may or may not/)
  })
})

describe("stdout and exit", () => {
  let server: McpHarness | undefined

  afterEach(async () => {
    await server?.close()
    server = undefined
  })

  it("writes only JSON-RPC to stdout, line by line, and exits 0 when stdin closes", async () => {
    gateway.reset()
    gateway.setDefault("GET", "/sessions", { json: { success: true, data: [{ id: "default", status: "connected" }] } })
    gateway.setDefault("GET", "/session/status", { status: 503, body: "<html><body>Bad gateway</body></html>" })
    gateway.setDefault("POST", "/messages/text", { status: 500, json: { message: "boom" } })
    server = await McpHarness.start(
      { CHATKAZI_API_KEY: SECRET_API_KEY, CHATKAZI_BASE_URL: gateway.baseUrl, CHATKAZI_RETRY_BASE_DELAY_MS: "1" },
      { transport: "raw" }
    )
    await server.listTools()
    // Successes, failures, retries, invalid input, an unknown tool: everything that might log.
    await server.call("list_sessions")
    await server.call("get_session_status", { sessionId: "default" })
    await server.call("send_whatsapp_text", { to: "254712345678", text: "log noise?" })
    await server.call("send_whatsapp_text", { to: "not a number", text: 42 })
    await expect(server.call("no_such_tool", {})).rejects.toMatchObject({
      code: -32602,
      message: expect.stringMatching(/^MCP error -32602: Unknown tool "no_such_tool"\. The tools are: list_sessions, /)
    })
    await server.call("send_whatsapp_media", { to: "254712345678", url: "ftp://example.com/a.jpg" })

    expect(server.stdoutLines.length).toBeGreaterThanOrEqual(8)
    for (const line of server.stdoutLines) {
      expect(JSON.parse(line)).toMatchObject({ jsonrpc: "2.0" })
    }
    expect(server.protocolErrors).toEqual([])
    expect(server.allOutput).not.toContain(SECRET_API_KEY)

    server.child.stdin.end()
    expect(await exitWithin(server)).toEqual({ code: 0, signal: null })
    expect(server.protocolErrors).toEqual([])
  })

  it("exits 0 on SIGTERM", async () => {
    server = await McpHarness.start(
      { CHATKAZI_API_KEY: SECRET_API_KEY, CHATKAZI_BASE_URL: gateway.baseUrl },
      { transport: "raw" }
    )
    await server.listTools()
    server.child.kill("SIGTERM")
    expect(await exitWithin(server)).toEqual({ code: 0, signal: null })
  })
})
