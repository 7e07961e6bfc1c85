import { Effect } from "effect"
import { makeMemoryStore } from "../../src/services/StateStore.js"
import { inboxReplicaContract } from "../support/inboxContract.js"

// One process: both "replicas" share one in-memory store. The Redis branch adds its own line.
inboxReplicaContract("in memory", Effect.sync(() => {
  const store = makeMemoryStore()
  return [store, store] as const
}))
