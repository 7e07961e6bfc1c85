/**
 * What a newcomer meets at the command line, on the built bin: `check`, the ready line, the
 * warning without a key, and a sandbox port that is taken. Real processes and real sockets.
 */
import { spawn } from "node:child_process"
import { createServer, type Server } from "node:http"
import { createServer as createNetServer } from "node:net"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { McpHarness, textOf } from "../support/McpHarness.js"
import { serverEntry, serverNode } from "../support/serverEntry.js"

const KEY = "ck_live_diagnostics_secret_42"

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs the bin to its end with exactly `env` (and PATH). */
const runBin = (args: ReadonlyArray<string>, env: Record<string, string>, stdin = "") =>
  new Promise<Run>((done, fail) => {
    const child = spawn(serverNode, [serverEntry, ...args], { env: { PATH: process.env.PATH ?? "", ...env } })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk) => (stdout += chunk))
    child.stderr.on("data", (chunk) => (stderr += chunk))
    child.on("error", fail)
    child.on("exit", (code) => done({ code, stdout, stderr }))
    child.stdin.end(stdin)
  })

const listen = (server: Server) =>
  new Promise<string>((ready) => server.listen(0, "127.0.0.1", () => ready(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)))

describe("chatkazi-mcp check", () => {
  const seen: Array<string | undefined> = []
  const gateway = createServer((request, response) => {
    seen.push(request.url)
    response.setHeader("content-type", "application/json")
    if (request.headers["x-api-key"] !== KEY) {
      response.statusCode = 401
      response.end(JSON.stringify({ success: false, message: "Invalid API key" }))
    } else {
      response.end(JSON.stringify({ success: true, data: [{ sessionId: "default", status: "connected" }] }))
    }
  })
  let origin = ""
  beforeAll(async () => {
    origin = await listen(gateway)
  })
  afterAll(() => void gateway.close())

  it("a valid key: a verdict per setting, the key valid, exit 0, one list_sessions call, the key never printed", async () => {
    seen.length = 0
    const run = await runBin(["check"], { CHATKAZI_API_KEY: KEY, CHATKAZI_BASE_URL: `${origin}/api/v1` })
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/✓ CHATKAZI_BASE_URL\s+ok: http:\/\/127\.0\.0\.1:\d+\/api\/v1/)
    expect(run.stdout).toMatch(/✓ CHATKAZI_READ_ONLY\s+ok: off/)
    expect(run.stdout).toMatch(/✓ API key\s+valid: .* listed 1 session/)
    expect(seen).toEqual(["/api/v1/sessions"])
    expect(run.stdout + run.stderr).not.toContain(KEY)
  })

  it("a rejected key: says so with the gateway's words, exit 1, the key never printed", async () => {
    const run = await runBin(["check"], { CHATKAZI_API_KEY: `${KEY}-wrong`, CHATKAZI_BASE_URL: `${origin}/api/v1` })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/✗ API key\s+rejected by ChatKazi \(HTTP 401: "Invalid API key"\)/)
    expect(run.stdout + run.stderr).not.toContain(KEY)
  })

  it("an unreachable gateway: the base URL and the cause, exit 1", async () => {
    const closed = createServer()
    const url = `${await listen(closed)}/api/v1`
    await new Promise((done) => closed.close(done))
    const run = await runBin(["check"], { CHATKAZI_API_KEY: KEY, CHATKAZI_BASE_URL: url })
    expect(run.code).toBe(1)
    expect(run.stdout).toContain(`✗ API key`)
    expect(run.stdout).toContain(`unreachable, so not checked: Could not reach ChatKazi at ${url}: ECONNREFUSED`)
  })

  it("bad settings: each one named with its problem, the key not tried, exit 1", async () => {
    seen.length = 0
    const run = await runBin(["check"], {
      CHATKAZI_API_KEY: KEY,
      CHATKAZI_BASE_URL: `${origin}/api/v1`,
      CHATKAZI_TIMEOUT_MS: "soon",
      CHATKAZI_ALLOWED_RECIPIENTS: "mum"
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/✗ CHATKAZI_TIMEOUT_MS\s+invalid: /)
    expect(run.stdout).toMatch(/✗ CHATKAZI_ALLOWED_RECIPIENTS\s+invalid: "mum" is not a phone number/)
    expect(run.stdout).toMatch(/✓ CHATKAZI_API_KEY\s+ok: set \(not shown\)/)
    expect(run.stdout).toMatch(/✗ API key\s+not checked: fix the settings above first/)
    expect(seen).toEqual([])
  })

  it("the linking and shared-state settings too: a bad wait named, the Redis URL shown without its password", async () => {
    const run = await runBin(["check"], {
      CHATKAZI_API_KEY: KEY,
      CHATKAZI_BASE_URL: `${origin}/api/v1`,
      CHATKAZI_QR_WAIT_SECONDS: "a while",
      CHATKAZI_CONFIRM_SENDS: "always",
      CHATKAZI_REDIS_URL: "redis://:hunter2-redis-secret@127.0.0.1:6390/2"
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/✗ CHATKAZI_QR_WAIT_SECONDS\s+invalid: /)
    expect(run.stdout).toMatch(/✓ CHATKAZI_CONFIRM_SENDS\s+ok: always/)
    expect(run.stdout).toMatch(/✓ CHATKAZI_REDIS_URL\s+ok: Redis at redis:\/\/127\.0\.0\.1:6390\/2/)
    expect(run.stdout + run.stderr).not.toContain("hunter2")
  })

  it("the receiving settings too: a bad secret named without quoting it, the port and public URL judged", async () => {
    const secret = "short-hunter2-secret"
    const run = await runBin(["check"], {
      CHATKAZI_API_KEY: KEY,
      CHATKAZI_BASE_URL: `${origin}/api/v1`,
      CHATKAZI_SECRET: secret,
      CHATKAZI_WEBHOOK_PORT: "88888",
      CHATKAZI_PUBLIC_URL: "https://mcp.example.com/path"
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/✗ CHATKAZI_SECRET\s+invalid: it must be at least 32 bytes/)
    expect(run.stdout).toMatch(/✗ CHATKAZI_WEBHOOK_PORT\s+invalid: expected a port from 0 to 65535, got "88888"/)
    expect(run.stdout).toMatch(/✓ CHATKAZI_WEBHOOK_HOST\s+ok: 127\.0\.0\.1/)
    expect(run.stdout).toMatch(/✗ CHATKAZI_PUBLIC_URL\s+invalid: it must be an origin only/)
    expect(run.stdout + run.stderr).not.toContain(secret)

    const good = await runBin(["check"], {
      CHATKAZI_API_KEY: KEY,
      CHATKAZI_BASE_URL: `${origin}/api/v1`,
      CHATKAZI_SECRET: "a".repeat(64),
      CHATKAZI_WEBHOOK_PORT: "8788"
    })
    expect(good.code).toBe(0)
    expect(good.stdout).toMatch(/✓ CHATKAZI_SECRET\s+ok: set \(not shown\)/)
    expect(good.stdout).toMatch(/✓ CHATKAZI_WEBHOOK_PORT\s+ok: port 8788/)
    expect(good.stdout).toMatch(/✓ CHATKAZI_PUBLIC_URL\s+ok: not set/)
    expect(good.stdout).not.toContain("a".repeat(64))
  })

  it("no key: says it is not set and offers the sandbox, exit 1", async () => {
    const run = await runBin(["check"], {})
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/✗ CHATKAZI_API_KEY\s+not set: .*--sandbox/)
  })
})

describe("serving live", () => {
  it("writes one ready line to stderr after start, with the settings and without the key", async () => {
    const child = spawn(serverNode, [serverEntry], {
      env: { PATH: process.env.PATH ?? "", CHATKAZI_API_KEY: KEY, CHATKAZI_BASE_URL: "http://127.0.0.1:9/api/v1", CHATKAZI_READ_ONLY: "true" }
    })
    let stderr = ""
    const exited = new Promise((done) => child.once("exit", done))
    const line = await new Promise<string>((resolve, reject) => {
      child.stderr.on("data", (chunk) => {
        stderr += chunk
        const ready = stderr.split("\n").find((l) => l.includes("ready on stdio"))
        if (ready) resolve(ready)
      })
      child.once("exit", () => reject(new Error(`exited early:\n${stderr}`)))
    })
    child.stdin.end()
    await exited
    expect(line).toContain("ChatKazi at http://127.0.0.1:9/api/v1")
    expect(line).toContain("read-only")
    expect(stderr).not.toContain(KEY)
  })

  it("without a key, the warning on stderr and every tool result mention --sandbox", async () => {
    const requests = [
      { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } },
      { jsonrpc: "2.0", method: "notifications/initialized" },
      { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "list_sessions", arguments: {} } }
    ]
    const child = spawn(serverNode, [serverEntry], { env: { PATH: process.env.PATH ?? "" } })
    let stdout = ""
    let stderr = ""
    child.stderr.on("data", (chunk) => (stderr += chunk))
    const exited = new Promise((done) => child.once("exit", done))
    const result = await new Promise<{ isError?: boolean; content: Array<{ text: string }> }>((resolve) => {
      child.stdout.on("data", (chunk) => {
        stdout += chunk
        const answer = stdout.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l)).find((m) => m.id === 2)
        if (answer) resolve(answer.result)
      })
      for (const request of requests) child.stdin.write(JSON.stringify(request) + "\n")
    })
    child.stdin.end()
    await exited
    expect(result.isError).toBe(true)
    expect(result.content[0]!.text).toContain("--sandbox")
    expect(stderr).toContain("CHATKAZI_API_KEY is not set")
    expect(stderr).toContain("--sandbox")
  })
})

describe("serving live with an unusable receiving setting", () => {
  it("a bad CHATKAZI_SECRET turns receiving off with one warning; the other tools work, the receiving tools name it", async () => {
    const secret = "too-short-hunter2"
    const server = await McpHarness.start({
      CHATKAZI_API_KEY: KEY,
      CHATKAZI_BASE_URL: "http://127.0.0.1:9/api/v1",
      CHATKAZI_SECRET: secret,
      CHATKAZI_READ_ONLY: "true"
    })
    try {
      const sessions = await server.call("list_sessions", {})
      // The gateway is unreachable here: what matters is that the tool ran instead of failing on the setting.
      expect(textOf(sessions)).not.toContain("CHATKAZI_SECRET")
      expect(textOf(sessions)).toContain("127.0.0.1:9")
      for (const [name, args] of [["get_webhook_url", {}], ["list_messages", {}], ["wait_for_message", { timeoutSeconds: 1 }]] as const) {
        const result = await server.call(name, args)
        expect(result.isError, name).toBe(true)
        expect(textOf(result), name).toContain("The setting CHATKAZI_SECRET is invalid: it must be at least 32 bytes")
      }
      const warnings = server.stderr.split("\n").filter((line) => line.includes("Receiving incoming messages is off"))
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toContain("CHATKAZI_SECRET is invalid")
      expect(server.stderr).not.toContain(secret)
    } finally {
      await server.close()
    }
  })
})

describe("chatkazi-mcp sandbox --port N", () => {
  it("on a port in use: says so on stderr and exits 1", async () => {
    const taken = createNetServer()
    await new Promise<void>((ready) => taken.listen(0, "127.0.0.1", ready))
    const port = (taken.address() as AddressInfo).port
    try {
      const run = await runBin(["sandbox", "--port", String(port)], {})
      expect(run.code).toBe(1)
      expect(run.stderr).toContain(`Port ${port} on 127.0.0.1 is already in use`)
      expect(run.stderr).toContain("--port 0")
    } finally {
      taken.close()
    }
  })
})
