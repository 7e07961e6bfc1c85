/**
 * Incoming messages, per account, in the `StateStore`: so with Redis every replica sees every
 * message, and a webhook received by one replica wakes a `wait_for_message` waiting on another.
 *
 * - A message is stored once: gateways retry webhooks, and the same id (per session) is claimed
 *   before it is kept.
 * - Retention is bounded per account (count and age), by the store's list.
 * - Each stored message is published on the account's channel, which waiters subscribe to.
 */
import { Context, Deferred, Effect, Layer, Schema, type Scope } from "effect"
import { IncomingMessage } from "./IncomingMessage.js"
import { StateStore, type StoreUnavailable } from "./StateStore.js"

export interface InboxRetention {
  /** Messages kept per account; older ones fall off. */
  readonly maxPerAccount: number
  /** How long messages (and the memory of their ids) are kept after the last one arrived. */
  readonly retentionMs: number
}

const DAY_MS = 24 * 60 * 60 * 1000

/** In this process's memory: the last 1,000 per account. */
export const MEMORY_RETENTION: InboxRetention = { maxPerAccount: 1_000, retentionMs: 7 * DAY_MS }
/** In a shared store (Redis): 7 days and 10,000 per account. */
export const SHARED_RETENTION: InboxRetention = { maxPerAccount: 10_000, retentionMs: 7 * DAY_MS }

export interface MessageFilter {
  readonly sessionId?: string | undefined
  /** Digits only, as `Recipient` normalises a number. */
  readonly from?: string | undefined
  /** Only messages received at or after this time (ms since the epoch). */
  readonly since?: number | undefined
  /** Also the messages the account sent itself. */
  readonly includeOwn?: boolean | undefined
}

export interface Received {
  readonly stored: number
  readonly duplicates: number
}

export interface InboxApi {
  /** Keeps new messages for the account and tells waiters; a message already kept is counted as a duplicate. */
  readonly receive: (
    accountId: string,
    messages: ReadonlyArray<IncomingMessage>
  ) => Effect.Effect<Received, StoreUnavailable>
  /** The newest matching messages first, at most `limit`. */
  readonly list: (
    accountId: string,
    filter: MessageFilter,
    limit: number
  ) => Effect.Effect<ReadonlyArray<IncomingMessage>, StoreUnavailable>
  /**
   * The first matching message to arrive from now on (on any replica); waits until one does. With
   * `filter.since`, the oldest match already received since then counts too, so a reply that came in
   * between a send and the wait is not missed.
   */
  readonly next: (accountId: string, filter: MessageFilter) => Effect.Effect<IncomingMessage, StoreUnavailable>
  /** Calls `listener` with every message the account receives from now on, until the scope closes. */
  readonly watch: (
    accountId: string,
    listener: (message: IncomingMessage) => void
  ) => Effect.Effect<void, StoreUnavailable, Scope.Scope>
}

export const matches = (filter: MessageFilter) => (message: IncomingMessage): boolean =>
  (filter.includeOwn === true || !message.fromMe) &&
  (filter.sessionId === undefined || message.sessionId === filter.sessionId) &&
  (filter.from === undefined || message.from === filter.from) &&
  (filter.since === undefined || Date.parse(message.receivedAt) >= filter.since)

const listKey = (accountId: string) => `inbox:${accountId}`
const seenKey = (accountId: string, message: IncomingMessage) =>
  `inbox-seen:${accountId}:${message.sessionId ?? ""}:${message.id}`
const channel = (accountId: string) => `inbox:${accountId}`

const encode = Schema.encodeSync(Schema.parseJson(IncomingMessage))
const decodeOption = Schema.decodeUnknownOption(Schema.parseJson(IncomingMessage))

export const makeInbox = (store: StateStore["Type"], retention: InboxRetention): InboxApi => {
  const parse = (text: string): ReadonlyArray<IncomingMessage> => {
    const decoded = decodeOption(text)
    return decoded._tag === "Some" ? [decoded.value] : []
  }

  const watch: InboxApi["watch"] = (accountId, listener) =>
    store.subscribe(channel(accountId), (text) => parse(text).forEach(listener))

  return {
    receive: (accountId, messages) =>
      Effect.reduce(messages, { stored: 0, duplicates: 0 }, (count, message) =>
        Effect.gen(function*() {
          const json = encode(message)
          const fresh = yield* store.claim(seenKey(accountId, message), "1", retention.retentionMs)
          if (!fresh) return { ...count, duplicates: count.duplicates + 1 }
          // Not kept: forget the claim, so the gateway's retry (after our 503) is not taken for a duplicate.
          yield* store.push(listKey(accountId), json, retention.maxPerAccount, retention.retentionMs).pipe(
            Effect.tapError(() => Effect.ignore(store.delete(seenKey(accountId, message))))
          )
          // A failed publish only delays waiters (the message is kept), so it does not fail the delivery.
          yield* Effect.ignore(store.publish(channel(accountId), json))
          return { ...count, stored: count.stored + 1 }
        })),

    list: (accountId, filter, limit) =>
      Effect.map(
        store.recent(listKey(accountId), retention.maxPerAccount),
        (texts) => texts.flatMap(parse).filter(matches(filter)).slice(0, limit)
      ),

    next: (accountId, filter) =>
      Effect.scoped(
        Effect.gen(function*() {
          const first = yield* Deferred.make<IncomingMessage>()
          const wanted = matches(filter)
          yield* watch(accountId, (message) => {
            if (wanted(message)) Deferred.unsafeDone(first, Effect.succeed(message))
          })
          // Looked up after subscribing: a message arriving in between is then heard or found, never missed.
          if (filter.since !== undefined) {
            const earlier = yield* store.recent(listKey(accountId), retention.maxPerAccount)
            const oldest = earlier.flatMap(parse).filter(wanted).at(-1)
            if (oldest !== undefined) yield* Deferred.succeed(first, oldest)
          }
          return yield* Deferred.await(first)
        })
      ),

    watch
  }
}

export class Inbox extends Context.Tag("chatkazi-mcp/Inbox")<Inbox, InboxApi>() {
  /** Keeps what the store can hold: 1,000 per account in memory, 10,000 for 7 days in a shared store. */
  static readonly layer: Layer.Layer<Inbox, never, StateStore> = Layer.effect(
    Inbox,
    Effect.map(StateStore, (store) => makeInbox(store, store.shared ? SHARED_RETENTION : MEMORY_RETENTION))
  )

  static readonly layerRetention = (retention: InboxRetention): Layer.Layer<Inbox, never, StateStore> =>
    Layer.effect(Inbox, Effect.map(StateStore, (store) => makeInbox(store, retention)))

  /** For the in-memory store. */
  static readonly layerMemory: Layer.Layer<Inbox, never, StateStore> = Inbox.layerRetention(MEMORY_RETENTION)
}
