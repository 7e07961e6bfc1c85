/**
 * Incoming messages in the sandbox. In `--sandbox` mode, contacts' replies and injected messages
 * land in the Inbox directly; the standalone sandbox server POSTs them to a webhook URL the way
 * ChatKazi does, here to the real stdio-mode listener over real sockets.
 */
import * as HttpServer from "@effect/platform/HttpServer"
import { Effect, Layer, ManagedRuntime, Option } from "effect"
import { once } from "node:events"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, describe, expect, it } from "vitest"
import { SandboxConfig } from "../../src/sandbox/SandboxConfig.js"
import * as SandboxGateway from "../../src/sandbox/SandboxGateway.js"
import { SANDBOX_API_KEY } from "../../src/sandbox/SandboxGateway.js"
import { SandboxReceiving } from "../../src/sandbox/SandboxReceiving.js"
import * as SandboxServer from "../../src/sandbox/SandboxServer.js"
import * as Rules from "../../src/sandbox/Simulator.js"
import { Simulator } from "../../src/sandbox/Simulator.js"
import { Account } from "../../src/services/Account.js"
import { ChatKazi } from "../../src/services/ChatKazi.js"
import { Inbox } from "../../src/services/Inbox.js"
import { StateStore } from "../../src/services/StateStore.js"
import { HookIds, WebhookAddress, WebhookConfig } from "../../src/services/WebhookConfig.js"
import { WebhookListener } from "../../src/server/webhookListener.js"

const fast = { connectingMs: 0, scanAfterMs: undefined, scanAfterPolls: undefined, replyAfterMs: 30 }

describe("--sandbox mode: replies land in the Inbox", () => {
  const runtime = ManagedRuntime.make(
    SandboxReceiving.pipe(Layer.provide(SandboxConfig.layer(fast)), Layer.provideMerge(SandboxGateway.layer(fast)))
  )
  afterAll(() => runtime.dispose())

  const listed = Effect.gen(function*() {
    const inbox = yield* Inbox
    return yield* inbox.list((yield* Account).id, {}, 20)
  })

  it("a text sent to a contact is answered by that contact, a moment later", async () => {
    const reply = await runtime.runPromise(Effect.gen(function*() {
      const chatKazi = yield* ChatKazi
      const simulator = yield* Simulator
      yield* chatKazi.startSession("default")
      yield* simulator.apply(Rules.sessionQr("default"))
      yield* simulator.apply(Rules.scan("default"))
      const inbox = yield* Inbox
      const waiting = yield* Effect.fork(inbox.next((yield* Account).id, { from: "254712345678" }))
      yield* Effect.yieldNow()
      yield* chatKazi.sendText({ sessionId: "default", to: "254712345678", text: "Are you open?" })
      return yield* waiting.await.pipe(Effect.flatten)
    }))
    expect(reply).toMatchObject({
      sessionId: "default",
      from: "254712345678",
      senderName: "Sandbox contact 5678",
      type: "text",
      text: expect.stringContaining("(\"Are you open?\")")
    })
  })

  it("an injected payload goes through the webhook decoder into the sandbox account's inbox", async () => {
    await runtime.runPromise(Effect.flatMap(Simulator, (s) => s.inject([{ from: "254733000111", text: "injected", id: "inj-1" }])))
    await expect.poll(() => runtime.runPromise(listed).then((all) => all.map((m) => m.id))).toContain("inj-1")
    expect((await runtime.runPromise(Account)).id).toBe(Account.fromKey(SANDBOX_API_KEY).id)
  })
})

describe("the sandbox server with --webhook-url", () => {
  const receiver = ManagedRuntime.make(
    WebhookListener.pipe(
      Layer.provideMerge(Layer.mergeAll(Inbox.layerMemory, HookIds.layer)),
      Layer.provideMerge(Layer.mergeAll(
        StateStore.layerMemory,
        Layer.succeed(WebhookConfig, WebhookConfig.make({ secret: "sandbox-webhook-secret-42", listenPort: Option.some(0) }))
      ))
    )
  )
  const key = "sandbox-server-key"
  const account = Account.fromKey(key).id
  let sandbox: ManagedRuntime.ManagedRuntime<HttpServer.HttpServer | Simulator, unknown> | undefined
  afterAll(async () => {
    await sandbox?.dispose()
    await receiver.dispose()
  })

  it("POSTs injected messages and contacts' replies to the webhook, as ChatKazi would", async () => {
    const address = await receiver.runPromise(WebhookAddress)
    if (address._tag !== "Listener") throw new Error("no listener")
    const hookId = Option.getOrThrow((await receiver.runPromise(HookIds)).forAccount(account))
    sandbox = ManagedRuntime.make(
      SandboxServer.layer({ port: 0, settings: { ...fast, apiKey: key }, webhookUrl: `${address.origin}/webhooks/chatkazi/${hookId}` })
    )
    const served = await sandbox.runPromise(HttpServer.HttpServer)
    const origin = served.address._tag === "TcpAddress" ? `http://127.0.0.1:${served.address.port}` : ""
    const call = (method: string, path: string, body?: unknown) =>
      fetch(`${origin}${path}`, {
        method,
        headers: { "x-api-key": key, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) })
      }).then(async (r) => ({ status: r.status, body: await r.json() as any }))

    expect((await call("POST", "/sandbox/inbound", { sessionId: "default", from: "254700000001", text: "walk-in", id: "w-1" })).status)
      .toBe(200)
    await call("POST", "/api/v1/session/start", { sessionId: "default" })
    await call("GET", "/api/v1/session/qr?sessionId=default")
    await call("POST", "/sandbox/scan", { sessionId: "default" })
    expect((await call("POST", "/api/v1/messages/text", { sessionId: "default", to: "254712345678", text: "hi" })).status).toBe(200)

    const inbox = () =>
      receiver.runPromise(Effect.flatMap(Inbox, (i) => i.list(account, {}, 20))).then((all) => all.map((m) => m.from))
    await expect.poll(inbox, { timeout: 5_000 }).toEqual(["254712345678", "254700000001"])
    expect((await call("GET", "/sandbox/inbound")).body.data).toHaveLength(2)
  })
})

describe("the sandbox server's webhook forwarding when it stops", () => {
  it("abandons a post still waiting for the webhook once the layer closes", async () => {
    // A webhook that takes the request and never answers.
    let arrived: (() => void) | undefined
    let aborted: (() => void) | undefined
    const gotRequest = new Promise<void>((resolve) => (arrived = resolve))
    const requestClosed = new Promise<void>((resolve) => (aborted = resolve))
    const hanging = createServer((request) => {
      request.once("close", () => aborted!())
      arrived!()
    })
    hanging.listen(0, "127.0.0.1")
    await once(hanging, "listening")
    const { port } = hanging.address() as AddressInfo
    const sandbox = ManagedRuntime.make(
      SandboxServer.layer({ port: 0, settings: fast, webhookUrl: `http://127.0.0.1:${port}/webhooks/chatkazi/x` })
    )
    try {
      await sandbox.runPromise(Effect.flatMap(Simulator, (s) => s.inject([{ from: "254700000002", text: "hi", id: "h-1" }])))
      await gotRequest
      await sandbox.dispose()
      // The post's fiber was interrupted with the layer, which aborted its request.
      const closedInTime = await Promise.race([
        requestClosed.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2_000))
      ])
      expect(closedInTime).toBe(true)
    } finally {
      hanging.closeAllConnections()
      hanging.close()
    }
  })
})
