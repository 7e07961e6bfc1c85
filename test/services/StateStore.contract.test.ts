/**
 * One contract, two implementations: the in-memory store and the Redis store (on a real
 * redis-server) must behave the same. Each test gets two handles, `a` and `b`, as two replicas
 * would: the same object in memory, two separate connections on Redis.
 */
import { describe, expect, it } from "@effect/vitest"
import { Redis } from "ioredis"
import { ConfigProvider, Deferred, Effect, Exit, Layer, Logger, Schedule, Scope } from "effect"
import { randomUUID } from "node:crypto"
import { afterAll, beforeAll } from "vitest"
import * as RedisStore from "../../src/services/RedisStore.js"
import { makeMemoryStore, StateStore, type StateStoreApi } from "../../src/services/StateStore.js"
import { RedisServer } from "../support/redis.js"

type Pair = Effect.Effect<readonly [StateStoreApi, StateStoreApi], never, Scope.Scope>

let redis: RedisServer
beforeAll(async () => {
  redis = await RedisServer.start()
})
afterAll(async () => {
  await redis?.stop()
})

/** A Redis store that logs nowhere, unless the test provides a logger of its own. */
const openRedis = (url: string, options: RedisStore.RedisStoreOptions = {}) =>
  RedisStore.make(url, options).pipe(Effect.orDie, Effect.provide(Logger.replace(Logger.defaultLogger, Logger.none)))

const subjects: ReadonlyArray<readonly [string, () => Pair]> = [
  ["memory", () => Effect.sync(() => makeMemoryStore()).pipe(Effect.map((store) => [store, store] as const))],
  [
    "redis",
    () => {
      // A fresh prefix per test: tests never see each other's keys.
      const keyPrefix = `test:${randomUUID()}:`
      return Effect.all([openRedis(redis.url, { keyPrefix }), openRedis(redis.url, { keyPrefix })])
    }
  ]
]

/** Checks again every 20 ms until `check` holds; a test failure after `timeoutMs`. */
const waitUntil = <E, R>(check: Effect.Effect<boolean, E, R>, timeoutMs = 5_000) =>
  check.pipe(
    Effect.repeat({ schedule: Schedule.spaced("20 millis"), until: (ok) => ok }),
    Effect.timeoutFail({ duration: timeoutMs, onTimeout: () => new Error(`not met within ${timeoutMs} ms`) }),
    Effect.orDie,
    Effect.asVoid
  )

for (const [name, pair] of subjects) {
  describe(`StateStore contract: ${name}`, () => {
    it.scopedLive("claim sets a key only when it is absent: one of two replicas wins", () =>
      Effect.gen(function*() {
        const [a, b] = yield* pair()
        expect(yield* a.claim("k", "first", 10_000)).toBe(true)
        expect(yield* b.claim("k", "second", 10_000)).toBe(false)
        expect(yield* b.get("k")).toBe("first")
      }))

    it.scopedLive("of many claims at once on both replicas, exactly one wins", () =>
      Effect.gen(function*() {
        const [a, b] = yield* pair()
        const wins = yield* Effect.all(
          Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).claim("race", String(i), 10_000)),
          { concurrency: "unbounded" }
        )
        expect(wins.filter(Boolean)).toHaveLength(1)
      }))

    it.scopedLive("set overwrites, delete removes, a missing key reads as undefined", () =>
      Effect.gen(function*() {
        const [a, b] = yield* pair()
        expect(yield* a.get("nothing")).toBeUndefined()
        yield* a.set("k", "1", 10_000)
        yield* b.set("k", "2", 10_000)
        expect(yield* a.get("k")).toBe("2")
        yield* b.delete("k")
        expect(yield* a.get("k")).toBeUndefined()
        expect(yield* a.claim("k", "3", 10_000)).toBe(true)
      }))

    it.scopedLive("delete removes a key of any kind: a list and a pace window too", () =>
      Effect.gen(function*() {
        const [a, b] = yield* pair()
        yield* a.push("list", "m1", 10, 10_000)
        yield* b.delete("list")
        expect(yield* a.recent("list", 10)).toEqual([])
        expect(yield* a.admit("window", 1, 60_000, 1_000)).toStrictEqual({ admitted: true })
        yield* b.delete("window")
        expect(yield* a.admit("window", 1, 60_000, 1_001)).toStrictEqual({ admitted: true })
      }))

    it.scopedLive("keys expire after their time to live", () =>
      Effect.gen(function*() {
        const [a, b] = yield* pair()
        expect(yield* a.claim("short", "x", 60)).toBe(true)
        yield* a.set("also-short", "y", 60)
        expect(yield* b.claim("short", "y", 60)).toBe(false)
        yield* Effect.sleep("150 millis")
        expect(yield* b.get("also-short")).toBeUndefined()
        expect(yield* b.claim("short", "z", 10_000)).toBe(true)
      }))

    it.scopedLive("admit keeps a sliding window shared by both replicas, with the wait until a slot frees", () =>
      Effect.gen(function*() {
        const [a, b] = yield* pair()
        expect(yield* a.admit("pace", 2, 1_000, 1_000)).toStrictEqual({ admitted: true })
        expect(yield* b.admit("pace", 2, 1_000, 1_100)).toStrictEqual({ admitted: true })
        expect(yield* a.admit("pace", 2, 1_000, 1_200)).toStrictEqual({ admitted: false, retryAfterMs: 800 })
        expect(yield* b.admit("pace", 2, 1_000, 1_999)).toStrictEqual({ admitted: false, retryAfterMs: 1 })
        // The event at 1000 leaves the window at exactly 2000.
        expect(yield* a.admit("pace", 2, 1_000, 2_000)).toStrictEqual({ admitted: true })
        expect(yield* b.admit("pace", 2, 1_000, 2_050)).toStrictEqual({ admitted: false, retryAfterMs: 50 })
        expect(yield* b.admit("other", 2, 1_000, 2_050)).toStrictEqual({ admitted: true })
      }))

    it.scopedLive("of many admits at once, exactly the limit get through", () =>
      Effect.gen(function*() {
        const [a, b] = yield* pair()
        const verdicts = yield* Effect.all(
          Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).admit("burst", 5, 60_000, 5_000)),
          { concurrency: "unbounded" }
        )
        expect(verdicts.filter((v) => v.admitted)).toHaveLength(5)
      }))

    it.scopedLive("push keeps the newest entries, recent reads them newest first, and lists expire", () =>
      Effect.gen(function*() {
        const [a, b] = yield* pair()
        for (const item of ["x1", "x2", "x3", "x4"]) yield* (item === "x2" ? b : a).push("list", item, 3, 10_000)
        expect(yield* b.recent("list", 10)).toStrictEqual(["x4", "x3", "x2"])
        expect(yield* a.recent("list", 2)).toStrictEqual(["x4", "x3"])
        expect(yield* a.recent("missing", 5)).toStrictEqual([])
        yield* a.push("brief", "y", 5, 60)
        yield* Effect.sleep("150 millis")
        expect(yield* b.recent("brief", 5)).toStrictEqual([])
      }))

    it.scopedLive("publish reaches the other replica's subscribers until their scope closes", () =>
      Effect.gen(function*() {
        const [a, b] = yield* pair()
        const received: Array<string> = []
        const first = yield* Deferred.make<void>()
        const sentinel = yield* Deferred.make<void>()
        const subscription = yield* Scope.make()
        yield* b.subscribe("news", (message) => {
          received.push(message)
          Deferred.unsafeDone(first, Exit.void)
        }).pipe(Scope.extend(subscription))
        yield* b.subscribe("sentinel", () => Deferred.unsafeDone(sentinel, Exit.void))
        yield* a.publish("news", "hello")
        yield* Deferred.await(first)
        yield* Scope.close(subscription, Exit.void)
        yield* a.publish("news", "too late")
        yield* a.publish("sentinel", "done")
        yield* Deferred.await(sentinel)
        expect(received).toStrictEqual(["hello"])
      }))

    it.scopedLive("ping answers true when the store is there, and the store says what it is", () =>
      Effect.gen(function*() {
        const [a] = yield* pair()
        expect(yield* a.ping).toBe(true)
        expect(a.description).toMatch(name === "memory" ? /^in memory \(this process only\)$/ : /^Redis at redis:\/\/127\.0\.0\.1:\d+\/0$/)
      }))
  })
}

/** Everything logged while `effect` runs. */
const capturingLogs = () => {
  const lines: Array<string> = []
  const logger = Logger.add(Logger.make(({ message }) => lines.push(String(message))))
  return { lines, logger }
}

describe("StateStore on Redis: outages", () => {
  it.scopedLive("Redis killed: commands fail fast with StoreUnavailable and ping says false; restarted: it works again", () =>
    Effect.gen(function*() {
      const server = yield* Effect.acquireRelease(Effect.promise(() => RedisServer.start()), (s) => Effect.promise(() => s.stop()))
      const { lines, logger } = capturingLogs()
      const store = yield* openRedis(server.url, { commandTimeoutMs: 500 }).pipe(Effect.provide(logger))
      expect(yield* store.claim("k", "1", 60_000)).toBe(true)

      yield* Effect.promise(() => server.kill())
      const started = Date.now()
      const error = yield* Effect.flip(store.claim("k2", "1", 60_000))
      expect(error).toMatchObject({ _tag: "StoreUnavailable", reason: "no connection to Redis" })
      expect(Date.now() - started).toBeLessThan(600)
      expect(yield* Effect.flip(store.admit("p", 1, 1_000, 1))).toMatchObject({ _tag: "StoreUnavailable" })
      expect(yield* store.ping).toBe(false)

      yield* Effect.promise(() => server.restart())
      yield* waitUntil(store.ping)
      // A fresh server (nothing was saved): the claim can be taken again.
      expect(yield* store.claim("k", "2", 60_000)).toBe(true)
      expect(lines.some((line) => line.includes("Lost the connection"))).toBe(true)
      expect(lines.some((line) => line.includes("answers again"))).toBe(true)
    }))

  it.scopedLive("Redis down at start: the store still builds, refuses commands, and works once Redis is up", () =>
    Effect.gen(function*() {
      const server = yield* Effect.acquireRelease(Effect.promise(() => RedisServer.start()), (s) => Effect.promise(() => s.stop()))
      yield* Effect.promise(() => server.kill())
      const { lines, logger } = capturingLogs()
      const store = yield* openRedis(server.url, { connectTimeoutMs: 200 }).pipe(Effect.provide(logger))
      expect(lines.join("\n")).toContain("does not answer")
      expect(yield* Effect.flip(store.get("k"))).toMatchObject({ _tag: "StoreUnavailable" })
      yield* Effect.promise(() => server.restart())
      yield* waitUntil(store.ping)
      yield* store.set("k", "v", 10_000)
      expect(yield* store.get("k")).toBe("v")
    }))

  it.scopedLive("the password in the URL never appears in a log line or an error", () =>
    Effect.gen(function*() {
      const password = "s3cret-pw-never-log"
      const server = yield* Effect.acquireRelease(
        Effect.promise(() => RedisServer.start(["--requirepass", password])),
        (s) => Effect.promise(() => s.stop())
      )
      const { lines, logger } = capturingLogs()
      const url = `redis://:${password}@127.0.0.1:${server.port}/0`
      const store = yield* openRedis(url, { commandTimeoutMs: 300 }).pipe(Effect.provide(logger))
      yield* store.set("k", "v", 10_000)
      yield* Effect.promise(() => server.kill())
      const error = yield* Effect.flip(store.get("k"))
      yield* Effect.promise(() => server.restart())
      yield* waitUntil(store.ping)
      expect(store.description).toBe(`Redis at redis://127.0.0.1:${server.port}/0`)
      const everything = [...lines, JSON.stringify(error), error.reason, store.description].join("\n")
      expect(everything).toContain(`127.0.0.1:${server.port}`)
      expect(everything).not.toContain(password)
    }))

  it.scopedLive("a SUBSCRIBE that Redis refuses fails every subscriber waiting on it, not only the first", () =>
    Effect.gen(function*() {
      // Channels denied to the default user: every SUBSCRIBE answers NOPERM, other commands work.
      const server = yield* Effect.acquireRelease(
        Effect.promise(() => RedisServer.start(["--user", "default", "on", "nopass", "~*", "resetchannels", "+@all"])),
        (s) => Effect.promise(() => s.stop())
      )
      const store = yield* openRedis(server.url)
      const both = yield* Effect.all(
        [store.subscribe("denied", () => undefined), store.subscribe("denied", () => undefined)].map(Effect.either),
        { concurrency: "unbounded" }
      )
      expect(both.map((result) => result._tag)).toStrictEqual(["Left", "Left"])
      expect(yield* store.ping).toBe(true)
    }))

  it.live("closing the layer closes its connections, the pub/sub one included", () =>
    Effect.gen(function*() {
      const observer = new Redis(redis.url)
      const clients = Effect.promise(async () => String(await observer.client("LIST")).trim().split("\n").length)
      try {
        const before = yield* clients
        const scope = yield* Scope.make()
        const store = yield* openRedis(redis.url).pipe(Scope.extend(scope))
        yield* store.subscribe("c", () => undefined).pipe(Scope.extend(scope))
        expect(yield* clients).toBe(before + 2)
        yield* Scope.close(scope, Exit.void)
        yield* waitUntil(Effect.map(clients, (n) => n === before))
      } finally {
        observer.disconnect()
      }
    }))
})

describe("StateStore.layerConfig", () => {
  const storeFrom = (env: Record<string, string>) =>
    Effect.map(StateStore, (store) => store.description).pipe(
      Effect.provide(StateStore.layerConfig.pipe(Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))))),
      Effect.scoped,
      Effect.provide(Logger.remove(Logger.defaultLogger))
    )

  it.live("memory without CHATKAZI_REDIS_URL, or with it blank", () =>
    Effect.gen(function*() {
      expect(yield* storeFrom({})).toBe("in memory (this process only)")
      expect(yield* storeFrom({ CHATKAZI_REDIS_URL: "  " })).toBe("in memory (this process only)")
    }))

  it.live("Redis when CHATKAZI_REDIS_URL is set", () =>
    Effect.gen(function*() {
      expect(yield* storeFrom({ CHATKAZI_REDIS_URL: redis.url })).toBe(`Redis at ${redis.url}/0`)
    }))

  it.live("a URL that is not redis:// is InvalidConfig naming the setting, without quoting the URL", () =>
    Effect.gen(function*() {
      for (const url of ["http://user:hunter2@example.com", "not a url hunter2", "redis://:hunter2@/0"]) {
        const error = yield* Effect.flip(storeFrom({ CHATKAZI_REDIS_URL: url }))
        expect(error).toMatchObject({ _tag: "InvalidConfig", setting: "CHATKAZI_REDIS_URL" })
        expect(error.message).not.toContain("hunter2")
      }
    }))
})
