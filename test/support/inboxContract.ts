/**
 * What two replicas sharing one store must see of the Inbox: each other's messages, one copy of a
 * message both were sent, and a waiter on one woken by a webhook received by the other. Run against
 * the in-memory store (one store, two Inbox instances) and Redis (two connections to one real
 * redis-server), in test/services/InboxReplicas.test.ts.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, type Scope } from "effect"
import type { IncomingMessage } from "../../src/services/IncomingMessage.js"
import { makeInbox, SHARED_RETENTION } from "../../src/services/Inbox.js"
import type { StateStoreApi } from "../../src/services/StateStore.js"

const message = (id: string, from = "254712345678"): IncomingMessage => ({
  id,
  sessionId: "default",
  from,
  fromMe: false,
  type: "text",
  text: id,
  time: new Date().toISOString(),
  receivedAt: new Date().toISOString()
})

export const inboxReplicaContract = (
  name: string,
  /** Two stores that share state (two connections to one server), fresh for each test. */
  makeStores: Effect.Effect<readonly [StateStoreApi, StateStoreApi], unknown, Scope.Scope>
) =>
  describe(`Inbox on two replicas (${name})`, () => {
    const replicas = Effect.map(makeStores, ([a, b]) =>
      [makeInbox(a, SHARED_RETENTION), makeInbox(b, SHARED_RETENTION)] as const)
    const account = `contract-${Math.random().toString(36).slice(2)}`

    it.scoped("each replica lists what the other received, and a message sent to both is kept once", () =>
      Effect.gen(function*() {
        const [a, b] = yield* replicas
        yield* a.receive(account, [message("one")])
        yield* b.receive(account, [message("one"), message("two")])
        expect((yield* a.list(account, {}, 10)).map((m) => m.id)).toEqual(["two", "one"])
        expect((yield* b.list(account, {}, 10)).map((m) => m.id)).toEqual(["two", "one"])
      }))

    it.live("a waiter on one replica is woken by a message received on the other", () =>
      Effect.scoped(Effect.gen(function*() {
        const [a, b] = yield* replicas
        const waiting = yield* Effect.fork(a.next(`${account}-wait`, { from: "254733000111" }))
        // Subscribing may take a round trip (Redis): wait until a probe is heard before the real message.
        const heard = yield* Effect.fork(a.next(`${account}-wait`, { from: "254700000000" }))
        let probes = 0
        yield* Effect.suspend(() => b.receive(`${account}-wait`, [message(`probe-${++probes}`, "254700000000")])).pipe(
          Effect.zipRight(Effect.sleep("20 millis")),
          Effect.repeat({ until: () => heard.unsafePoll() !== null })
        )
        yield* b.receive(`${account}-wait`, [message("reply", "254733000111")])
        expect((yield* Fiber.join(waiting)).id).toBe("reply")
      })), 10_000)
  })
