/**
 * End to end, issue 11: two built server processes (stdio, driven by the SDK client) share one real
 * redis-server through CHATKAZI_REDIS_URL and talk to one scripted gateway, as two replicas would.
 * A send given to both reaches the gateway once, the pace budget is shared, and with Redis down
 * sends are refused (nothing reaches the gateway) while reads go on, until Redis is back.
 */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { McpHarness, SECRET_API_KEY, textOf } from "../support/McpHarness.js"
import { RedisServer } from "../support/redis.js"
import { ScriptedGateway } from "../support/ScriptedGateway.js"

const REDIS_PASSWORD = "e2e-redis-pw-never-print"

let redis: RedisServer
let gateway: ScriptedGateway
let one: McpHarness
let two: McpHarness

const env = () => ({
  CHATKAZI_API_KEY: SECRET_API_KEY,
  CHATKAZI_BASE_URL: gateway.baseUrl,
  CHATKAZI_REDIS_URL: `redis://:${REDIS_PASSWORD}@127.0.0.1:${redis.port}/0`,
  CHATKAZI_MAX_SENDS_PER_MINUTE: "3"
})

beforeAll(async () => {
  ;[redis, gateway] = await Promise.all([RedisServer.start(["--requirepass", REDIS_PASSWORD]), ScriptedGateway.start()])
  ;[one, two] = await Promise.all([McpHarness.start(env()), McpHarness.start(env())])
})

afterAll(async () => {
  await Promise.all([one?.close(), two?.close()])
  await Promise.all([gateway?.close(), redis?.stop()])
})

beforeEach(() => {
  gateway.reset()
  gateway.setDefault("POST", "/messages/text", (request) => ({
    json: { success: true, data: { messageId: `MSG-${request.seq}`, status: "sent" } }
  }))
  gateway.setDefault("GET", "/sessions", { json: { success: true, data: [] } })
})

const sendText = (server: McpHarness, text: string, sessionId = "default") =>
  server.call("send_whatsapp_text", { to: "254712345678", text, sessionId })

const sent = () => gateway.count("POST", "/messages/text")

const ok = (result: CallToolResult) => {
  expect(result.isError ?? false, textOf(result)).toBe(false)
  return result
}

describe("two servers on one Redis", () => {
  it("the same send given to both within the window reaches the gateway once; the second gets the first receipt", async () => {
    const first = ok(await sendText(one, "Your order has shipped"))
    const repeat = ok(await sendText(two, "Your order has shipped"))
    expect(sent()).toBe(1)
    expect(first.structuredContent).toMatchObject({ duplicate: false, messageId: "MSG-1" })
    expect(repeat.structuredContent).toMatchObject({ duplicate: true, messageId: "MSG-1" })
    expect(textOf(repeat)).toContain("Not sent again")
  })

  it("the same send given to both at once reaches the gateway once", async () => {
    const results = await Promise.all([sendText(one, "At the same time"), sendText(two, "At the same time")])
    results.forEach(ok)
    expect(sent()).toBe(1)
    expect(results.map((r) => (r.structuredContent as { duplicate: boolean }).duplicate).sort()).toEqual([false, true])
  })

  it("they share one pace budget: the fourth send in a minute is refused, whichever server gets it", async () => {
    ok(await sendText(one, "1", "pace"))
    ok(await sendText(two, "2", "pace"))
    ok(await sendText(one, "3", "pace"))
    const refused = await sendText(two, "4", "pace")
    expect(refused.isError).toBe(true)
    expect(textOf(refused)).toContain("CHATKAZI_MAX_SENDS_PER_MINUTE")
    expect(sent()).toBe(3)
  })

  it("Redis down: sends are refused and nothing reaches the gateway, reads still work; Redis back: sends go out again", async () => {
    await redis.kill()
    for (const server of [one, two]) {
      const refused = await sendText(server, "While Redis is down")
      expect(refused.isError).toBe(true)
      expect(textOf(refused)).toContain("nothing was sent")
      expect(textOf(refused)).toContain("CHATKAZI_REDIS_URL")
    }
    ok(await one.call("list_sessions", {}))
    expect(sent()).toBe(0)

    await redis.restart()
    // The servers reconnect by themselves; a refused attempt sends nothing, so trying again is safe.
    let result = await sendText(one, "After Redis is back")
    for (let attempt = 0; result.isError && attempt < 50; attempt++) {
      expect(textOf(result)).toContain("nothing was sent")
      await new Promise((resolve) => setTimeout(resolve, 100))
      result = await sendText(one, "After Redis is back")
    }
    ok(result)
    ok(await sendText(two, "After Redis is back"))
    expect(sent()).toBe(1)
  })

  it("no output of either server carries the API key or the Redis password", () => {
    for (const server of [one, two]) {
      expect(server.allOutput).not.toContain(SECRET_API_KEY)
      expect(server.allOutput).not.toContain(REDIS_PASSWORD)
      expect(server.protocolErrors).toEqual([])
    }
  })
})

describe("a server on Redis", () => {
  it("exits cleanly (code 0) when its host closes stdin", async () => {
    const server = await McpHarness.start(env(), { transport: "raw" })
    ok(await server.call("list_sessions", {}))
    server.child.stdin.end()
    const exit = await server.exited
    expect(exit).toStrictEqual({ code: 0, signal: null })
    await server.close()
  })
})
