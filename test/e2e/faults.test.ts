/**
 * The fault suite (issue 4): faults injected at the scripted gateway, observed through the built
 * server over stdio, with the requests that reached the gateway counted. Reads retry and survive;
 * writes are never repeated once they may have arrived; the guards refuse what they must and send
 * nothing; shutdown answers the calls in flight.
 */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { type Exit, McpHarness, SECRET_API_KEY, textOf } from "../support/McpHarness.js"
import { ScriptedGateway } from "../support/ScriptedGateway.js"

const TIMEOUT_MS = 1_500

let gateway: ScriptedGateway

beforeAll(async () => {
  gateway = await ScriptedGateway.start()
})

afterAll(async () => {
  await gateway?.close()
})

const baseEnv = () => ({
  CHATKAZI_API_KEY: SECRET_API_KEY,
  CHATKAZI_BASE_URL: gateway.baseUrl,
  CHATKAZI_TIMEOUT_MS: String(TIMEOUT_MS),
  // Small backoff so retries do not slow the suite; Retry-After still sets its own wait.
  CHATKAZI_RETRY_BASE_DELAY_MS: "50"
})

const ok = (data: unknown = {}) => ({ json: { success: true, data } })

const expectOk = (result: CallToolResult) => expect(result.isError ?? false, textOf(result)).toBe(false)

const expectError = (result: CallToolResult): string => {
  expect(result.isError, JSON.stringify(result)).toBe(true)
  return textOf(result)
}

const UNCERTAIN = /may or may not have taken effect.*deliberately not retried.*Do not call it again blindly/s

describe("faults at the gateway", () => {
  let server: McpHarness

  beforeAll(async () => {
    server = await McpHarness.start({
      ...baseEnv(),
      CHATKAZI_MAX_SENDS_PER_MINUTE: "3",
      CHATKAZI_DEDUPE_WINDOW_SECONDS: "30",
      CHATKAZI_ALLOWED_RECIPIENTS: "2547*, +255 711 111 111"
    })
    await server.listTools()
  })

  afterAll(async () => {
    // Whatever the faults, nothing but JSON-RPC went to stdout and the key went nowhere.
    expect(server.protocolErrors).toEqual([])
    expect(server.allOutput).not.toContain(SECRET_API_KEY)
    await server?.close()
  })

  beforeEach(() => gateway.reset())

  describe("reads retry transient failures", () => {
    it("survive two 503s and succeed with exactly three upstream requests", async () => {
      gateway.on(
        "GET",
        "/sessions",
        { status: 503, json: { message: "maintenance" } },
        { status: 503, body: "Service Unavailable" },
        ok([{ sessionId: "default", status: "connected" }])
      )
      const result = await server.call("list_sessions")
      expectOk(result)
      expect(textOf(result)).toContain("1 session(s)")
      expect(gateway.count("GET", "/sessions")).toBe(3)
    })

    it("survive a proxy's HTML error page and a malformed JSON body", async () => {
      gateway.on(
        "GET",
        "/session/status",
        { status: 502, body: "<html><body><h1>502 Bad Gateway</h1></body></html>", headers: { "content-type": "text/html" } },
        { status: 200, body: "{\"success\":true,\"data\":{\"status\":" },
        ok({ sessionId: "default", status: "connected" })
      )
      const result = await server.call("get_session_status", { sessionId: "default" })
      expectOk(result)
      expect(textOf(result)).toContain("connected")
      expect(gateway.count("GET", "/session/status")).toBe(3)
    })

    it("survive a connection reset mid-body", async () => {
      gateway.on("GET", "/sessions", { resetAfter: "{\"success\":true,\"da" }, ok([]))
      expectOk(await server.call("list_sessions"))
      expect(gateway.count("GET", "/sessions")).toBe(2)
    })

    it("give up after three attempts with a bounded, explained failure", async () => {
      gateway.setDefault("GET", "/session/qr", { status: 503, json: { message: "still down" } })
      const text = expectError(await server.call("get_session_qr", { sessionId: "default" }))
      expect(text).toContain("HTTP 503")
      expect(text).toContain("still down")
      expect(gateway.count("GET", "/session/qr")).toBe(3)
    })

    it("honour Retry-After on a 429", async () => {
      gateway.on(
        "GET",
        "/sessions",
        { status: 429, json: { message: "slow down" }, headers: { "retry-after": "1" } },
        ok([])
      )
      expectOk(await server.call("list_sessions"))
      const [first, second] = gateway.received("GET", "/sessions")
      expect(gateway.count("GET", "/sessions")).toBe(2)
      // A lower bound only (load can only make it later): the backoff alone would be ~50 ms.
      expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(950)
    })

    it("cut a hang at the timeout while the server goes on answering other calls", async () => {
      gateway.setDefault("GET", "/session/status", { hang: true })
      gateway.setDefault("GET", "/sessions", ok([{ sessionId: "default", status: "connected" }]))
      let hungSettled = false
      const hung = server.call("get_session_status", { sessionId: "stuck" }).finally(() => {
        hungSettled = true
      })
      await gateway.waitFor((requests) => requests.some((r) => r.path.endsWith("/session/status")))
      for (let i = 0; i < 3; i++) {
        expectOk(await server.call("list_sessions"))
        expect(hungSettled).toBe(false)
      }
      const text = expectError(await hung)
      expect(text).toContain(`did not answer within ${TIMEOUT_MS} ms (CHATKAZI_TIMEOUT_MS)`)
      const attempts = gateway.received("GET", "/session/status")
      expect(attempts).toHaveLength(3)
      // Each hung request was cut by the server (the client side closed it), none left open.
      await gateway.waitFor((requests) =>
        requests.filter((r) => r.path.endsWith("/session/status")).every((r) => r.abortedAt !== undefined)
      )
    })
  })

  describe("a send is never repeated once it may have arrived", () => {
    it("a 500 reaches the gateway once, and the model is told delivery is uncertain", async () => {
      gateway.setDefault("POST", "/messages/text", { status: 500, json: { message: "internal error" } })
      const text = expectError(
        await server.call("send_whatsapp_text", { sessionId: "s500", to: "254712000001", text: "after a 500" })
      )
      expect(text).toMatch(UNCERTAIN)
      expect(text).toContain("HTTP 500")
      expect(gateway.count("POST", "/messages/text")).toBe(1)
    })

    it("a timeout reaches the gateway once, and the model is told delivery is uncertain", async () => {
      gateway.setDefault("POST", "/messages/media", { hang: true })
      const url = gateway.serveMedia("/files/slow.png", { size: 10, contentType: "image/png" })
      const text = expectError(
        await server.call("send_whatsapp_media", { sessionId: "stimeout", to: "254712000002", url })
      )
      expect(text).toMatch(UNCERTAIN)
      expect(text).toContain(`no answer within ${TIMEOUT_MS} ms`)
      expect(gateway.count("POST", "/messages/media")).toBe(1)
    })

    it("a connection reset mid-body is not retried", async () => {
      gateway.setDefault("POST", "/messages/text", { resetAfter: "{\"success\":true,\"data\":{\"messageId\":\"AB" })
      const text = expectError(
        await server.call("send_whatsapp_text", { sessionId: "sreset", to: "254712000003", text: "reset" })
      )
      expect(text).toMatch(UNCERTAIN)
      expect(gateway.count("POST", "/messages/text")).toBe(1)
    })

    it("a 200 that is not JSON is not retried either", async () => {
      gateway.setDefault("POST", "/session/logout", { status: 200, body: "<html>Login to continue</html>" })
      const text = expectError(await server.call("logout_session", { sessionId: "shtml" }))
      expect(text).toMatch(UNCERTAIN)
      // A session change has no recipient to ask: the model is sent to the session's state instead.
      expect(text).toContain("get_session_status")
      expect(text).not.toContain("recipient")
      expect(gateway.count("POST", "/session/logout")).toBe(1)
    })

    it("a 429 proves nothing was sent, so the send waits Retry-After and goes out once", async () => {
      gateway.on(
        "POST",
        "/messages/text",
        { status: 429, json: { message: "too fast" }, headers: { "retry-after": "1" } },
        ok({ messageId: "AFTER-429" })
      )
      const result = await server.call("send_whatsapp_text", { sessionId: "s429", to: "254712000004", text: "429" })
      expectOk(result)
      expect(textOf(result)).toContain("AFTER-429")
      expect(gateway.count("POST", "/messages/text")).toBe(2)
    })
  })

  describe("guards", () => {
    it("the same send inside CHATKAZI_DEDUPE_WINDOW_SECONDS reaches the gateway once", async () => {
      gateway.setDefault("POST", "/messages/text", ok({ messageId: "ONCE-1" }))
      const args = { sessionId: "sdedupe", to: "254712000005", text: "Your order has shipped" }
      const first = await server.call("send_whatsapp_text", args)
      const second = await server.call("send_whatsapp_text", { ...args, to: "+254 712 000 005" })
      expectOk(first)
      expectOk(second)
      expect(first.structuredContent).toMatchObject({ duplicate: false, messageId: "ONCE-1" })
      expect(second.structuredContent).toMatchObject({ duplicate: true, messageId: "ONCE-1" })
      expect(textOf(second)).toMatch(/^Not sent again: the same text message .*CHATKAZI_DEDUPE_WINDOW_SECONDS/s)
      expect(gateway.count("POST", "/messages/text")).toBe(1)
    })

    it("identical sends arriving together also go out once", async () => {
      gateway.setDefault("POST", "/messages/text", { ...ok({ messageId: "TOGETHER" }), delayMs: 300 })
      const args = { sessionId: "sdouble", to: "254712000006", text: "double click" }
      const results = await Promise.all([1, 2, 3].map(() => server.call("send_whatsapp_text", args)))
      results.forEach(expectOk)
      expect(results.map((r) => (r.structuredContent as { duplicate: boolean }).duplicate).sort()).toEqual([
        false,
        true,
        true
      ])
      expect(gateway.count("POST", "/messages/text")).toBe(1)
    })

    it("a burst over CHATKAZI_MAX_SENDS_PER_MINUTE is refused past the limit, nothing extra sent", async () => {
      gateway.setDefault("POST", "/messages/text", ok({ messageId: "BURST" }))
      const results = await Promise.all(
        [1, 2, 3, 4, 5].map((n) =>
          server.call("send_whatsapp_text", { sessionId: "sburst", to: "254712000007", text: `burst ${n}` })
        )
      )
      const refused = results.filter((r) => r.isError)
      expect(results.length - refused.length).toBe(3)
      expect(refused).toHaveLength(2)
      for (const result of refused) {
        expect(textOf(result)).toMatch(/Refused, nothing was sent.*CHATKAZI_MAX_SENDS_PER_MINUTE/s)
      }
      expect(gateway.count("POST", "/messages/text")).toBe(3)
      // Other sessions have their own pace.
      expectOk(await server.call("send_whatsapp_text", { sessionId: "sother", to: "254712000007", text: "other" }))
    })

    it("CHATKAZI_ALLOWED_RECIPIENTS refuses others and allows listed numbers and prefixes", async () => {
      gateway.setDefault("POST", "/messages/text", ok({ messageId: "ALLOWED" }))
      const media = gateway.serveMedia("/files/ok.jpg", { size: 100, contentType: "image/jpeg" })
      for (const to of ["256700000001", "255711111112", "+1 415 555 0100"]) {
        const text = expectError(await server.call("send_whatsapp_text", { sessionId: "sallow", to, text: `to ${to}` }))
        expect(text).toMatch(/not on the allowlist set by CHATKAZI_ALLOWED_RECIPIENTS/)
        expect(text).toContain("nothing was sent")
      }
      expectError(await server.call("send_whatsapp_media", { sessionId: "sallow", to: "256700000001", url: media }))
      // Refused before anything else: not even the media file was looked at.
      expect(gateway.requests).toEqual([])

      for (const to of ["254712000008", "254799999999", "+255 711 111 111"]) {
        expectOk(await server.call("send_whatsapp_text", { sessionId: `sallow-${to.replace(/\D/g, "")}`, to, text: "allowed" }))
      }
      expect(gateway.received("POST", "/messages/text").map((r) => (r.json as { to: string }).to)).toEqual([
        "254712000008",
        "254799999999",
        "255711111111"
      ])
    })
  })
})

describe("CHATKAZI_READ_ONLY=true", () => {
  let server: McpHarness

  beforeAll(async () => {
    gateway.reset()
    server = await McpHarness.start({ ...baseEnv(), CHATKAZI_READ_ONLY: "true" })
  })

  afterAll(async () => {
    await server?.close()
  })

  it("lists only the tools that change nothing", async () => {
    expect((await server.listTools()).map((t) => t.name).sort()).toEqual([
      "get_session_qr",
      "get_session_status",
      "get_webhook_url",
      "list_messages",
      "list_sessions",
      "wait_for_message",
      "wait_for_session"
    ])
  })

  it("refuses a send (or any change) called anyway, sending nothing", async () => {
    gateway.reset()
    gateway.setDefault("POST", "/messages/text", ok())
    const calls: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
      ["send_whatsapp_text", { to: "254712345678", text: "sneaky" }],
      ["send_whatsapp_media", { to: "254712345678", url: gateway.url("/files/x.jpg") }],
      ["start_session", {}],
      ["logout_session", { sessionId: "default" }]
    ]
    for (const [name, args] of calls) {
      const text = expectError(await server.call(name, args))
      expect(text, name).toMatch(/Refused, nothing was sent.*CHATKAZI_READ_ONLY=true/s)
    }
    expect(gateway.requests).toEqual([])
  })

  it("still allows the reads", async () => {
    gateway.reset()
    gateway.setDefault("GET", "/sessions", ok([]))
    expectOk(await server.call("list_sessions"))
    expect(gateway.count()).toBe(1)
  })
})

// Each case has its own process and gateway, so the three run side by side.
describe.concurrent("shutdown answers the calls in flight", () => {
  const exitWithin = (harness: McpHarness, ms = 15_000): Promise<Exit | "still running"> =>
    Promise.race([
      harness.exited,
      new Promise<"still running">((resolve) => setTimeout(() => resolve("still running"), ms).unref())
    ])

  /** A fresh gateway and server; both are stopped when the test ends. */
  const start = async (onTestFinished: (fn: () => Promise<void>) => void, env: Record<string, string> = {}) => {
    const own = await ScriptedGateway.start()
    onTestFinished(() => own.close())
    const running = await McpHarness.start(
      { ...baseEnv(), CHATKAZI_BASE_URL: own.baseUrl, ...env },
      { transport: "raw" }
    )
    onTestFinished(() => running.close())
    await running.listTools()
    return { gateway: own, running }
  }

  it("stdin closes while a send is in flight: the send completes and is answered, then exit 0", async ({ onTestFinished }) => {
    const { gateway, running } = await start(onTestFinished)
    gateway.setDefault("POST", "/messages/text", { ...ok({ messageId: "LAST-WORDS" }), delayMs: 800 })
    const call = running.call("send_whatsapp_text", { to: "254712345678", text: "in flight at stdin close" })
    await gateway.waitFor((requests) => requests.length === 1)
    running.child.stdin.end()
    const result = await call
    expectOk(result)
    expect(textOf(result)).toContain("LAST-WORDS")
    expect(await exitWithin(running)).toEqual({ code: 0, signal: null })
    expect(gateway.count()).toBe(1)
  })

  it("SIGTERM while a read is in flight: the read is answered, then exit 0", async ({ onTestFinished }) => {
    const { gateway, running } = await start(onTestFinished)
    gateway.setDefault("GET", "/sessions", { ...ok([{ sessionId: "default", status: "connected" }]), delayMs: 800 })
    const call = running.call("list_sessions")
    await gateway.waitFor((requests) => requests.length === 1)
    running.child.kill("SIGTERM")
    expectOk(await call)
    expect(await exitWithin(running)).toEqual({ code: 0, signal: null })
  })

  it("SIGTERM while a send hangs past the grace period: the model is told it may have taken effect, exit 0", async ({ onTestFinished }) => {
    const { gateway, running } = await start(onTestFinished, { CHATKAZI_TIMEOUT_MS: "60000" })
    gateway.setDefault("POST", "/messages/text", { hang: true })
    const call = running.call("send_whatsapp_text", { to: "254712345678", text: "hanging at shutdown" })
    await gateway.waitFor((requests) => requests.length === 1)
    running.child.kill("SIGTERM")
    const text = expectError(await call)
    expect(text).toMatch(/may or may not have taken effect/)
    // Exits after the few seconds' grace, not after the 60 s request timeout.
    expect(await exitWithin(running)).toEqual({ code: 0, signal: null })
    expect(gateway.count()).toBe(1)
  })
})
