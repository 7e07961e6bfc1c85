import { describe, expect, it, layer } from "@effect/vitest"
import { Clock, Deferred, Effect, Fiber, Option, TestClock } from "effect"
import { DeliveryUncertain, RateLimited, UpstreamUnavailable } from "../../src/errors/ChatKaziError.js"
import { Account } from "../../src/services/Account.js"
import { SafetyConfig, type SafetySettings } from "../../src/services/SafetyConfig.js"
import { makeSendGuard, type OutgoingMessage, type SendGuardOptions } from "../../src/services/SendGuard.js"
import { makeMemoryStore, StateStore } from "../../src/services/StateStore.js"
import { makeOutbox } from "../support/outbox.js"

/** A guard on a fresh in-memory store whose clock is the test's. */
const guardOn = (safety: Partial<SafetySettings> = {}) =>
  Effect.map(StateStore, (store) => makeSendGuard(SafetyConfig.make(safety), store)).pipe(
    Effect.provide(StateStore.layerMemory)
  )

const anAccount = Account.layerKey("ck_unit_test_key")


const message = (text: string, overrides: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  sessionId: "default",
  to: "254712345678",
  content: { text },
  ...overrides
})

describe("SendGuard.checkRecipient", () => {
  const guard = makeSendGuard(SafetyConfig.make({ allowedRecipients: Option.some(["254712345678", "2547*"]) }), makeMemoryStore())

  it.effect("lets listed numbers and prefixes through", () =>
    Effect.gen(function*() {
      yield* guard.checkRecipient("254712345678")
      yield* guard.checkRecipient("254799999999")
    }))

  it.effect("refuses anyone else with RecipientNotAllowed naming the number and the setting", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(guard.checkRecipient("447700900123"))
      expect(error).toMatchObject({ _tag: "RecipientNotAllowed", to: "447700900123" })
      expect(error.message).toContain("CHATKAZI_ALLOWED_RECIPIENTS")
      expect(error.message).toContain("nothing was sent")
    }))

  it.effect("without an allowlist anyone may be messaged", () =>
    Effect.gen(function*() {
      yield* makeSendGuard(SafetyConfig.make(), makeMemoryStore()).checkRecipient("447700900123")
    }))
})

layer(anAccount)("SendGuard.once: repeated sends", (it) => {
  it.effect("a repeat inside the window returns the first receipt, marked duplicateOf, and delivers once", () =>
    Effect.gen(function*() {
      const guard = yield* guardOn({ dedupeWindowSeconds: 30 })
      const outbox = makeOutbox()
      yield* TestClock.adjust("1 second")
      const first = yield* guard.once(message("hi"), outbox.deliver("first"))
      yield* TestClock.adjust("29 seconds")
      const repeat = yield* guard.once(message("hi"), outbox.deliver("second"))
      expect(outbox.delivered).toEqual(["first"])
      expect(first).toStrictEqual({ receipt: { messageId: "m1", details: {} } })
      expect(repeat).toStrictEqual({ receipt: { messageId: "m1", details: {} }, duplicateOf: { sentAt: 1_000 } })
    }))

  it.effect("once the window has passed the same message is delivered again", () =>
    Effect.gen(function*() {
      const guard = yield* guardOn({ dedupeWindowSeconds: 30 })
      const outbox = makeOutbox()
      yield* guard.once(message("hi"), outbox.deliver("first"))
      yield* TestClock.adjust("30 seconds")
      const again = yield* guard.once(message("hi"), outbox.deliver("second"))
      expect(outbox.delivered).toEqual(["first", "second"])
      expect(again.duplicateOf).toBeUndefined()
    }))

  it.effect("a different text, recipient or session is not a repeat", () =>
    Effect.gen(function*() {
      const guard = yield* guardOn()
      const outbox = makeOutbox()
      yield* guard.once(message("hi"), outbox.deliver("a"))
      yield* guard.once(message("hi!"), outbox.deliver("b"))
      yield* guard.once(message("hi", { to: "254700000000" }), outbox.deliver("c"))
      yield* guard.once(message("hi", { sessionId: "shop" }), outbox.deliver("d"))
      expect(outbox.delivered).toEqual(["a", "b", "c", "d"])
    }))

  it.effect("a window of 0 turns suppression off", () =>
    Effect.gen(function*() {
      const guard = yield* guardOn({ dedupeWindowSeconds: 0 })
      const outbox = makeOutbox()
      const first = yield* guard.once(message("hi"), outbox.deliver("first"))
      const second = yield* guard.once(message("hi"), outbox.deliver("second"))
      expect(outbox.delivered).toEqual(["first", "second"])
      expect(first.duplicateOf).toBeUndefined()
      expect(second.duplicateOf).toBeUndefined()
    }))

  it.effect("a failed send is not remembered: the retry is delivered", () =>
    Effect.gen(function*() {
      const guard = yield* guardOn()
      const outbox = makeOutbox()
      const error = yield* Effect.flip(guard.once(message("hi"), Effect.fail(new UpstreamUnavailable({ status: 503 }))))
      expect(error._tag).toBe("UpstreamUnavailable")
      const retry = yield* guard.once(message("hi"), outbox.deliver("retry"))
      expect(outbox.delivered).toEqual(["retry"])
      expect(retry.duplicateOf).toBeUndefined()
    }))

  it.effect("a send whose delivery is uncertain is remembered: a repeat inside the window sends nothing", () =>
    Effect.gen(function*() {
      const guard = yield* guardOn({ dedupeWindowSeconds: 30 })
      const outbox = makeOutbox()
      const uncertain = new DeliveryUncertain({ operation: "send_whatsapp_text", reason: "HTTP 500" })
      const first = yield* Effect.flip(guard.once(message("hi"), Effect.fail(uncertain)))
      expect(first).toMatchObject({ _tag: "DeliveryUncertain", reason: "HTTP 500" })
      expect(first).not.toHaveProperty("repeated")

      yield* TestClock.adjust("29 seconds")
      const repeat = yield* Effect.flip(guard.once(message("hi"), outbox.deliver("repeat")))
      expect(outbox.delivered).toEqual([])
      expect(repeat).toMatchObject({ _tag: "DeliveryUncertain", repeated: true })
      expect(repeat.message).toContain("Not sent")
      expect(repeat.message).toContain("CHATKAZI_DEDUPE_WINDOW_SECONDS")

      yield* TestClock.adjust("2 seconds")
      yield* guard.once(message("hi"), outbox.deliver("after the window"))
      expect(outbox.delivered).toEqual(["after the window"])
    }))

  it.effect("the window counts from when a send settled: a repeat right after a 30 s timeout sends nothing", () =>
    Effect.gen(function*() {
      const guard = yield* guardOn({ dedupeWindowSeconds: 30 })
      const outbox = makeOutbox()
      const timesOut = Effect.zipRight(
        Effect.sleep("30 seconds"),
        Effect.fail(new DeliveryUncertain({ operation: "send_whatsapp_text", reason: "no answer within 30000 ms" }))
      )
      const first = yield* Effect.fork(Effect.flip(guard.once(message("hi"), timesOut)))
      yield* TestClock.adjust("30 seconds")
      expect((yield* Fiber.join(first))._tag).toBe("DeliveryUncertain")
      yield* TestClock.adjust("1 second")
      const repeat = yield* Effect.flip(guard.once(message("hi"), outbox.deliver("repeat")))
      expect(repeat).toMatchObject({ _tag: "DeliveryUncertain", repeated: true })
      expect(outbox.delivered).toEqual([])
    }))

  it.effect("a send still in flight past the window is not forgotten: its repeat waits for it", () =>
    Effect.gen(function*() {
      const guard = yield* guardOn({ dedupeWindowSeconds: 30 })
      const outbox = makeOutbox()
      const gate = yield* Deferred.make<void>()
      const first = yield* Effect.fork(guard.once(message("hi"), Effect.zipRight(Deferred.await(gate), outbox.deliver("first"))))
      yield* TestClock.adjust("45 seconds")
      const repeat = yield* Effect.fork(guard.once(message("hi"), outbox.deliver("repeat")))
      yield* Effect.yieldNow().pipe(Effect.repeatN(20))
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(first)
      const repeated = yield* Fiber.join(repeat)
      expect(outbox.delivered).toEqual(["first"])
      expect(repeated.duplicateOf).toBeDefined()
    }))

  it.effect("two identical sends at the same time deliver once and both get the receipt", () =>
    Effect.gen(function*() {
      const guard = yield* guardOn()
      const outbox = makeOutbox()
      const gate = yield* Deferred.make<void>()
      const slowDeliver = Effect.zipRight(Deferred.await(gate), outbox.deliver("only"))
      const first = yield* Effect.fork(guard.once(message("hi"), slowDeliver))
      const second = yield* Effect.fork(guard.once(message("hi"), outbox.deliver("never")))
      yield* Effect.yieldNow().pipe(Effect.repeatN(20))
      expect(outbox.delivered).toEqual([])
      yield* Deferred.succeed(gate, undefined)
      const [a, b] = [yield* Fiber.join(first), yield* Fiber.join(second)]
      expect(outbox.delivered).toEqual(["only"])
      expect(a.receipt).toStrictEqual({ messageId: "m1", details: {} })
      expect(b.receipt).toStrictEqual(a.receipt)
      expect(b.duplicateOf).toBeDefined()
    }))

  it.effect("a concurrent repeat of a send that fails fails too, and delivers nothing", () =>
    Effect.gen(function*() {
      const guard = yield* guardOn()
      const outbox = makeOutbox()
      const gate = yield* Deferred.make<void>()
      const failing = Effect.zipRight(Deferred.await(gate), Effect.fail(new RateLimited({ gatewayMessage: "slow" })))
      const first = yield* Effect.fork(Effect.flip(guard.once(message("hi"), failing)))
      const second = yield* Effect.fork(Effect.flip(guard.once(message("hi"), outbox.deliver("never"))))
      yield* Effect.yieldNow().pipe(Effect.repeatN(20))
      yield* Deferred.succeed(gate, undefined)
      expect((yield* Fiber.join(first))._tag).toBe("RateLimited")
      expect((yield* Fiber.join(second))._tag).toBe("RateLimited")
      expect(outbox.delivered).toEqual([])
    }))
})

layer(anAccount)("SendGuard.once: pace limit", (it) => {
  it.effect("the N+1th send in a minute is PaceLimited with the wait until a slot frees, and nothing is delivered", () =>
    Effect.gen(function*() {
      const guard = yield* guardOn({ maxSendsPerMinute: 3 })
      const outbox = makeOutbox()
      yield* guard.once(message("1"), outbox.deliver("1"))
      yield* TestClock.adjust("10 seconds")
      yield* guard.once(message("2"), outbox.deliver("2"))
      yield* guard.once(message("3"), outbox.deliver("3"))
      yield* TestClock.adjust("5 seconds")
      const error = yield* Effect.flip(guard.once(message("4"), outbox.deliver("4")))
      expect(error).toMatchObject({ _tag: "PaceLimited", sessionId: "default", maxPerMinute: 3, retryAfterSeconds: 45 })
      expect(error.message).toContain("45 seconds")
      expect(error.message).toContain("CHATKAZI_MAX_SENDS_PER_MINUTE")
      expect(outbox.delivered).toEqual(["1", "2", "3"])
    }))

  it.effect("a slot frees a minute after the oldest send", () =>
    Effect.gen(function*() {
      const guard = yield* guardOn({ maxSendsPerMinute: 2 })
      const outbox = makeOutbox()
      yield* guard.once(message("1"), outbox.deliver("1"))
      yield* TestClock.adjust("20 seconds")
      yield* guard.once(message("2"), outbox.deliver("2"))
      yield* TestClock.adjust("39 seconds")
      const refused = yield* Effect.flip(guard.once(message("3"), outbox.deliver("3")))
      expect(refused).toMatchObject({ _tag: "PaceLimited", retryAfterSeconds: 1 })
      yield* TestClock.adjust("1 second")
      yield* guard.once(message("3"), outbox.deliver("3"))
      const stillFull = yield* Effect.flip(guard.once(message("4"), outbox.deliver("4")))
      expect(stillFull).toMatchObject({ _tag: "PaceLimited", retryAfterSeconds: 20 })
      expect(outbox.delivered).toEqual(["1", "2", "3"])
    }))

  it.effect("the limit is per session", () =>
    Effect.gen(function*() {
      const guard = yield* guardOn({ maxSendsPerMinute: 1 })
      const outbox = makeOutbox()
      yield* guard.once(message("a"), outbox.deliver("default"))
      yield* guard.once(message("a", { sessionId: "shop" }), outbox.deliver("shop"))
      const error = yield* Effect.flip(guard.once(message("b"), outbox.deliver("default again")))
      expect(error).toMatchObject({ _tag: "PaceLimited", sessionId: "default" })
      expect(outbox.delivered).toEqual(["default", "shop"])
    }))

  it.effect("a suppressed repeat does not use up the pace", () =>
    Effect.gen(function*() {
      const guard = yield* guardOn({ maxSendsPerMinute: 1 })
      const outbox = makeOutbox()
      yield* guard.once(message("a"), outbox.deliver("a"))
      const repeat = yield* guard.once(message("a"), outbox.deliver("a again"))
      expect(repeat.duplicateOf).toBeDefined()
      expect(outbox.delivered).toEqual(["a"])
    }))
})

/**
 * Two guards ("replicas") on one memory store, and a send of "hi" that guard one has started and holds
 * until `gate` opens; `repeatOnTwo` forks the same send on guard two.
 */
const heldOnOneReplica = (safety: Partial<SafetySettings> = {}, options: SendGuardOptions = {}) =>
  Effect.gen(function*() {
    const store = yield* Effect.provide(StateStore, StateStore.layerMemory)
    const settings = SafetyConfig.make(safety)
    const [one, two] = [makeSendGuard(settings, store, options), makeSendGuard(settings, store, options)]
    const outbox = makeOutbox()
    const gate = yield* Deferred.make<void>()
    const first = yield* Effect.fork(
      one.once(message("hi"), Effect.zipRight(Deferred.await(gate), outbox.deliver("one"))).pipe(Effect.provide(anAccount))
    )
    yield* Effect.yieldNow().pipe(Effect.repeatN(20))
    const repeatOnTwo = Effect.fork(two.once(message("hi"), outbox.deliver("two")).pipe(Effect.provide(anAccount)))
    return { two, outbox, gate, first, repeatOnTwo }
  })

describe("SendGuard.once: guards sharing one store, as replicas do", () => {
  it.effect("a repeat on the other guard gets the first receipt; another account's identical send goes out", () =>
    Effect.gen(function*() {
      const store = yield* Effect.provide(StateStore, StateStore.layerMemory)
      const [one, two] = [makeSendGuard(SafetyConfig.make(), store), makeSendGuard(SafetyConfig.make(), store)]
      const outbox = makeOutbox()
      const sentAt = yield* Clock.currentTimeMillis
      yield* one.once(message("hi"), outbox.deliver("one")).pipe(Effect.provide(anAccount))
      yield* TestClock.adjust("10 seconds")
      const repeat = yield* two.once(message("hi"), outbox.deliver("two")).pipe(Effect.provide(anAccount))
      expect(repeat).toStrictEqual({ receipt: { messageId: "m1", details: {} }, duplicateOf: { sentAt } })
      const otherAccount = yield* two.once(message("hi"), outbox.deliver("other")).pipe(
        Effect.provide(Account.layerKey("ck_someone_else"))
      )
      expect(otherAccount.duplicateOf).toBeUndefined()
      expect(outbox.delivered).toEqual(["one", "other"])
    }))

  it.effect("a repeat while the other guard's send is in flight waits for it, then returns its receipt", () =>
    Effect.gen(function*() {
      const { first, gate, outbox, repeatOnTwo } = yield* heldOnOneReplica()
      const repeat = yield* repeatOnTwo
      yield* TestClock.adjust("5 seconds")
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(first)
      yield* TestClock.adjust("1 second")
      const repeated = yield* Fiber.join(repeat)
      expect(repeated.duplicateOf).toBeDefined()
      expect(outbox.delivered).toEqual(["one"])
    }))

  it.effect("a send that takes longer than its claim's first lifetime keeps the claim: the other guard never sends it", () =>
    Effect.gen(function*() {
      // Claims last CHATKAZI_TIMEOUT_MS + the window (here 1 s + 2 s); a send can take longer than that (a wait
      // for a permit, retries after a 429): the claim is renewed until it settles.
      const { first, gate, outbox, repeatOnTwo, two } = yield* heldOnOneReplica(
        { dedupeWindowSeconds: 2 },
        { deliveryTimeoutMs: 1_000 }
      )
      for (let second = 0; second < 10; second++) yield* TestClock.adjust("1 second")
      // Ten seconds in, far past the 3 s the claim was taken for: the other guard still sends nothing.
      const repeat = yield* repeatOnTwo
      yield* TestClock.adjust("2 seconds")
      const refused = yield* Effect.flip(Fiber.join(repeat))
      expect(refused).toMatchObject({ _tag: "DeliveryUncertain", repeated: true })
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(first)
      expect(outbox.delivered).toEqual(["one"])
      // Settled: the repeat now gets the first send's receipt, still without sending.
      const afterwards = yield* two.once(message("hi"), outbox.deliver("three")).pipe(Effect.provide(anAccount))
      expect(afterwards.duplicateOf).toBeDefined()
      expect(outbox.delivered).toEqual(["one"])
    }))

  it.effect("with two sends in flight, the one that settles first is remembered and the other's claim is still renewed", () =>
    Effect.gen(function*() {
      const store = yield* Effect.provide(StateStore, StateStore.layerMemory)
      const settings = SafetyConfig.make({ dedupeWindowSeconds: 2 })
      const [one, two] = [1, 2].map(() => makeSendGuard(settings, store, { deliveryTimeoutMs: 1_000 }))
      const outbox = makeOutbox()
      const [gateA, gateB] = yield* Effect.all([Deferred.make<void>(), Deferred.make<void>()])
      const held = (text: string, gate: Deferred.Deferred<void>) =>
        Effect.fork(one!.once(message(text), Effect.zipRight(Deferred.await(gate), outbox.deliver(text))).pipe(Effect.provide(anAccount)))
      const [a, b] = yield* Effect.all([held("a", gateA), held("b", gateB)])
      for (let second = 0; second < 5; second++) yield* TestClock.adjust("1 second")
      yield* Deferred.succeed(gateA, undefined)
      yield* Fiber.join(a)
      yield* TestClock.adjust("1 second")
      const repeatA = yield* two!.once(message("a"), outbox.deliver("a again")).pipe(Effect.provide(anAccount))
      expect(repeatA.duplicateOf).toBeDefined()
      for (let second = 0; second < 5; second++) yield* TestClock.adjust("1 second")
      // Eleven seconds in, far past the 3 s the claim was taken for, and after "a" settled: "b" is still claimed.
      const repeatB = yield* Effect.fork(two!.once(message("b"), outbox.deliver("b again")).pipe(Effect.provide(anAccount)))
      yield* TestClock.adjust("2 seconds")
      expect(yield* Effect.flip(Fiber.join(repeatB))).toMatchObject({ _tag: "DeliveryUncertain", repeated: true })
      yield* Deferred.succeed(gateB, undefined)
      yield* Fiber.join(b)
      expect(outbox.delivered).toEqual(["a", "b"])
    }))

  it.effect("a send that settles while its claim is being renewed: the renewal lands first, the outcome stays", () =>
    Effect.gen(function*() {
      const memory = yield* Effect.provide(StateStore, StateStore.layerMemory)
      // Like Redis: a write once sent lands, even if the fiber that sent it is interrupted meanwhile.
      const renewalGate = yield* Deferred.make<void>()
      const store: typeof memory = {
        ...memory,
        set: (key, value, ttlMs) =>
          value.includes("InFlight")
            ? Effect.promise(() => Effect.runPromise(Effect.zipRight(Deferred.await(renewalGate), memory.set(key, value, ttlMs))))
            : memory.set(key, value, ttlMs)
      }
      const settings = SafetyConfig.make({ dedupeWindowSeconds: 2 })
      const [one, two] = [1, 2].map(() => makeSendGuard(settings, store, { deliveryTimeoutMs: 1_000 }))
      const outbox = makeOutbox()
      const gate = yield* Deferred.make<void>()
      const first = yield* Effect.fork(
        one!.once(message("hi"), Effect.zipRight(Deferred.await(gate), outbox.deliver("one"))).pipe(Effect.provide(anAccount))
      )
      // A renewal round starts (every third of the claim's 3 s) and its write is under way.
      yield* TestClock.adjust("1 second")
      yield* Deferred.succeed(gate, undefined)
      yield* Effect.yieldNow().pipe(Effect.repeatN(50))
      yield* Deferred.succeed(renewalGate, undefined)
      yield* Fiber.join(first)
      yield* Effect.yieldNow().pipe(Effect.repeatN(50))
      const repeat = yield* Effect.fork(two!.once(message("hi"), outbox.deliver("two")).pipe(Effect.provide(anAccount)))
      yield* TestClock.adjust("2 seconds")
      expect((yield* Fiber.join(repeat)).duplicateOf).toBeDefined()
      expect(outbox.delivered).toEqual(["one"])
    }))

  it.effect("a repeat waiting on the other guard's send can be cancelled at once; the first send goes on", () =>
    Effect.gen(function*() {
      const { first, gate, outbox, repeatOnTwo } = yield* heldOnOneReplica()
      const repeat = yield* repeatOnTwo
      yield* TestClock.adjust("1 second")
      // No more time passes: the cancel must not wait out CHATKAZI_TIMEOUT_MS.
      const exit = yield* Fiber.interrupt(repeat)
      expect(exit._tag).toBe("Failure")
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(first)
      expect(outbox.delivered).toEqual(["one"])
    }))
})
