/**
 * The Inbox over the in-memory StateStore: one message per id, accounts kept apart, bounded
 * retention, filters, and waiters woken by what arrives.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import type { IncomingMessage } from "../../src/services/IncomingMessage.js"
import { makeInbox } from "../../src/services/Inbox.js"
import { makeMemoryStore, StoreUnavailable } from "../../src/services/StateStore.js"

const at = (second: number) => new Date(Date.UTC(2026, 10, 25, 23, 0, second)).toISOString()

const message = (id: string, overrides: Partial<IncomingMessage> = {}): IncomingMessage => ({
  id,
  sessionId: "default",
  from: "254712345678",
  fromMe: false,
  type: "text",
  text: `text of ${id}`,
  time: at(0),
  receivedAt: at(0),
  ...overrides
})

const fresh = (maxPerAccount = 1_000) => makeInbox(makeMemoryStore(), { maxPerAccount, retentionMs: 60_000 })

describe("Inbox", () => {
  it.effect("stores a message once, however often the gateway retries it", () =>
    Effect.gen(function*() {
      const inbox = fresh()
      expect(yield* inbox.receive("acct", [message("a")])).toEqual({ stored: 1, duplicates: 0 })
      expect(yield* inbox.receive("acct", [message("a"), message("b")])).toEqual({ stored: 1, duplicates: 1 })
      expect((yield* inbox.list("acct", {}, 20)).map((m) => m.id)).toEqual(["b", "a"])
    }))

  it.effect("treats the same id in two sessions as two messages", () =>
    Effect.gen(function*() {
      const inbox = fresh()
      yield* inbox.receive("acct", [message("a"), message("a", { sessionId: "shop" })])
      expect(yield* inbox.list("acct", {}, 20)).toHaveLength(2)
    }))

  it.effect("keeps two accounts apart", () =>
    Effect.gen(function*() {
      const inbox = fresh()
      yield* inbox.receive("one", [message("a", { text: "for one" })])
      yield* inbox.receive("two", [message("a", { text: "for two" })])
      expect((yield* inbox.list("one", {}, 20)).map((m) => m.text)).toEqual(["for one"])
      expect((yield* inbox.list("two", {}, 20)).map((m) => m.text)).toEqual(["for two"])
      expect(yield* inbox.list("three", {}, 20)).toEqual([])
    }))

  it.effect("keeps only the newest messages up to the account's limit", () =>
    Effect.gen(function*() {
      const inbox = fresh(3)
      yield* inbox.receive("acct", ["1", "2", "3", "4", "5"].map((id) => message(id)))
      expect((yield* inbox.list("acct", {}, 20)).map((m) => m.id)).toEqual(["5", "4", "3"])
    }))

  it.effect("filters by session, sender, time and own messages, newest first, up to the limit", () =>
    Effect.gen(function*() {
      const inbox = fresh()
      yield* inbox.receive("acct", [
        message("old", { receivedAt: at(1) }),
        message("shop", { sessionId: "shop", receivedAt: at(2) }),
        message("other", { from: "254733000111", receivedAt: at(3) }),
        message("mine", { fromMe: true, receivedAt: at(4) }),
        message("new", { receivedAt: at(5) })
      ])
      const ids = (filter: Parameters<typeof inbox.list>[1], limit = 20) =>
        Effect.map(inbox.list("acct", filter, limit), (messages) => messages.map((m) => m.id))
      expect(yield* ids({})).toEqual(["new", "other", "shop", "old"])
      expect(yield* ids({ includeOwn: true }, 2)).toEqual(["new", "mine"])
      expect(yield* ids({ sessionId: "shop" })).toEqual(["shop"])
      expect(yield* ids({ from: "254733000111" })).toEqual(["other"])
      expect(yield* ids({ since: Date.parse(at(3)) })).toEqual(["new", "other"])
    }))

  it.effect("wakes a waiter with the first new matching message, not older or other ones", () =>
    Effect.gen(function*() {
      const inbox = fresh()
      yield* inbox.receive("acct", [message("before")])
      const waiter = yield* Effect.fork(inbox.next("acct", { from: "254733000111" }))
      yield* Effect.yieldNow()
      yield* inbox.receive("other-account", [message("elsewhere", { from: "254733000111" })])
      yield* inbox.receive("acct", [
        message("wrong-sender"),
        message("own", { from: "254733000111", fromMe: true }),
        message("wanted", { from: "254733000111" }),
        message("later", { from: "254733000111" })
      ])
      expect((yield* Fiber.join(waiter)).id).toBe("wanted")
    }))

  it.effect("does not wake a waiter for a duplicate", () =>
    Effect.gen(function*() {
      const inbox = fresh()
      yield* inbox.receive("acct", [message("a")])
      const waiter = yield* Effect.fork(inbox.next("acct", {}))
      yield* Effect.yieldNow()
      yield* inbox.receive("acct", [message("a")])
      yield* inbox.receive("acct", [message("b")])
      expect((yield* Fiber.join(waiter)).id).toBe("b")
    }))

  it.effect("forgets a message it could not keep, so the gateway's retry stores it", () =>
    Effect.gen(function*() {
      const store = makeMemoryStore()
      let down = true
      const flaky = {
        ...store,
        push: (...args: Parameters<typeof store.push>) =>
          down ? Effect.fail(new StoreUnavailable({ reason: "connection refused" })) : store.push(...args)
      }
      const inbox = makeInbox(flaky, { maxPerAccount: 10, retentionMs: 60_000 })
      const failed = yield* Effect.flip(inbox.receive("acct", [message("a")]))
      expect(failed.reason).toBe("connection refused")
      down = false
      expect(yield* inbox.receive("acct", [message("a")])).toEqual({ stored: 1, duplicates: 0 })
    }))

  it.effect("with `since`, a waiter is answered at once by the oldest match that already came", () =>
    Effect.gen(function*() {
      const inbox = fresh()
      yield* inbox.receive("acct", [
        message("before-send", { receivedAt: at(1) }),
        message("first-reply", { receivedAt: at(3) }),
        message("second-reply", { receivedAt: at(4) })
      ])
      expect((yield* inbox.next("acct", { since: Date.parse(at(2)) })).id).toBe("first-reply")
    }))
})
