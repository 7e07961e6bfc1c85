/**
 * The HTTP app's own handling of a request, over a real socket: a client that leaves while its
 * runtime is still being built, and the request log's redaction of webhook paths.
 */
import { Effect, Redacted, Runtime } from "effect"
import { once } from "node:events"
import { createServer, type IncomingHttpHeaders, request, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { gzipSync } from "node:zlib"
import { afterEach, describe, expect, it } from "vitest"
import { makeCalls } from "../../src/server/calls.js"
import type { Dispatch } from "../../src/server/dispatch.js"
import { type CallerRuntime, makeHttpApp } from "../../src/server/http.js"

/** A dispatch whose every call is recorded, and answers at once. */
const recordingDispatch = (called: Array<string>): Dispatch => ({
  tools: [{ name: "echo", inputSchema: { type: "object" } }],
  find: () => undefined,
  call: (name) => Effect.sync(() => (called.push(name), { content: [{ type: "text" as const, text: "done" }] }))
})

const servers: Array<Server> = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((done) => server.close(done))))
})

const start = async (options: {
  readonly runtimeFor: () => Promise<CallerRuntime<never>>
  readonly dispatch?: Dispatch
  readonly log?: (line: string) => void
}) => {
  const app = makeHttpApp<never>({
    name: "test",
    version: "0",
    dispatch: options.dispatch ?? recordingDispatch([]),
    calls: makeCalls(),
    host: "127.0.0.1",
    access: { _tag: "SharedKey", apiKey: Redacted.make("ck_test_key"), tokenDigests: [] },
    allowedOrigins: [],
    runtimeFor: options.runtimeFor,
    health: () => Promise.resolve({ ok: true, stateStore: { kind: "memory", reachable: true } }),
    isClosing: () => false,
    log: options.log ?? (() => {})
  })
  const server = createServer(app)
  servers.push(server)
  server.listen(0, "127.0.0.1")
  await once(server, "listening")
  return (server.address() as AddressInfo).port
}

const callBody = (id: number) =>
  JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "echo", arguments: {} } })

const post = (port: number, path: string, body: string) =>
  request({
    host: "127.0.0.1",
    port,
    path,
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream" }
  }).end(body)

const answer = (port: number, body: string) =>
  new Promise<number>((resolve, reject) => {
    const req = post(port, "/mcp", body)
    req.on("response", (res) => {
      res.resume()
      res.on("end", () => resolve(res.statusCode ?? 0))
    })
    req.on("error", reject)
  })

const runtime = { runtime: Runtime.defaultRuntime as Runtime.Runtime<never> }

describe("the HTTP app", () => {
  it("a client that leaves while its runtime is being built: its call never runs, and the runtime is released", async () => {
    const called: Array<string> = []
    let building: (caller: CallerRuntime<never>) => void = () => {}
    let buildAsked: () => void = () => {}
    const asked = new Promise<void>((resolve) => (buildAsked = resolve))
    let released: () => void = () => {}
    const wasReleased = new Promise<void>((resolve) => (released = resolve))
    let slow = true
    const port = await start({
      dispatch: recordingDispatch(called),
      runtimeFor: () => {
        if (!slow) return Promise.resolve({ ...runtime, release: () => {} })
        slow = false
        buildAsked()
        return new Promise((resolve) => (building = resolve))
      }
    })

    const leaving = post(port, "/mcp", callBody(1))
    leaving.on("error", () => {})
    await asked
    const closed = new Promise((resolve) => leaving.once("close", resolve))
    leaving.destroy()
    await closed
    // Give the server's side of the socket its close before the build finishes.
    await answer(port, JSON.stringify({ jsonrpc: "2.0", id: 9, method: "ping" }))
    building({ ...runtime, release: released })
    await wasReleased

    // A whole second call runs through the app after it: the first, had it run, would be recorded by then.
    expect(await answer(port, callBody(2))).toBe(200)
    expect(called).toEqual(["echo"])
  })

  it.each(["/webhooks/chatkazi/", "/Webhooks/ChatKazi/", "/WEBHOOKS/CHATKAZI/"])(
    "the request log hides the hook id of %s<id>, in any case",
    async (prefix) => {
      const lines: Array<string> = []
      const port = await start({ runtimeFor: () => Promise.resolve({ ...runtime, release: () => {} }), log: (line) => lines.push(line) })
      const hookId = "hk_secret_hook_id_1234567890"
      await new Promise<void>((resolve, reject) => {
        const req = post(port, `${prefix}${hookId}?x=1`, "{}")
        req.on("response", (res) => (res.resume(), res.on("end", resolve)))
        req.on("error", reject)
      })
      await new Promise((resolve) => setImmediate(resolve))
      expect(lines.join("\n")).not.toContain(hookId)
      expect(JSON.parse(lines.at(-1)!)).toMatchObject({ http: "POST /webhooks/chatkazi/<hookId>" })
    }
  )

  describe("reads a JSON body as express.json does", () => {
    const ping = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" })
    const send = (port: number, headers: IncomingHttpHeaders, body: string | Buffer) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({
          host: "127.0.0.1",
          port,
          path: "/mcp",
          method: "POST",
          headers: { accept: "application/json, text/event-stream", ...headers }
        })
        req.on("response", (res) => {
          const chunks: Array<Buffer> = []
          res.on("data", (chunk: Buffer) => chunks.push(chunk))
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }))
        })
        req.on("error", reject)
        req.end(body)
      })
    const json = { "content-type": "application/json" }
    const errorCode = (body: string) => (JSON.parse(body) as { error?: { code?: number } }).error?.code

    it.each([
      ["plain", json, ping],
      ["after a byte order mark", json, `\ufeff${ping}`],
      ["with whitespace before it", json, ` \r\n\t${ping}`],
      ["with charset=utf-8", { "content-type": "application/json; charset=utf-8" }, ping],
      ["in another letter case", { "content-type": "Application/JSON; Charset=UTF-8" }, ping],
      ["chunked, without a length", { ...json, "transfer-encoding": "chunked" }, ping],
      ["compressed", { ...json, "content-encoding": "gzip" }, gzipSync(ping)]
    ])("accepts it %s", async (_, headers, body) => {
      const port = await start({ runtimeFor: () => Promise.resolve({ ...runtime, release: () => {} }) })
      const answer = await send(port, headers, body)
      expect(answer.status).toBe(200)
      expect(answer.body).toContain("\"result\":{}")
    })

    it.each([
      ["a string", "\"ping\""],
      ["null", "null"],
      ["only whitespace", "  \n"],
      ["cut short", ping.slice(0, -1)],
      ["after a non-JSON space", `\u00a0${ping}`]
    ])("refuses %s with 400 and -32700", async (_, body) => {
      const port = await start({ runtimeFor: () => Promise.resolve({ ...runtime, release: () => {} }) })
      const answer = await send(port, json, body)
      expect(answer.status).toBe(400)
      expect(errorCode(answer.body)).toBe(-32700)
    })

    it("takes an empty body as {}, which the SDK then refuses as no JSON-RPC message", async () => {
      const port = await start({ runtimeFor: () => Promise.resolve({ ...runtime, release: () => {} }) })
      const answer = await send(port, json, "")
      expect(answer.status).toBe(400)
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: -32700, message: "Parse error: Invalid JSON-RPC message" } })
    })

    it("refuses an unknown charset or compression with 415", async () => {
      const port = await start({ runtimeFor: () => Promise.resolve({ ...runtime, release: () => {} }) })
      for (const headers of [{ "content-type": "application/json; charset=koi8-x" }, { ...json, "content-encoding": "zip9" }]) {
        const answer = await send(port, headers, ping)
        expect(answer.status).toBe(415)
        expect(errorCode(answer.body)).toBe(-32000)
      }
    })
  })
})
