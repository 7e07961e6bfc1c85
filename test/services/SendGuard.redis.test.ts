/**
 * SendGuard on a real redis-server, as replicas use it: each "replica" is a guard with its own
 * connection, all on one Redis. What matters is what reaches the gateway: a stand-in delivery
 * that records every message it was asked to send.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Layer, Logger, Option, Schedule } from "effect"
import { randomUUID } from "node:crypto"
import { afterAll, beforeAll } from "vitest"
import { DeliveryUncertain } from "../../src/errors/ChatKaziError.js"
import { Account } from "../../src/services/Account.js"
import * as RedisStore from "../../src/services/RedisStore.js"
import { SafetyConfig, type SafetySettings } from "../../src/services/SafetyConfig.js"
import { makeSendGuard, type OutgoingMessage } from "../../src/services/SendGuard.js"
import type { StateStoreApi } from "../../src/services/StateStore.js"
import { RedisServer } from "../support/redis.js"
import { makeOutbox } from "../support/outbox.js"

let redis: RedisServer
beforeAll(async () => {
  redis = await RedisServer.start()
})
afterAll(async () => {
  await redis?.stop()
})

const quiet = Logger.replace(Logger.defaultLogger, Logger.none)

/** One replica: its own connection to Redis and its own guard. */
const replica = (
  safety: Partial<SafetySettings> = {},
  options: { readonly url?: string; readonly deliveryTimeoutMs?: number } = {}
) =>
  Effect.gen(function*() {
    const store: StateStoreApi = yield* RedisStore.make(options.url ?? redis.url, { commandTimeoutMs: 500 }).pipe(Effect.orDie)
    const guard = makeSendGuard(SafetyConfig.make(safety), store, { deliveryTimeoutMs: options.deliveryTimeoutMs ?? 5_000 })
    return { store, guard }
  }).pipe(Effect.provide(quiet))


const message = (text: string): OutgoingMessage => ({ sessionId: "default", to: "254712345678", content: { text } })

/** A new account for each test, so tests never share state on the one Redis. */
const freshAccount = () => Account.layerKey(`ck_${randomUUID()}`)

const waitUntil = <E, R>(check: Effect.Effect<boolean, E, R>) =>
  check.pipe(
    Effect.repeat({ schedule: Schedule.spaced("20 millis"), until: (ok) => ok }),
    Effect.timeoutFail({ duration: 5_000, onTimeout: () => new Error("condition not met within 5 s") }),
    Effect.orDie
  )

describe("SendGuard on Redis: replicas", () => {
  it.scopedLive("the same send on two replicas within the window reaches the gateway once; the repeat gets the first receipt", () =>
    Effect.gen(function*() {
      const [one, two] = [yield* replica(), yield* replica()]
      const gateway = makeOutbox()
      const first = yield* one.guard.once(message("hi"), gateway.deliver("from one"))
      const repeat = yield* two.guard.once(message("hi"), gateway.deliver("from two"))
      expect(gateway.delivered).toEqual(["from one"])
      expect(first).toStrictEqual({ receipt: { messageId: "m1", details: {} } })
      expect(repeat.receipt).toStrictEqual(first.receipt)
      expect(repeat.duplicateOf?.sentAt).toBeTypeOf("number")
    }).pipe(Effect.provide(freshAccount())))

  it.scopedLive("a repeat while the first send is still in flight on the other replica waits for it and delivers nothing", () =>
    Effect.gen(function*() {
      const [one, two] = [yield* replica(), yield* replica()]
      const gateway = makeOutbox()
      const started = yield* Deferred.make<void>()
      const gate = yield* Deferred.make<void>()
      const slow = Deferred.succeed(started, undefined).pipe(
        Effect.zipRight(Deferred.await(gate)),
        Effect.zipRight(gateway.deliver("slow one"))
      )
      const first = yield* Effect.fork(one.guard.once(message("hi"), slow))
      yield* Deferred.await(started)
      const repeat = yield* Effect.fork(two.guard.once(message("hi"), gateway.deliver("from two")))
      yield* Effect.sleep("300 millis")
      expect(Option.isNone(yield* Fiber.poll(repeat))).toBe(true)
      yield* Deferred.succeed(gate, undefined)
      const [a, b] = [yield* Fiber.join(first), yield* Fiber.join(repeat)]
      expect(gateway.delivered).toEqual(["slow one"])
      expect(b.receipt).toStrictEqual(a.receipt)
      expect(b.duplicateOf).toBeDefined()
    }).pipe(Effect.provide(freshAccount())))

  it.scopedLive("a send whose delivery is uncertain on one replica is refused on the other, nothing sent", () =>
    Effect.gen(function*() {
      const [one, two] = [yield* replica(), yield* replica()]
      const gateway = makeOutbox()
      const uncertain = new DeliveryUncertain({ operation: "send_whatsapp_text", reason: "HTTP 500" })
      yield* Effect.flip(one.guard.once(message("hi"), Effect.fail(uncertain)))
      const repeat = yield* Effect.flip(two.guard.once(message("hi"), gateway.deliver("from two")))
      expect(repeat).toMatchObject({ _tag: "DeliveryUncertain", operation: "send_whatsapp_text", reason: "HTTP 500", repeated: true })
      expect(gateway.delivered).toEqual([])
    }).pipe(Effect.provide(freshAccount())))

  it.scopedLive("a send that never settles (its replica stopped mid-send) blocks the repeat, which is refused after the delivery timeout", () =>
    Effect.gen(function*() {
      const one = yield* replica({}, { deliveryTimeoutMs: 300 })
      const two = yield* replica({}, { deliveryTimeoutMs: 300 })
      const gateway = makeOutbox()
      const started = yield* Deferred.make<void>()
      const gate = yield* Deferred.make<void>()
      const stuck = Deferred.succeed(started, undefined).pipe(
        Effect.zipRight(Deferred.await(gate)),
        Effect.zipRight(gateway.deliver("stuck one"))
      )
      const first = yield* Effect.fork(one.guard.once(message("hi"), stuck))
      yield* Deferred.await(started)
      const refused = yield* Effect.flip(two.guard.once(message("hi"), gateway.deliver("from two")))
      expect(refused).toMatchObject({ _tag: "DeliveryUncertain", repeated: true })
      expect(refused.message).toContain("Not sent")
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(first)
      expect(gateway.delivered).toEqual(["stuck one"])
    }).pipe(Effect.provide(freshAccount())))

  it.scopedLive("replicas share one pace budget per account", () =>
    Effect.gen(function*() {
      const [one, two] = [yield* replica({ maxSendsPerMinute: 2 }), yield* replica({ maxSendsPerMinute: 2 })]
      const gateway = makeOutbox()
      yield* one.guard.once(message("1"), gateway.deliver("1"))
      yield* two.guard.once(message("2"), gateway.deliver("2"))
      const refused = yield* Effect.flip(one.guard.once(message("3"), gateway.deliver("3")))
      expect(refused).toMatchObject({ _tag: "PaceLimited", maxPerMinute: 2 })
      expect(yield* Effect.flip(two.guard.once(message("4"), gateway.deliver("4")))).toMatchObject({ _tag: "PaceLimited" })
      expect(gateway.delivered).toEqual(["1", "2"])
    }).pipe(Effect.provide(freshAccount())))
})

describe("SendGuard on Redis: accounts are isolated", () => {
  it.scopedLive("the same send from two accounts goes out twice, and each account has its own pace budget", () =>
    Effect.gen(function*() {
      const [one, two] = [yield* replica({ maxSendsPerMinute: 1 }), yield* replica({ maxSendsPerMinute: 1 })]
      const gateway = makeOutbox()
      const [alice, bob] = [freshAccount(), freshAccount()]
      const fromAlice = yield* one.guard.once(message("hi"), gateway.deliver("alice")).pipe(Effect.provide(alice))
      const fromBob = yield* two.guard.once(message("hi"), gateway.deliver("bob")).pipe(Effect.provide(bob))
      expect(gateway.delivered).toEqual(["alice", "bob"])
      expect(fromAlice.duplicateOf).toBeUndefined()
      expect(fromBob.duplicateOf).toBeUndefined()
      const refused = yield* Effect.flip(two.guard.once(message("again"), gateway.deliver("alice again")).pipe(Effect.provide(alice)))
      expect(refused).toMatchObject({ _tag: "PaceLimited" })
      expect(gateway.delivered).toEqual(["alice", "bob"])
    }))
})

describe("SendGuard on Redis: outages", () => {
  it.scopedLive("Redis down: sends are refused with StateUnavailable and nothing is delivered; Redis back: sends work again", () =>
    Effect.gen(function*() {
      const server = yield* Effect.acquireRelease(Effect.promise(() => RedisServer.start()), (s) => Effect.promise(() => s.stop()))
      const { guard, store } = yield* replica({}, { url: server.url })
      const gateway = makeOutbox()
      yield* guard.once(message("before"), gateway.deliver("before"))

      yield* Effect.promise(() => server.kill())
      for (const text of ["during", "before"]) {
        const refused = yield* Effect.flip(guard.once(message(text), gateway.deliver(text)))
        expect(refused).toMatchObject({ _tag: "StateUnavailable", reason: "no connection to Redis" })
        expect(refused.message).toContain("nothing was sent")
        expect(refused.message).toContain("CHATKAZI_REDIS_URL")
      }
      // Reads never need the store.
      yield* guard.checkRecipient("254712345678")
      expect(gateway.delivered).toEqual(["before"])

      yield* Effect.promise(() => server.restart())
      yield* waitUntil(store.ping)
      yield* guard.once(message("after"), gateway.deliver("after"))
      expect(gateway.delivered).toEqual(["before", "after"])
    }).pipe(Effect.provide(Layer.merge(freshAccount(), quiet))))
})
