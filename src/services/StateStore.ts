/**
 * Everything that replicas of the server must agree on (dedupe claims, pace windows, incoming
 * messages, confirmation codes, OAuth tokens) goes through this one small interface. In memory by
 * default; Redis (`CHATKAZI_REDIS_URL`) when several replicas share it. Both implementations pass
 * the same contract tests.
 *
 * Keys are plain strings; callers prefix them by purpose and account (`dedupe:<account>:…`).
 * Values are strings (callers encode JSON). Times are milliseconds.
 */
import { Config, Context, Data, Effect, Layer, Option, Redacted, type Scope } from "effect"
import type { InvalidConfig } from "../errors/ChatKaziError.js"
import { setting } from "./ChatKaziConfig.js"
import type { RedisStoreOptions } from "./RedisStore.js"

/** The shared state could not be reached: a send must then be refused (fail closed), reads go on. */
export class StoreUnavailable extends Data.TaggedError("StoreUnavailable")<{ readonly reason: string }> {}

export type PaceVerdict =
  | { readonly admitted: true }
  | { readonly admitted: false; readonly retryAfterMs: number }

export interface StateStoreApi {
  /** Where the state lives, for start-up lines and health reports ("in memory (this process only)", "Redis at host:port/db"); no secrets. */
  readonly description: string
  /** True when other replicas share this state (Redis), false for this process's memory. */
  readonly shared: boolean
  /** Sets `key` to `value` only if it is absent (atomically); true when this call set it. */
  readonly claim: (key: string, value: string, ttlMs: number) => Effect.Effect<boolean, StoreUnavailable>
  readonly get: (key: string) => Effect.Effect<string | undefined, StoreUnavailable>
  readonly set: (key: string, value: string, ttlMs: number) => Effect.Effect<void, StoreUnavailable>
  readonly delete: (key: string) => Effect.Effect<void, StoreUnavailable>
  /**
   * Sliding-window counter: admits one more event at `now` unless `limit` events were admitted in the
   * last `windowMs`; atomically, so replicas share one budget.
   */
  readonly admit: (key: string, limit: number, windowMs: number, now: number) => Effect.Effect<PaceVerdict, StoreUnavailable>
  /** Prepends to a list, keeping at most `max` entries, the list expiring `ttlMs` after the last push. */
  readonly push: (key: string, value: string, max: number, ttlMs: number) => Effect.Effect<void, StoreUnavailable>
  /** The newest `count` entries of a list, newest first. */
  readonly recent: (key: string, count: number) => Effect.Effect<ReadonlyArray<string>, StoreUnavailable>
  /** Tells every replica's subscribers of `channel`. */
  readonly publish: (channel: string, message: string) => Effect.Effect<void, StoreUnavailable>
  /** Calls `listener` for each message published on `channel` (on any replica) until the scope closes. */
  readonly subscribe: (
    channel: string,
    listener: (message: string) => void
  ) => Effect.Effect<void, StoreUnavailable, Scope.Scope>
  /** Whether the store answers now (for /healthz). */
  readonly ping: Effect.Effect<boolean>
}

export class StateStore extends Context.Tag("chatkazi-mcp/StateStore")<StateStore, StateStoreApi>() {
  /**
   * The embedded default: state lives in this process and dies with it. Its clock is Effect's `Clock`,
   * so under `TestClock` entries expire when the test moves the clock.
   */
  static readonly layerMemory: Layer.Layer<StateStore> = Layer.effect(
    StateStore,
    Effect.map(Effect.clock, (clock) => makeMemoryStore(() => clock.unsafeCurrentTimeMillis()))
  )

  /**
   * Redis at `url` (`redis://[:password@]host[:port][/db]`, or `rediss://` for TLS), shared by every
   * replica given the same URL. Building it does not fail when Redis is down: commands then fail fast
   * with `StoreUnavailable` and the client reconnects on its own. Closing the layer closes the
   * connections. ioredis is loaded only here, so the default start never pays for it.
   */
  static readonly layerRedis = (
    url: Redacted.Redacted<string> | string,
    options?: RedisStoreOptions
  ): Layer.Layer<StateStore, InvalidConfig> =>
    Layer.unwrapEffect(
      Effect.map(Effect.promise(() => import("./RedisStore.js")), (redis) => redis.layer(url, options))
    )

  /** Redis when `CHATKAZI_REDIS_URL` is set (and not blank), memory otherwise. */
  static readonly layerConfig: Layer.Layer<StateStore, InvalidConfig> = Layer.unwrapEffect(
    Effect.map(
      setting("CHATKAZI_REDIS_URL", Config.option(Config.redacted("CHATKAZI_REDIS_URL"))),
      (url) =>
        Option.isSome(url) && Redacted.value(url.value).trim() !== ""
          ? StateStore.layerRedis(url.value)
          : StateStore.layerMemory
    )
  )
}

interface Entry {
  value: string
  expiresAt: number
}

/** In memory, with expiry checked on access; time comes from `Date.now` like Redis' own clock. */
export const makeMemoryStore = (now: () => number = Date.now): StateStoreApi => {
  const values = new Map<string, Entry>()
  const lists = new Map<string, { items: Array<string>; expiresAt: number }>()
  const windows = new Map<string, { readonly times: Array<number>; head: number; windowMs: number }>()
  const listeners = new Map<string, Set<(message: string) => void>>()
  let writes = 0

  const live = (key: string): Entry | undefined => {
    const entry = values.get(key)
    if (entry !== undefined && entry.expiresAt <= now()) {
      values.delete(key)
      return undefined
    }
    return entry
  }
  // Expired entries that nobody reads again are swept now and then, so memory stays bounded: once
  // there have been as many writes as entries (at least 1024), so each write pays O(1) for it however
  // many entries a busy window holds.
  const sweep = () => {
    if (++writes < Math.max(1024, values.size + lists.size + windows.size)) return
    writes = 0
    const t = now()
    for (const [key, entry] of values) if (entry.expiresAt <= t) values.delete(key)
    for (const [key, list] of lists) if (list.expiresAt <= t) lists.delete(key)
    for (const [key, window] of windows) {
      const last = window.times[window.times.length - 1]
      if (last === undefined || t - last >= window.windowMs) windows.delete(key)
    }
  }

  return {
    description: "in memory (this process only)",
    shared: false,
    claim: (key, value, ttlMs) =>
      Effect.sync(() => {
        if (live(key) !== undefined) return false
        values.set(key, { value, expiresAt: now() + ttlMs })
        sweep()
        return true
      }),
    get: (key) => Effect.sync(() => live(key)?.value),
    set: (key, value, ttlMs) =>
      Effect.sync(() => {
        values.set(key, { value, expiresAt: now() + ttlMs })
        sweep()
      }),
    // Like Redis' DEL: whatever kind of entry the key holds.
    delete: (key) =>
      Effect.sync(() => {
        values.delete(key)
        lists.delete(key)
        windows.delete(key)
      }),
    admit: (key, limit, windowMs, at) =>
      Effect.sync(() => {
        let window = windows.get(key)
        if (window === undefined) {
          window = { times: [], head: 0, windowMs }
          windows.set(key, window)
          sweep()
        }
        const { times } = window
        // Times are appended in order, so the expired ones are a prefix: skip past them, and compact
        // only once they are half the array, so each admit costs O(1) amortized at any limit.
        while (window.head < times.length && at - times[window.head]! >= windowMs) window.head++
        if (window.head > 32 && window.head * 2 >= times.length) {
          times.splice(0, window.head)
          window.head = 0
        }
        if (times.length - window.head >= limit) return { admitted: false, retryAfterMs: times[window.head]! + windowMs - at }
        times.push(at)
        return { admitted: true }
      }),
    push: (key, value, max, ttlMs) =>
      Effect.sync(() => {
        const list = lists.get(key)
        const items = list !== undefined && list.expiresAt > now() ? list.items : []
        items.unshift(value)
        if (items.length > max) items.length = max
        lists.set(key, { items, expiresAt: now() + ttlMs })
        sweep()
      }),
    recent: (key, count) =>
      Effect.sync(() => {
        const list = lists.get(key)
        return list === undefined || list.expiresAt <= now() ? [] : list.items.slice(0, count)
      }),
    publish: (channel, message) =>
      Effect.sync(() => listeners.get(channel)?.forEach((listener) => listener(message))),
    subscribe: (channel, listener) =>
      Effect.acquireRelease(
        Effect.sync(() => {
          const set = listeners.get(channel) ?? new Set()
          set.add(listener)
          listeners.set(channel, set)
        }),
        () => Effect.sync(() => listeners.get(channel)?.delete(listener))
      ),
    ping: Effect.succeed(true)
  }
}
