/**
 * `webhookRoute` mounted in an express 5 app, as the http mode will: the same answers as the stdio
 * listener, whether or not a raw body parser ran first.
 */
import express from "express"
import { Effect, Layer, ManagedRuntime, Option } from "effect"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Account } from "../../src/services/Account.js"
import { Inbox } from "../../src/services/Inbox.js"
import { StateStore } from "../../src/services/StateStore.js"
import { HookIds, WebhookConfig } from "../../src/services/WebhookConfig.js"
import { webhookRoute } from "../../src/server/webhook.js"

const account = Account.fromKey("express-key").id

describe("webhookRoute in express", () => {
  const runtime = ManagedRuntime.make(
    Layer.mergeAll(Inbox.layerMemory, HookIds.layer).pipe(
      Layer.provide(Layer.mergeAll(StateStore.layerMemory, Layer.succeed(WebhookConfig, WebhookConfig.make({ secret: "express-secret-0123456789" }))))
    )
  )
  let origin: string
  let close: () => void
  let hookId: string
  beforeAll(async () => {
    const route = webhookRoute(await runtime.runtime())
    const app = express()
    app.post(route.path, route.handler)
    app.post(`/raw${route.path}`, express.raw({ type: () => true, limit: "2mb" }), route.handler)
    const server = app.listen(0, "127.0.0.1")
    await new Promise((resolve) => server.once("listening", resolve))
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    close = () => server.close()
    hookId = Option.getOrThrow((await runtime.runPromise(HookIds)).forAccount(account))
  })
  afterAll(async () => {
    close?.()
    await runtime.dispose()
  })

  const post = (path: string, body: string) =>
    fetch(`${origin}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body })

  it("stores a message, and refuses unknown ids, non-JSON and oversize bodies", async () => {
    for (const prefix of ["", "/raw"]) {
      const path = `${prefix}/webhooks/chatkazi/${hookId}`
      const ok = await post(path, JSON.stringify({ from: "254712345678", text: `via ${prefix || "plain"}`, id: `x${prefix}` }))
      expect(ok.status).toBe(200)
      expect((await post(`${prefix}/webhooks/chatkazi/unknown-hook-id-000000000000`, "{}")).status).toBe(404)
      expect((await post(path, "not json")).status).toBe(400)
      expect((await post(path, JSON.stringify({ text: "y".repeat(1_100_000) }))).status).toBe(413)
    }
    const texts = await runtime.runPromise(Effect.flatMap(Inbox, (inbox) => inbox.list(account, {}, 10)))
    expect(texts.map((m) => m.text)).toEqual(["via /raw", "via plain"])
  })
})
