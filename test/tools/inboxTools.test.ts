/**
 * get_webhook_url, list_messages and wait_for_message as programs, in process: what the model reads
 * in each receiving set-up, time filters, timing out, and that a cancelled wait leaves nothing behind.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Option, Redacted, TestClock } from "effect"
import { Unauthorized } from "../../src/errors/ChatKaziError.js"
import { Account } from "../../src/services/Account.js"
import { ChatKazi, type ChatKaziApi } from "../../src/services/ChatKazi.js"
import type { IncomingMessage } from "../../src/services/IncomingMessage.js"
import { Inbox, makeInbox, MEMORY_RETENTION } from "../../src/services/Inbox.js"
import { makeMemoryStore, StateStore, type StateStoreApi } from "../../src/services/StateStore.js"
import { HookIds, WebhookAddress, type WebhookOrigin } from "../../src/services/WebhookConfig.js"
import { getWebhookUrl, KEY_CONFIRMED_FOR_MS } from "../../src/tools/getWebhookUrl.js"
import { listMessages } from "../../src/tools/listMessages.js"
import { type AnyTool, decodeInput } from "../../src/tools/Tool.js"
import { waitForMessage } from "../../src/tools/waitForMessage.js"

const ACCOUNT = Account.fromKey("tools-test-key")

/** The in-memory store, counting live subscriptions. */
const countingStore = () => {
  const store = makeMemoryStore()
  let live = 0
  const counted: StateStoreApi = {
    ...store,
    subscribe: (channel, listener) =>
      Effect.zipRight(
        store.subscribe(channel, listener),
        Effect.acquireRelease(Effect.sync(() => live++), () => Effect.sync(() => live--))
      )
  }
  return { store: counted, live: () => live }
}

const run = (tool: AnyTool, args: Record<string, unknown>) =>
  Effect.flatMap(decodeInput(tool, args), (input) => tool.run(input) as Effect.Effect<any, any, any>)

const message = (id: string, receivedAt: string, overrides: Partial<IncomingMessage> = {}): IncomingMessage => ({
  id,
  sessionId: "default",
  from: "254712345678",
  fromMe: false,
  type: "text",
  text: id,
  time: receivedAt,
  receivedAt,
  ...overrides
})

/** A gateway that only answers list_sessions, accepting the key or not, and counts the calls. */
const keyChecker = (accepts: boolean) => {
  let calls = 0
  const gateway = {
    listSessions: Effect.suspend(() => {
      calls++
      return accepts ? Effect.succeed([]) : Effect.fail(new Unauthorized({ status: 401, gatewayMessage: "Invalid API key" }))
    })
  } as unknown as ChatKaziApi
  return { gateway, calls: () => calls }
}

describe("get_webhook_url", () => {
  const ask = (
    secret: string | undefined,
    origin: WebhookOrigin,
    gateway = keyChecker(true).gateway,
    store = makeMemoryStore()
  ) =>
    run(getWebhookUrl, {}).pipe(
      Effect.provideService(Account, ACCOUNT),
      Effect.provideService(HookIds, HookIds.make(Option.map(Option.fromNullable(secret), Redacted.make))),
      Effect.provideService(WebhookAddress, origin),
      Effect.provideService(ChatKazi, gateway),
      Effect.provideService(StateStore, store)
    )
  const withSecret = (origin: WebhookOrigin) => ask("a-secret-of-enough-length", origin)

  it.effect("says receiving is off, and how to turn it on, without CHATKAZI_SECRET", () =>
    Effect.gen(function*() {
      const reply = yield* ask(undefined, { _tag: "Listener", origin: "http://127.0.0.1:8788" })
      expect(reply.data).toMatchObject({ receiving: false, via: "none" })
      expect(reply.text).toContain("CHATKAZI_SECRET is not set")
    }))

  it.effect("names the settings when there is a secret but no way in", () =>
    Effect.gen(function*() {
      const reply = yield* withSecret({ _tag: "None" })
      expect(reply.data).toMatchObject({ receiving: false, via: "none" })
      expect(reply.text).toContain("CHATKAZI_WEBHOOK_PORT")
      expect(reply.text).toContain("CHATKAZI_PUBLIC_URL")
    }))

  it.effect("when the listener could not open its port, says so and asks for a free one", () =>
    Effect.gen(function*() {
      const problem = "the webhook listener could not open 127.0.0.1:8788 (listen EADDRINUSE: address already in use)"
      const reply = yield* withSecret({ _tag: "None", problem })
      expect(reply.data).toMatchObject({ receiving: false, via: "none" })
      expect(reply.text).toBe(
        `Receiving is off: ${problem}. Ask the user to set CHATKAZI_WEBHOOK_PORT to a port that is free on their ` +
          "computer (or fix the setting named), restart this server, and call get_webhook_url again."
      )
    }))

  it.effect("builds the URL from CHATKAZI_PUBLIC_URL in http mode", () =>
    Effect.gen(function*() {
      const reply = yield* withSecret({ _tag: "Public", origin: "https://mcp.example.com" })
      expect(reply.data.url).toMatch(/^https:\/\/mcp\.example\.com\/webhooks\/chatkazi\/[A-Za-z0-9_-]+$/)
      expect(reply.text).toContain("ChatKazi dashboard")
      expect(reply.text).toContain("like a password")
    }))

  it.effect("gives the listener's URL with the way to expose it", () =>
    Effect.gen(function*() {
      const reply = yield* withSecret({ _tag: "Listener", origin: "http://127.0.0.1:8788" })
      expect(reply.data).toMatchObject({ receiving: true, via: "local-listener" })
      expect(reply.text).toContain("ngrok http 8788")
      expect(reply.text).toContain(reply.data.path)
    }))

  it.effect("hands out no hook id for a key ChatKazi rejects: the Unauthorized guidance instead", () =>
    Effect.gen(function*() {
      const rejecting = keyChecker(false)
      for (const origin of [{ _tag: "Public", origin: "https://mcp.example.com" }, { _tag: "None" }] as const) {
        const error = yield* Effect.flip(ask("a-secret-of-enough-length", origin, rejecting.gateway))
        expect(error).toBeInstanceOf(Unauthorized)
        expect(error.message).toContain("rejected the API key")
        expect(JSON.stringify(error)).not.toContain("/webhooks/chatkazi/")
      }
      expect(rejecting.calls()).toBe(2)
    }))

  it.effect("asks ChatKazi once per account while the confirmation lasts, then again", () =>
    Effect.gen(function*() {
      const accepting = keyChecker(true)
      const store = yield* Effect.map(Effect.clock, (clock) => makeMemoryStore(() => clock.unsafeCurrentTimeMillis()))
      const origin = { _tag: "Public", origin: "https://mcp.example.com" } as const
      const first = yield* ask("a-secret-of-enough-length", origin, accepting.gateway, store)
      const second = yield* ask("a-secret-of-enough-length", origin, accepting.gateway, store)
      expect(second.data.url).toBe(first.data.url)
      expect(accepting.calls()).toBe(1)
      yield* TestClock.adjust(KEY_CONFIRMED_FOR_MS + 1)
      yield* ask("a-secret-of-enough-length", origin, accepting.gateway, store)
      expect(accepting.calls()).toBe(2)
    }))

  it.effect("does not contact ChatKazi in the sandbox or when receiving is off", () =>
    Effect.gen(function*() {
      const rejecting = keyChecker(false)
      yield* ask(undefined, { _tag: "Public", origin: "https://mcp.example.com" }, rejecting.gateway)
      yield* ask("a-secret-of-enough-length", { _tag: "Sandbox" }, rejecting.gateway)
      expect(rejecting.calls()).toBe(0)
    }))
})

describe("list_messages and wait_for_message", () => {
  const setUp = () => {
    const { live, store } = countingStore()
    const inbox = makeInbox(store, MEMORY_RETENTION)
    const provide = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      effect.pipe(Effect.provideService(Account, ACCOUNT), Effect.provideService(Inbox, inbox)) as Effect.Effect<A, E, never>
    return { inbox, live, provide }
  }

  it.effect("reads `since` as seconds ago or an ISO time, and refuses anything else", () =>
    Effect.gen(function*() {
      const { inbox, provide } = setUp()
      yield* TestClock.setTime(Date.parse("2026-11-25T12:00:00Z"))
      yield* inbox.receive(ACCOUNT.id, [
        message("two-hours-ago", "2026-11-25T10:00:00.000Z"),
        message("ten-minutes-ago", "2026-11-25T11:50:00.000Z")
      ])
      const ids = (args: Record<string, unknown>) =>
        Effect.map(provide(run(listMessages, args)), (reply) => reply.data.messages.map((m: IncomingMessage) => m.id))
      expect(yield* ids({ since: 3600 })).toEqual(["ten-minutes-ago"])
      expect(yield* ids({ since: "2026-11-25T09:00:00Z" })).toEqual(["ten-minutes-ago", "two-hours-ago"])
      const refused = yield* Effect.flip(provide(run(listMessages, { since: "yesterday" })))
      expect(refused.message).toContain("since: \"yesterday\" is neither an ISO 8601 time")
      const bad = yield* Effect.flip(provide(run(listMessages, { limit: 101, from: "0712345678" })))
      expect(bad.message).toContain("limit")
      expect(bad.message).toContain("from")
    }))

  it.effect("says no message came when the wait times out, and leaves no subscription behind", () =>
    Effect.gen(function*() {
      const { live, provide } = setUp()
      const waiting = yield* Effect.fork(provide(run(waitForMessage, { timeoutSeconds: 2 })))
      yield* TestClock.adjust("2 seconds")
      const reply = yield* Fiber.join(waiting)
      expect(reply.data).toMatchObject({ received: false, waitedSeconds: 2 })
      expect(reply.text).toContain("No new message arrived in 2 s")
      expect(live()).toBe(0)
    }))

  it.effect("a cancelled wait unsubscribes at once", () =>
    Effect.gen(function*() {
      const { inbox, live, provide } = setUp()
      const waiting = yield* Effect.fork(provide(run(waitForMessage, { from: "254712345678" })))
      for (let i = 0; i < 100 && live() === 0; i++) yield* Effect.yieldNow()
      expect(live()).toBe(1)
      yield* Fiber.interrupt(waiting)
      expect(live()).toBe(0)
      // Nothing is left to pick up what arrives next.
      yield* inbox.receive(ACCOUNT.id, [message("later", new Date().toISOString())])
      expect(live()).toBe(0)
    }))
})
