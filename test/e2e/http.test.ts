/**
 * End to end, issue 11: `chatkazi-mcp http` as a remote host sees it, through the SDK's Streamable
 * HTTP client against the built server as a subprocess, with ScriptedGateway as ChatKazi (so every
 * `x-api-key` that reached "ChatKazi" can be checked).
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { type CallToolResult, CallToolResultSchema, type Progress } from "@modelcontextprotocol/sdk/types.js"
import { createHash } from "node:crypto"
import { request } from "node:http"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { HttpServerProcess } from "../support/HttpServerProcess.js"
import { textOf } from "../support/McpHarness.js"
import { ScriptedGateway } from "../support/ScriptedGateway.js"

const KEY_A = "ck_http_ACCOUNT-A-7f3e9b21-never-print"
const KEY_B = "ck_http_ACCOUNT-B-1c5d8a44-never-print"
const SHARED_KEY = "ck_http_SHARED-9a2b7c1d-never-print"
const TOKEN_1 = "tok_first_0123456789abcdef"
const TOKEN_2 = "tok_second_fedcba9876543210"
const SECRETS = [KEY_A, KEY_B, SHARED_KEY, TOKEN_1, TOKEN_2]

const ok = (data: unknown = {}) => ({ json: { success: true, data } })
const hashPrefix = (key: string) => createHash("sha256").update(key).digest("hex").slice(0, 8)

const JSON_RPC_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" }
const LIST_TOOLS = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" })

let gateway: ScriptedGateway
const servers: Array<HttpServerProcess> = []
const clients: Array<Client> = []

const start = async (env: Record<string, string>, args?: ReadonlyArray<string>) => {
  const server = await HttpServerProcess.start(
    { CHATKAZI_BASE_URL: gateway.baseUrl, CHATKAZI_RETRY_BASE_DELAY_MS: "0", ...env },
    args === undefined ? {} : { args }
  )
  servers.push(server)
  return server
}

const connect = async (server: HttpServerProcess, bearer?: string, headers?: Record<string, string>) => {
  const client = await server.connect(bearer, headers)
  clients.push(client)
  return client
}

/** The HTTP status the SDK client's connection attempt was refused with. */
const refusal = (connecting: Promise<Client>): Promise<unknown> =>
  connecting.then(() => "connected", (error: { code?: unknown }) => error.code)

const call = async (client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> =>
  CallToolResultSchema.parse(await client.callTool({ name, arguments: args }))

/** A raw POST to /mcp, for what the SDK client never sends (bad JSON, huge bodies, foreign Host). */
const rawPost = (
  url: string,
  headers: Record<string, string>,
  body: string | Buffer = LIST_TOOLS
): Promise<{ status: number; headers: Record<string, string | Array<string> | undefined>; body: string }> =>
  new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers: { ...JSON_RPC_HEADERS, ...headers } }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (chunk: Buffer) => chunks.push(chunk))
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") })
      )
    })
    // The server may answer (413) and close before the whole body is written.
    req.on("error", reject)
    req.end(body)
  })

beforeAll(async () => {
  gateway = await ScriptedGateway.start()
})

afterEach(() => {
  gateway.reset()
})

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close().catch(() => undefined)))
  for (const server of servers) {
    // Whatever a server printed, no key or token may appear in it.
    for (const secret of SECRETS) expect(server.stderr).not.toContain(secret)
    await server.kill()
  }
  await gateway?.close()
})

describe("bring-your-own-key (no CHATKAZI_API_KEY on the server)", () => {
  let server: HttpServerProcess

  beforeAll(async () => {
    server = await start({ CHATKAZI_ALLOWED_ORIGINS: "https://app.example.com" })
  })

  it("says where it listens, in which auth mode and with which state store, in one line", () => {
    const line = server.stderr.split("\n").find((l) => l.includes("Listening on"))!
    expect(line).toMatch(/http:\/\/127\.0\.0\.1:\d+\/mcp/)
    expect(line).toContain("bring-your-own-key")
    expect(line).toContain("state store: in memory")
  })

  it("answers /healthz without credentials, reporting the state store", async () => {
    const response = await fetch(`${await server.origin()}/healthz`)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ ok: true, stateStore: { kind: "in memory (this process only)", reachable: true } })
  })

  it("refuses a client without a key with 401 and WWW-Authenticate: Bearer, sending nothing upstream", async () => {
    expect(await refusal(connect(server))).toBe(401)
    const response = await rawPost(await server.url(), {})
    expect(response.status).toBe(401)
    expect(response.headers["www-authenticate"]).toMatch(/^Bearer\b/)
    expect(JSON.parse(response.body)).toMatchObject({ jsonrpc: "2.0", error: { code: -32001 } })
    expect(gateway.requests).toHaveLength(0)
  })

  it("uses each request's bearer key for its own ChatKazi calls, and keeps two accounts apart", async () => {
    gateway.setDefault("GET", "/sessions", (req) =>
      ok([{ sessionId: req.headers["x-api-key"] === KEY_A ? "alpha-shop" : "beta-clinic", status: "connected" }])
    )
    const [a, b] = await Promise.all([connect(server, KEY_A), connect(server, KEY_B)])
    const [resultA, resultB] = await Promise.all([call(a, "list_sessions"), call(b, "list_sessions")])

    expect(textOf(resultA)).toContain("alpha-shop")
    expect(textOf(resultA)).not.toContain("beta-clinic")
    expect(textOf(resultB)).toContain("beta-clinic")
    expect(textOf(resultB)).not.toContain("alpha-shop")
    expect(gateway.received("GET", "/sessions").map((r) => r.headers["x-api-key"]).sort()).toEqual([KEY_A, KEY_B].sort())

    // The request log names each call's account by a hash prefix, never by its key.
    await server.waitForStderr((stderr) => (stderr.match(/"tool":"list_sessions"/g) ?? []).length >= 2)
    const calls = server.requestLog.filter((line) => line["tool"] === "list_sessions")
    expect(calls.map((line) => line["account"]).sort()).toEqual([hashPrefix(KEY_A), hashPrefix(KEY_B)].sort())
    for (const line of calls) {
      expect(line).toMatchObject({ method: "tools/call", status: 200 })
      expect(typeof line["ms"]).toBe("number")
      expect(Date.parse(String(line["time"]))).not.toBeNaN()
    }
  })

  // Each account's services are kept between its requests: many at once, in turn, never cross.
  it("keeps two accounts apart over many requests at once, round after round", async () => {
    gateway.setDefault("GET", "/sessions", (req) =>
      ok([{ sessionId: req.headers["x-api-key"] === KEY_A ? "alpha-shop" : "beta-clinic", status: "connected" }])
    )
    const [a, b] = await Promise.all([connect(server, KEY_A), connect(server, KEY_B)])
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => call(i % 2 === 0 ? a : b, "list_sessions")))
      results.forEach((result, i) => {
        const [own, other] = i % 2 === 0 ? ["alpha-shop", "beta-clinic"] : ["beta-clinic", "alpha-shop"]
        expect(textOf(result)).toContain(own)
        expect(textOf(result)).not.toContain(other)
      })
    }
    const keys = gateway.received("GET", "/sessions").map((r) => r.headers["x-api-key"])
    expect(keys.filter((key) => key === KEY_A)).toHaveLength(12)
    expect(keys.filter((key) => key === KEY_B)).toHaveLength(12)
  })

  // Dedupe and pace are keyed by account: the same send from two accounts is two messages.
  it("sends the same message for two accounts twice, each with its own key and receipt", async () => {
    gateway.setDefault("POST", "/messages/text", (req) => ok({ messageId: `msg-${String(req.headers["x-api-key"]).slice(8, 17)}` }))
    const [a, b] = await Promise.all([connect(server, KEY_A), connect(server, KEY_B)])
    const send = { sessionId: "default", to: "254712345678", text: "Your order is ready" }
    const resultA = await call(a, "send_whatsapp_text", send)
    const resultB = await call(b, "send_whatsapp_text", send)
    expect(gateway.received("POST", "/messages/text").map((r) => r.headers["x-api-key"])).toEqual([KEY_A, KEY_B])
    expect(JSON.stringify(resultA)).toContain("msg-ACCOUNT-A")
    expect(JSON.stringify(resultB)).toContain("msg-ACCOUNT-B")
    expect(JSON.stringify(resultB)).not.toContain("msg-ACCOUNT-A")
  })

  it("gives a key that ChatKazi rejects the usual Unauthorized guidance", async () => {
    gateway.setDefault("GET", "/sessions", { status: 401, json: { message: "invalid api key" } })
    const client = await connect(server, "ck_wrong_key")
    const result = await call(client, "list_sessions")
    expect(result.isError).toBe(true)
    expect(textOf(result)).toContain("ChatKazi rejected the API key (HTTP 401)")
    expect(gateway.received("GET", "/sessions").map((r) => r.headers["x-api-key"])).toEqual(["ck_wrong_key"])
  })

  it("streams wait_for_session progress before the result", async () => {
    // connecting, not qr_ready: a QR not yet shown would end the wait at once (it is handed to the model).
    gateway.on("GET", "/session/status", ok({ sessionId: "default", status: "connecting" }), ok({ status: "connecting" }))
    gateway.setDefault("GET", "/session/status", ok({ sessionId: "default", status: "connected" }))
    const client = await connect(server, KEY_A)
    const progress: Array<{ at: number; progress: Progress }> = []
    const result = CallToolResultSchema.parse(
      await client.callTool(
        { name: "wait_for_session", arguments: { sessionId: "default", intervalSeconds: 0.5, timeoutSeconds: 10 } },
        CallToolResultSchema,
        { onprogress: (p) => void progress.push({ at: Date.now(), progress: p }) }
      )
    )
    expect(textOf(result)).toContain("is connected")
    const polls = gateway.received("GET", "/session/status")
    expect(polls).toHaveLength(3)
    expect(progress.length).toBeGreaterThanOrEqual(1)
    expect(progress[0]!.progress.message).toMatch(/^connecting after/)
    // The first report reached the client while the server was still polling: streamed, not buffered.
    expect(progress[0]!.at).toBeLessThan(polls[2]!.receivedAt)
  })

  it("refuses a browser Origin that is not allowed, and lets an allowed one through", async () => {
    expect(await refusal(connect(server, KEY_A, { Origin: "https://evil.example" }))).toBe(403)
    const client = await connect(server, KEY_A, { Origin: "https://app.example.com" })
    expect((await client.listTools()).tools.length).toBeGreaterThan(0)
  })

  it("refuses a Host other than localhost on a loopback bind (DNS rebinding)", async () => {
    const response = await rawPost(await server.url(), { authorization: `Bearer ${KEY_A}`, host: "attacker.example:80" })
    expect(response.status).toBe(403)
    const local = await rawPost(await server.url(), {
      authorization: `Bearer ${KEY_A}`,
      host: `localhost:${new URL(await server.url()).port}`
    })
    expect(local.status).toBe(200)
  })

  it("answers a body over 4 MiB with 413 and malformed JSON with -32700 and 400", async () => {
    const url = await server.url()
    const huge = Buffer.alloc(4 * 1024 * 1024 + 1, 0x20)
    expect((await rawPost(url, { authorization: `Bearer ${KEY_A}` }, huge)).status).toBe(413)
    const malformed = await rawPost(url, { authorization: `Bearer ${KEY_A}` }, "{\"jsonrpc\":\"2.0\",")
    expect(malformed.status).toBe(400)
    expect(JSON.parse(malformed.body)).toMatchObject({ jsonrpc: "2.0", error: { code: -32700 }, id: null })
    expect(gateway.requests).toHaveLength(0)
  })

  it("answers GET and DELETE on /mcp with 405 (stateless: no stream, no session to end)", async () => {
    for (const method of ["GET", "DELETE"]) {
      const response = await fetch(await server.url(), { method, headers: { authorization: `Bearer ${KEY_A}` } })
      expect(response.status).toBe(405)
      expect(response.headers.get("allow")).toBe("POST")
    }
  })
})

describe("shared key (CHATKAZI_API_KEY set on the server)", () => {
  let server: HttpServerProcess

  beforeAll(async () => {
    server = await start({ CHATKAZI_API_KEY: SHARED_KEY, CHATKAZI_HTTP_TOKENS: `${TOKEN_1}, ${TOKEN_2}` })
  })

  it("refuses a missing or unknown token with 401, sending nothing upstream", async () => {
    expect(await refusal(connect(server))).toBe(401)
    expect(await refusal(connect(server, "tok_not_one_of_them_at_all"))).toBe(401)
    // The ChatKazi key itself is not an access token.
    expect(await refusal(connect(server, SHARED_KEY))).toBe(401)
    const response = await rawPost(await server.url(), { authorization: `Bearer ${TOKEN_1}x` })
    expect(response.status).toBe(401)
    expect(response.headers["www-authenticate"]).toMatch(/^Bearer\b/)
    expect(gateway.requests).toHaveLength(0)
  })

  it("lets any listed token in, and calls ChatKazi with the server's key", async () => {
    gateway.setDefault("GET", "/sessions", ok([{ sessionId: "team", status: "connected" }]))
    for (const token of [TOKEN_1, TOKEN_2]) {
      const client = await connect(server, token)
      expect(textOf(await call(client, "list_sessions"))).toContain("team")
    }
    expect(gateway.received("GET", "/sessions").map((r) => r.headers["x-api-key"])).toEqual([SHARED_KEY, SHARED_KEY])
    expect(server.requestLog.filter((l) => l["tool"] === "list_sessions").map((l) => l["account"])).toContain(
      hashPrefix(SHARED_KEY)
    )
  })

  it("refuses to start without tokens unless it listens on loopback only", async () => {
    const exposed = HttpServerProcess.spawn(
      { CHATKAZI_API_KEY: SHARED_KEY, CHATKAZI_BASE_URL: gateway.baseUrl },
      { args: ["--port", "0", "--host", "0.0.0.0"] }
    )
    servers.push(exposed)
    expect(await exposed.exitWithin()).toEqual({ code: 1, signal: null })
    expect(exposed.stderr).toContain("CHATKAZI_HTTP_TOKENS")
    expect(exposed.stderr).not.toContain("Listening on")

    const local = await start({ CHATKAZI_API_KEY: SHARED_KEY })
    expect(local.stderr).toContain("shared key, no tokens (loopback only)")
    gateway.setDefault("GET", "/sessions", ok([]))
    await call(await connect(local), "list_sessions")
    expect(gateway.received("GET", "/sessions").map((r) => r.headers["x-api-key"])).toEqual([SHARED_KEY])
  })
})

describe("calls in flight", () => {
  it("bounds requests to ChatKazi per process, across every caller's key", async () => {
    const server = await start({ CHATKAZI_MAX_CONCURRENCY: "1" })
    gateway.setDefault("GET", "/session/status", { ...ok({ sessionId: "default", status: "connected" }), delayMs: 300 })
    const [a, b] = await Promise.all([connect(server, KEY_A), connect(server, KEY_B)])
    await Promise.all([
      call(a, "get_session_status", { sessionId: "default" }),
      call(b, "get_session_status", { sessionId: "default" })
    ])
    const [first, second] = gateway.received("GET", "/session/status")
    expect(new Set([first!.headers["x-api-key"], second!.headers["x-api-key"]])).toEqual(new Set([KEY_A, KEY_B]))
    // The second caller's request waited for the first one's answer (300 ms) before it left.
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(250)
  })

  it("stops a call whose client went away: no more polling of ChatKazi", async () => {
    const server = await start({})
    gateway.setDefault("GET", "/session/status", ok({ sessionId: "default", status: "connecting" }))
    const client = await server.connect(KEY_A)
    const waiting = client.callTool({
      name: "wait_for_session",
      arguments: { sessionId: "default", intervalSeconds: 0.5, timeoutSeconds: 60 }
    }).catch((error: unknown) => error)
    await gateway.waitFor(() => gateway.count("GET", "/session/status") >= 2)
    // Closing the client closes its connection, and with it the call's response stream.
    await client.close()
    await waiting
    await server.waitForStderr((stderr) => /"tool":"wait_for_session".*"aborted":true/.test(stderr))
    const polls = gateway.count("GET", "/session/status")
    // Two more polling intervals: a call still running would have polled again.
    await new Promise((resolve) => setTimeout(resolve, 1_100))
    expect(gateway.count("GET", "/session/status")).toBe(polls)
  })
})

describe("shutdown", () => {
  it("on SIGTERM stops accepting, lets a slow call finish, and exits 0", async () => {
    const server = await start({})
    gateway.setDefault("GET", "/session/status", { ...ok({ sessionId: "default", status: "connected" }), delayMs: 1_500 })
    const client = await connect(server, KEY_A)
    const slow = call(client, "get_session_status", { sessionId: "default" })
    await gateway.waitFor((requests) => requests.length === 1)

    server.child.kill("SIGTERM")
    await server.waitForStderr((stderr) => stderr.includes("Shutting down"))
    // Stopped accepting: a new request does not get through.
    const late = await fetch(`${await server.origin()}/healthz`).then((r) => r.status, () => "refused")
    expect(late).not.toBe(200)

    const result = await slow
    expect(result.isError ?? false).toBe(false)
    expect(textOf(result)).toContain("connected")
    expect(await server.exitWithin()).toEqual({ code: 0, signal: null })
  })
})
