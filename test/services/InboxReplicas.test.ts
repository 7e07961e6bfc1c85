import { Effect, Logger } from "effect"
import { randomUUID } from "node:crypto"
import { afterAll, beforeAll } from "vitest"
import * as RedisStore from "../../src/services/RedisStore.js"
import { makeMemoryStore } from "../../src/services/StateStore.js"
import { inboxReplicaContract } from "../support/inboxContract.js"
import { RedisServer } from "../support/redis.js"

// One process: both "replicas" share one in-memory store.
inboxReplicaContract("in memory", Effect.sync(() => {
  const store = makeMemoryStore()
  return [store, store] as const
}))

let redis: RedisServer
beforeAll(async () => {
  redis = await RedisServer.start()
})
afterAll(async () => {
  await redis?.stop()
})

/** Two replicas: two connections to one real redis-server, on a key prefix of their own per test. */
const openRedis = (url: string, keyPrefix: string) =>
  RedisStore.make(url, { keyPrefix }).pipe(Effect.orDie, Effect.provide(Logger.replace(Logger.defaultLogger, Logger.none)))

inboxReplicaContract("redis", Effect.suspend(() => {
  const keyPrefix = `inbox-test:${randomUUID()}:`
  return Effect.all([openRedis(redis.url, keyPrefix), openRedis(redis.url, keyPrefix)])
}))
