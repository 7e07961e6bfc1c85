/**
 * The stdio transport over in-memory streams: lines split across chunks, several lines in one chunk,
 * oversized lines skipped with an answer, and the screen's verdicts (a notification is never answered).
 */
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js"
import { PassThrough } from "node:stream"
import { describe, expect, it } from "vitest"
import { screen } from "../../src/server/jsonRpc.js"
import { StdioTransport } from "../../src/server/stdioTransport.js"

const setup = async (maxMessageBytes?: number) => {
  const stdin = new PassThrough()
  const stdout = new PassThrough()
  const received: Array<JSONRPCMessage> = []
  const refused: Array<string> = []
  const written: Array<unknown> = []
  stdout.on("data", (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n").filter((l) => l !== "")) written.push(JSON.parse(line))
  })
  const transport = new StdioTransport(stdin, stdout, {
    ...(maxMessageBytes === undefined ? {} : { maxMessageBytes }),
    onRefused: (reason) => refused.push(reason)
  })
  transport.onmessage = (message) => received.push(message)
  await transport.start()
  /** Writes the chunks one by one and lets the streams deliver them. */
  const feed = async (...chunks: ReadonlyArray<string>) => {
    for (const chunk of chunks) stdin.write(chunk)
    await new Promise((resolve) => setImmediate(resolve))
  }
  return { transport, received, refused, written, feed }
}

const ping = (id: number) => JSON.stringify({ jsonrpc: "2.0", id, method: "ping" })

describe("StdioTransport", () => {
  it("reassembles a message split across chunks, and reads several from one chunk", async () => {
    const { feed, received } = await setup()
    const line = ping(1)
    await feed(line.slice(0, 10), line.slice(10, 20), `${line.slice(20)}\n${ping(2)}\r\n${ping(3)}\n\n`)
    expect(received.map((m) => (m as { id: number }).id)).toEqual([1, 2, 3])
  })

  it("skips a line over the limit with one error answer, and reads the next line whole", async () => {
    const { feed, received, refused, written } = await setup(64)
    await feed(`{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"${"x".repeat(40)}`, `${"y".repeat(100)}"}}\n${ping(2)}\n`)
    expect(written).toEqual([{
      jsonrpc: "2.0",
      id: null,
      error: { code: -32600, message: expect.stringContaining("over this server's limit of 64 bytes") }
    }])
    expect(refused).toEqual([expect.stringContaining("over the 64-byte limit")])
    expect(received).toEqual([{ jsonrpc: "2.0", id: 2, method: "ping" }])
  })

  it("answers a line that is not JSON with -32700 and keeps reading", async () => {
    const { feed, received, written } = await setup()
    await feed(`{"jsonrpc":\n${ping(5)}\n`)
    expect(written).toEqual([{ jsonrpc: "2.0", id: null, error: { code: -32700, message: expect.any(String) } }])
    expect(received).toHaveLength(1)
  })

  it("reads nothing more once closed", async () => {
    const { feed, received, transport } = await setup()
    await transport.close()
    await feed(`${ping(1)}\n`)
    expect(received).toEqual([])
  })
})

describe("screen", () => {
  it("passes requests, notifications and responses through", () => {
    for (
      const message of [
        { jsonrpc: "2.0", id: "a", method: "tools/list" },
        { jsonrpc: "2.0", method: "notifications/initialized" },
        { jsonrpc: "2.0", id: 3, result: {} },
        { jsonrpc: "2.0", id: 4, error: { code: -1, message: "no" } }
      ]
    ) expect(screen(message)).toMatchObject({ _tag: "Message", message })
  })

  it("never answers a notification, even an invalid one", () => {
    expect(screen({ jsonrpc: "2.0", method: "notifications/x", params: 5 })).toEqual({
      _tag: "Refused",
      reason: expect.stringContaining('"params" must be a JSON object')
    })
  })

  it("refuses a response without an id or with both result and error", () => {
    expect(screen({ jsonrpc: "2.0", result: {} })).toMatchObject({ answer: { id: null, error: { code: -32600 } } })
    expect(screen({ jsonrpc: "2.0", id: 1, result: {}, error: {} })).toMatchObject({ answer: { error: { code: -32600 } } })
  })

  it("answers bad params of a known method with -32602 in one sentence", () => {
    const verdict = screen({ jsonrpc: "2.0", id: 9, method: "prompts/get", params: { name: 5 } })
    expect(verdict).toMatchObject({ answer: { id: 9, error: { code: -32602 } } })
    const message = (verdict as { answer: { error: { message: string } } }).answer.error.message
    expect(message).toMatch(/^Invalid params for prompts\/get: params\.name: [^\n]+\.$/)
  })
})
