/**
 * The webhook route on the stdio-mode listener: real sockets, real HTTP requests, the in-memory
 * store behind it. What a gateway (or a stranger who guesses) would see, and what got stored.
 */
import { Effect, Layer, ManagedRuntime, Option, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Account } from "../../src/services/Account.js"
import { Inbox } from "../../src/services/Inbox.js"
import { StateStore } from "../../src/services/StateStore.js"
import { HookIds, WebhookAddress, WebhookConfig } from "../../src/services/WebhookConfig.js"
import { WebhookListener } from "../../src/server/webhookListener.js"

const SECRET = "test-secret-0123456789abcdef"
const alice = Account.fromKey("alice-key").id
const bob = Account.fromKey("bob-key").id

const layer = WebhookListener.pipe(
  Layer.provideMerge(Layer.mergeAll(Inbox.layerMemory, HookIds.layer)),
  Layer.provideMerge(Layer.mergeAll(StateStore.layerMemory, Layer.succeed(WebhookConfig, WebhookConfig.make({ secret: SECRET, listenPort: Option.some(0) }))))
)

describe("the webhook listener", () => {
  const runtime = ManagedRuntime.make(layer)
  let origin: string
  let hookOf: (account: string) => string
  beforeAll(async () => {
    const address = await runtime.runPromise(WebhookAddress)
    if (address._tag !== "Listener") throw new Error(`no listener: ${JSON.stringify(address)}`)
    origin = address.origin
    const ids = await runtime.runPromise(HookIds)
    hookOf = (account) => Option.getOrThrow(ids.forAccount(account))
  })
  afterAll(() => runtime.dispose())

  const post = (hookId: string, body: string | Uint8Array, contentType = "application/json") =>
    fetch(`${origin}/webhooks/chatkazi/${hookId}`, { method: "POST", headers: { "content-type": contentType }, body })
  const stored = (account: string) =>
    runtime.runPromise(Effect.flatMap(Inbox, (inbox) => inbox.list(account, { includeOwn: true }, 100)))

  it("listens on 127.0.0.1 by default", () => {
    expect(origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
  })

  it("stores a message and answers 200 at once; the same message again is stored once", async () => {
    const body = JSON.stringify({ sessionId: "default", from: "254712345678", text: "hello", id: "m-1" })
    const first = await post(hookOf(alice), body)
    expect(first.status).toBe(200)
    expect(await first.json()).toEqual({ ok: true, stored: 1, duplicates: 0 })
    const again = await post(hookOf(alice), body)
    expect(await again.json()).toEqual({ ok: true, stored: 0, duplicates: 1 })
    expect((await stored(alice)).filter((m) => m.id === "m-1")).toHaveLength(1)
  })

  it("keeps two accounts apart: each hook id files into its own account", async () => {
    expect(hookOf(alice)).not.toBe(hookOf(bob))
    await post(hookOf(bob), JSON.stringify({ from: "254733000111", text: "for bob", id: "b-1" }))
    expect((await stored(bob)).map((m) => m.text)).toEqual(["for bob"])
    expect((await stored(alice)).map((m) => m.text)).not.toContain("for bob")
  })

  it("answers 404 to an unknown, altered or foreign hook id, and stores nothing", async () => {
    const before = (await stored(alice)).length
    const real = hookOf(alice)
    const altered = real.slice(0, -2) + (real.endsWith("AA") ? "AB" : "AA")
    const foreign = Option.getOrThrow(HookIds.make(Option.some(Redacted.make("another-server-secret-9876543210"))).forAccount(alice))
    for (const hookId of ["nope", altered, alice, foreign, ""]) {
      const response = await post(hookId, JSON.stringify({ from: "254712345678", text: "sneaky", id: `x-${hookId}` }))
      expect(response.status, hookId).toBe(404)
    }
    expect((await stored(alice)).length).toBe(before)
  })

  it("refuses a body that is not JSON with 400, and one over 1 MiB with 413, storing nothing", async () => {
    const before = (await stored(alice)).length
    const notJson = await post(hookOf(alice), "from=254712345678&text=hi", "application/x-www-form-urlencoded")
    expect(notJson.status).toBe(400)
    expect(await notJson.json()).toMatchObject({ error: "the body must be JSON" })
    const big = JSON.stringify({ from: "254712345678", text: "x".repeat(1024 * 1024), id: "big" })
    const tooLarge = await post(hookOf(alice), big)
    expect(tooLarge.status).toBe(413)
    expect((await stored(alice)).length).toBe(before)
  })

  it("refuses a body of more than 100 messages with 413 and a reason, storing none of them; 100 are stored", async () => {
    const batch = (prefix: string, n: number) =>
      JSON.stringify(Array.from({ length: n }, (_, i) => ({ from: "254712345678", text: `m${i}`, id: `${prefix}-${i}` })))
    const before = (await stored(alice)).length
    const tooMany = await post(hookOf(alice), batch("many", 101))
    expect(tooMany.status).toBe(413)
    expect(await tooMany.json()).toMatchObject({ ok: false, error: expect.stringContaining("more than the 100") })
    expect((await stored(alice)).length).toBe(before)
    const full = await post(hookOf(alice), batch("full", 100))
    expect(await full.json()).toEqual({ ok: true, stored: 100, duplicates: 0 })
  })

  it("accepts JSON whatever content type the gateway declares, and keeps unreadable JSON", async () => {
    const response = await post(hookOf(alice), JSON.stringify({ event: "presence.update", who: "someone" }), "text/plain")
    expect(response.status).toBe(200)
    expect((await stored(alice))[0]).toMatchObject({ type: "unrecognised", event: "presence.update" })
  })

  it("serves nothing but POST on the webhook path", async () => {
    expect((await fetch(`${origin}/webhooks/chatkazi/${hookOf(alice)}`)).status).toBe(405)
    expect((await fetch(`${origin}/mcp`, { method: "POST", body: "{}" })).status).toBe(404)
  })
})
