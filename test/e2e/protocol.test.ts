/**
 * The stdio protocol edge answers every message, through the built server: lines that are not JSON,
 * messages that are not JSON-RPC, batches, tool arguments that are not an object, and messages over
 * the size limit each get an error answer, and the server keeps serving the next message.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { McpHarness, SECRET_API_KEY } from "../support/McpHarness.js"

let server: McpHarness

beforeAll(async () => {
  server = await McpHarness.start(
    { CHATKAZI_API_KEY: SECRET_API_KEY, CHATKAZI_BASE_URL: "http://127.0.0.1:9/api/v1" },
    { transport: "raw", requestTimeoutMs: 10_000 }
  )
})

afterAll(async () => {
  await server?.close()
})

interface Answer {
  readonly jsonrpc: string
  readonly id: string | number | null
  readonly result?: unknown
  readonly error?: { readonly code: number; readonly message: string }
}

/** Writes raw text to the server's stdin and resolves with the first new stdout line that `matches`. */
const exchange = (text: string | Buffer, matches: (answer: Answer) => boolean): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const seen = server.stdoutLines.length
    const check = () => {
      for (const line of server.stdoutLines.slice(seen)) {
        const answer = JSON.parse(line) as Answer
        if (matches(answer)) {
          server.child.stdout.off("data", onData)
          clearTimeout(timer)
          return resolve(answer)
        }
      }
    }
    // The harness records the line on the same event; look once it has.
    const onData = () => setImmediate(check)
    const timer = setTimeout(() => {
      server.child.stdout.off("data", onData)
      reject(new Error(`no matching answer; stdout: ${server.stdoutLines.slice(seen).join("\n")}`))
    }, 10_000)
    server.child.stdout.on("data", onData)
    server.child.stdin.write(text)
  })

const withId = (id: string | number | null) => (answer: Answer) => answer.id === id && answer.error !== undefined

/** The server still answers: a ping through the SDK client. */
const stillServing = () => expect(server.client.ping()).resolves.toEqual({})

describe("the stdio protocol edge", () => {
  it("answers a line that is not JSON with -32700 and id null, and keeps serving", async () => {
    const answer = await exchange("this is not json\n", withId(null))
    expect(answer).toMatchObject({ jsonrpc: "2.0", id: null, error: { code: -32700 } })
    await stillServing()
  })

  it("answers requests that are not valid JSON-RPC with -32600", async () => {
    const nullId = await exchange(`${JSON.stringify({ jsonrpc: "2.0", id: null, method: "ping" })}\n`, withId(null))
    expect(nullId.error).toMatchObject({ code: -32600, message: expect.stringContaining('"id"') })

    const noVersion = await exchange(`${JSON.stringify({ id: 71, method: "ping" })}\n`, withId(71))
    expect(noVersion.error).toMatchObject({ code: -32600, message: expect.stringContaining('"jsonrpc"') })

    const wrongVersion = await exchange(`${JSON.stringify({ jsonrpc: "1.0", id: 72, method: "ping" })}\n`, withId(72))
    expect(wrongVersion.error?.code).toBe(-32600)

    const numericMethod = await exchange(`${JSON.stringify({ jsonrpc: "2.0", id: 73, method: 5 })}\n`, withId(73))
    expect(numericMethod.error).toMatchObject({ code: -32600, message: expect.stringContaining('"method"') })

    const scalar = await exchange("42\n", withId(null))
    expect(scalar.error?.code).toBe(-32600)
    await stillServing()
  })

  it("answers a batch with one -32600 that says batches are not supported", async () => {
    const batch = [{ jsonrpc: "2.0", id: 81, method: "ping" }, { jsonrpc: "2.0", id: 82, method: "ping" }]
    const answer = await exchange(`${JSON.stringify(batch)}\n`, withId(null))
    expect(answer.error).toMatchObject({ code: -32600, message: expect.stringMatching(/batch/i) })
    await stillServing()
  })

  it.each([
    ["an array", [1, 2]],
    ["a string", "sessionId=default"],
    ["a number", 7],
    ["null", null]
  ])("answers tools/call with %s as arguments with -32602 and one short sentence", async (_, args) => {
    const id = `args-${String(_).replace(/\s/g, "-")}`
    const request = { jsonrpc: "2.0", id, method: "tools/call", params: { name: "get_session_status", arguments: args } }
    const answer = await exchange(`${JSON.stringify(request)}\n`, withId(id))
    expect(answer.error).toEqual({ code: -32602, message: "The arguments of get_session_status must be a JSON object." })
  })

  it("answers other malformed params with -32602 in one sentence, not a validator dump", async () => {
    const request = { jsonrpc: "2.0", id: 91, method: "tools/call", params: { arguments: {} } }
    const answer = await exchange(`${JSON.stringify(request)}\n`, withId(91))
    expect(answer.error?.code).toBe(-32602)
    expect(answer.error?.message).toMatch(/^Invalid params for tools\/call: params\.name: [^\n]+\.$/)
  })

  it("answers an unknown tool with -32602 naming the tools that exist", async () => {
    await expect(server.client.callTool({ name: "send_sms", arguments: {} })).rejects.toMatchObject({
      code: -32602,
      message: expect.stringContaining("The tools are: list_sessions, start_session")
    })
  })

  it("skips a message over the size limit with an error answer, and serves the next one", async () => {
    const huge = JSON.stringify({
      jsonrpc: "2.0",
      id: 99,
      method: "tools/call",
      params: { name: "get_session_status", arguments: { sessionId: "x".repeat(4 * 1024 * 1024) } }
    })
    const answer = await exchange(`${huge}\n`, withId(null))
    expect(answer.error).toMatchObject({ code: -32600, message: expect.stringContaining("limit of 4194304 bytes") })
    expect(server.stderr).toContain("over the 4194304-byte limit")
    await stillServing()
  })

  it("wrote nothing but JSON-RPC answers to stdout, and never the key", () => {
    for (const line of server.stdoutLines) expect(JSON.parse(line)).toMatchObject({ jsonrpc: "2.0" })
    expect(server.allOutput).not.toContain(SECRET_API_KEY)
  })
})
