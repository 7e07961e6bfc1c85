/**
 * The StateStore on Redis, for replicas that must agree: a claim is `SET NX PX`, the pace window a
 * Lua script over a sorted set (atomic, so two replicas never both take the last slot), lists are
 * `LPUSH`+`LTRIM`+`PEXPIRE` in one `MULTI`, and pub/sub runs on a connection of its own.
 *
 * It fails fast rather than wait: no offline queue, a bounded connect and command time, nothing
 * re-sent after a reconnect. A command that timed out here may still have reached Redis (a claim can
 * then exist that its caller never learned of: the send was refused, and an identical one stays
 * refused as uncertain until the claim expires; it fails closed). Every failure is a
 * `StoreUnavailable`; ioredis reconnects by itself, and commands work again once it has.
 */
import { Redis, type RedisOptions } from "ioredis"
import { randomUUID } from "node:crypto"
import { Deferred, Effect, Exit, Layer, Queue, Redacted, type Scope } from "effect"
import { InvalidConfig } from "../errors/ChatKaziError.js"
import { type PaceVerdict, StateStore, type StateStoreApi, StoreUnavailable } from "./StateStore.js"

export interface RedisStoreOptions {
  /** Bound on every command; past it the command counts as failed. Default 2000. */
  readonly commandTimeoutMs?: number
  /** Bound on opening a connection, and on waiting for the first one at start. Default 2000. */
  readonly connectTimeoutMs?: number
  /** Put before every key and channel, so other users of the same Redis are left alone. Default `chatkazi:`. */
  readonly keyPrefix?: string
}

/**
 * Drops entries that left the window, then admits one more unless `limit` remain. Returns -1 when
 * admitted, else the milliseconds until the oldest entry leaves the window.
 * KEYS[1] window; ARGV now, windowMs, limit, a member unique to this event.
 */
const ADMIT = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tonumber(oldest[2]) + window - now
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return -1
`

/** Checks the URL and says where it points without its credentials; a problem never quotes the URL. */
export const parseRedisUrl = (url: Redacted.Redacted<string> | string): Effect.Effect<{ url: string; description: string }, InvalidConfig> => {
  const raw = (typeof url === "string" ? url : Redacted.value(url)).trim()
  const invalid = (problem: string) => new InvalidConfig({ setting: "CHATKAZI_REDIS_URL", problem })
  if (!URL.canParse(raw)) return Effect.fail(invalid("it is not a URL; use redis://[:password@]host[:port][/db]"))
  const parsed = new URL(raw)
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    return Effect.fail(invalid(`it must start with redis:// or rediss://, not ${parsed.protocol}//`))
  }
  if (parsed.hostname === "") return Effect.fail(invalid("it names no host; use redis://[:password@]host[:port][/db]"))
  const db = parsed.pathname.replace(/^\//, "") || "0"
  return Effect.succeed({
    url: raw,
    description: `Redis at ${parsed.protocol}//${parsed.hostname}:${parsed.port || "6379"}/${db}`
  })
}

/** What went wrong, in words that carry neither the URL nor anything the server said about credentials. */
const describeFailure = (error: unknown, commandTimeoutMs: number): string => {
  const message = error instanceof Error ? error.message : String(error)
  if (/timed out/i.test(message)) return `Redis did not answer within ${commandTimeoutMs} ms`
  if (/enableOfflineQueue|max retries per request|Connection is closed|ECONNREFUSED|ECONNRESET/i.test(message)) {
    return "no connection to Redis"
  }
  if (error instanceof Error && error.name === "ReplyError") return `Redis refused the command (${message.split(" ")[0]})`
  return message.slice(0, 200)
}

type ConnectionEvent = "Ready" | "Lost"

export const make = (
  url: Redacted.Redacted<string> | string,
  options: RedisStoreOptions = {}
): Effect.Effect<StateStoreApi, InvalidConfig, Scope.Scope> =>
  Effect.gen(function*() {
    const target = yield* parseRedisUrl(url)
    const commandTimeoutMs = options.commandTimeoutMs ?? 2_000
    const connectTimeoutMs = options.connectTimeoutMs ?? 2_000
    const prefix = options.keyPrefix ?? "chatkazi:"
    const redisOptions: RedisOptions = {
      enableOfflineQueue: false,
      commandTimeout: commandTimeoutMs,
      connectTimeout: connectTimeoutMs,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      // Keep trying for as long as the server runs, at most once a second.
      retryStrategy: (attempt) => Math.min(attempt * 100, 1_000)
    }

    // ioredis reports through events; they are logged from a fiber of our own, once per change.
    const events = yield* Queue.unbounded<ConnectionEvent>()
    let lastError = "no answer yet"
    const watch = (connection: Redis) => {
      connection.on("ready", () => Queue.unsafeOffer(events, "Ready"))
      connection.on("close", () => Queue.unsafeOffer(events, "Lost"))
      // ioredis' messages name the host and port, never the password.
      connection.on("error", (error: Error) => void (lastError = error.message))
      return connection
    }
    let reachable: boolean | undefined
    let closing = false
    yield* Queue.take(events).pipe(
      Effect.flatMap((event) => {
        if (closing) return Effect.void
        const now = event === "Ready"
        const before = reachable
        reachable = now
        // A failed first connection is reported once, by the start-up check below.
        if (now === before || (!now && before === undefined)) return Effect.void
        return now
          ? Effect.logInfo(before === false ? `${target.description} answers again; sends can go out.` : `State store: ${target.description}.`)
          : Effect.logWarning(`Lost the connection to ${target.description}; sends are refused until it is back.`)
      }),
      Effect.forever,
      Effect.forkScoped
    )

    const close = (connection: Redis) =>
      Effect.promise(async () => {
        closing = true
        if (connection.status === "ready") await connection.quit().catch(() => undefined)
      }).pipe(
        Effect.timeout(commandTimeoutMs),
        Effect.ignore,
        Effect.ensuring(Effect.sync(() => connection.disconnect()))
      )

    /** Resolves once `connection` is ready; fails when its connection attempt fails, or after the connect timeout. */
    const ready = (connection: Redis): Effect.Effect<void, StoreUnavailable> =>
      connection.status === "ready" ? Effect.void : Effect.async<void, StoreUnavailable>((resume) => {
        const onReady = () => resume(Effect.void)
        const onClose = () => resume(Effect.fail(new StoreUnavailable({ reason: "no connection to Redis" })))
        connection.once("ready", onReady)
        connection.once("close", onClose)
        return Effect.sync(() => {
          connection.off("ready", onReady)
          connection.off("close", onClose)
        })
      }).pipe(
        Effect.timeoutFail({
          duration: connectTimeoutMs,
          onTimeout: () => new StoreUnavailable({ reason: "no connection to Redis" })
        })
      )

    const client = yield* Effect.acquireRelease(Effect.sync(() => watch(new Redis(target.url, redisOptions))), close)
    // Commands sent before the first connection is up would fail at once: give it its connect time.
    yield* ready(client).pipe(
      Effect.catchAll(() =>
        Effect.logWarning(
          `${target.description} does not answer (${lastError}); sends are refused until it does. Retrying in the background.`
        )
      )
    )

    const run = <A>(command: () => Promise<A>): Effect.Effect<A, StoreUnavailable> =>
      Effect.tryPromise({
        try: command,
        catch: (error) => new StoreUnavailable({ reason: describeFailure(error, commandTimeoutMs) })
      })

    // Pub/sub takes a connection of its own, opened on the first subscription.
    // Per channel: its listeners, and the SUBSCRIBE they all wait for.
    const listeners = new Map<string, {
      readonly listeners: Set<(message: string) => void>
      readonly subscribed: Deferred.Deferred<void, StoreUnavailable>
    }>()
    let subscriber: Redis | undefined
    yield* Effect.addFinalizer(() => subscriber === undefined ? Effect.void : close(subscriber))
    const subscriberConnection = Effect.suspend(() => {
      if (subscriber === undefined) {
        subscriber = client.duplicate()
        subscriber.on("error", () => undefined)
        subscriber.on("message", (channel: string, message: string) =>
          listeners.get(channel.slice(prefix.length))?.listeners.forEach((listener) => listener(message)))
      }
      const connection = subscriber
      return Effect.as(ready(connection), connection)
    })

    const admit = (key: string, limit: number, windowMs: number, now: number): Effect.Effect<PaceVerdict, StoreUnavailable> =>
      Effect.map(
        run(() => client.eval(ADMIT, 1, prefix + key, now, windowMs, limit, `${now}:${randomUUID()}`)),
        (retryAfterMs): PaceVerdict =>
          Number(retryAfterMs) < 0 ? { admitted: true } : { admitted: false, retryAfterMs: Number(retryAfterMs) }
      )

    const ttl = (ms: number) => Math.max(1, Math.ceil(ms))

    return {
      description: target.description,
      shared: true,
      claim: (key, value, ttlMs) =>
        Effect.map(run(() => client.set(prefix + key, value, "PX", ttl(ttlMs), "NX")), (reply) => reply === "OK"),
      get: (key) => Effect.map(run(() => client.get(prefix + key)), (value) => value ?? undefined),
      set: (key, value, ttlMs) => Effect.asVoid(run(() => client.set(prefix + key, value, "PX", ttl(ttlMs)))),
      delete: (key) => Effect.asVoid(run(() => client.del(prefix + key))),
      admit,
      push: (key, value, max, ttlMs) =>
        run(() =>
          client.multi().lpush(prefix + key, value).ltrim(prefix + key, 0, max - 1).pexpire(prefix + key, ttl(ttlMs)).exec()
        ).pipe(
          Effect.flatMap((replies) => {
            const failed = replies === null ? new Error("the transaction was aborted") : replies.find(([error]) => error)?.[0]
            return failed ? Effect.fail(new StoreUnavailable({ reason: describeFailure(failed, commandTimeoutMs) })) : Effect.void
          })
        ),
      recent: (key, count) => count <= 0 ? Effect.succeed([]) : run(() => client.lrange(prefix + key, 0, count - 1)),
      publish: (channel, message) => Effect.asVoid(run(() => client.publish(prefix + channel, message))),
      subscribe: (channel, listener) =>
        Effect.acquireRelease(
          Effect.gen(function*() {
            const connection = yield* subscriberConnection
            const existing = listeners.get(channel)
            if (existing !== undefined) {
              existing.listeners.add(listener)
              // Joined while the SUBSCRIBE is under way: subscribed only once it is, and failed with it.
              return yield* Deferred.await(existing.subscribed).pipe(
                Effect.tapError(() => Effect.sync(() => existing.listeners.delete(listener)))
              )
            }
            const subscribed = yield* Deferred.make<void, StoreUnavailable>()
            const entry = { listeners: new Set([listener]), subscribed }
            listeners.set(channel, entry)
            yield* run(() => connection.subscribe(prefix + channel)).pipe(
              Effect.tapError(() => Effect.sync(() => listeners.get(channel) === entry && listeners.delete(channel))),
              Effect.exit,
              Effect.flatMap((exit) => Effect.zipRight(Deferred.done(subscribed, Exit.asVoid(exit)), exit))
            )
          }),
          () =>
            Effect.suspend(() => {
              const entry = listeners.get(channel)
              entry?.listeners.delete(listener)
              if (entry === undefined || entry.listeners.size > 0 || subscriber === undefined) return Effect.void
              listeners.delete(channel)
              const connection = subscriber
              return Effect.ignore(run(() => connection.unsubscribe(prefix + channel)))
            })
        ),
      ping: run(() => client.ping()).pipe(
        Effect.map((reply) => reply === "PONG"),
        Effect.orElseSucceed(() => false)
      )
    } satisfies StateStoreApi
  })

export const layer = (url: Redacted.Redacted<string> | string, options?: RedisStoreOptions): Layer.Layer<StateStore, InvalidConfig> =>
  Layer.scoped(StateStore, make(url, options))
