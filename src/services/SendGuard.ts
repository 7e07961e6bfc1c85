/**
 * Guards in front of every send, for the sake of the user's WhatsApp number: the recipient
 * allowlist, suppression of repeated identical sends, and a per-session pace limit.
 *
 * Suppression and pace live in the StateStore, keyed by the caller's `Account`, so replicas that
 * share a store send a message once and share one pace budget per account, and accounts never see
 * each other's state. When the store cannot be reached, sends are refused (`StateUnavailable`):
 * failing open could send a message twice.
 */
import { Cause, Context, Deferred, Effect, Exit, Fiber, FiberId, Layer, Option, Schema } from "effect"
import { createHash } from "node:crypto"
import {
  type ChatKaziError,
  DeliveryUncertain,
  type InvalidConfig,
  PaceLimited,
  RecipientNotAllowed,
  StateUnavailable
} from "../errors/ChatKaziError.js"
import { Account, type AccountInfo } from "./Account.js"
import { positiveInt } from "./ChatKaziConfig.js"
import { SendReceipt } from "./Domain.js"
import { isAllowedRecipient, SafetyConfig, type SafetySettings } from "./SafetyConfig.js"
import { StateStore, type StateStoreApi, type StoreUnavailable } from "./StateStore.js"

export interface OutgoingMessage {
  readonly sessionId: string
  readonly to: string
  /** Everything that makes two sends the same message (text, or media URL, type, caption…). */
  readonly content: unknown
}

export interface GuardedReceipt {
  readonly receipt: SendReceipt
  /** Set when this call repeated an earlier identical send and got that send's receipt instead. */
  readonly duplicateOf?: { readonly sentAt: number }
}

export interface SendGuardApi {
  /** Refuses a recipient that is not on `CHATKAZI_ALLOWED_RECIPIENTS`. */
  readonly checkRecipient: (to: string) => Effect.Effect<void, RecipientNotAllowed>
  /**
   * Runs `deliver` unless the same message went out within the window (on any replica sharing the
   * store) or the session is over its pace; both are counted for the calling `Account`.
   */
  readonly once: <R>(
    message: OutgoingMessage,
    deliver: Effect.Effect<SendReceipt, ChatKaziError, R>
  ) => Effect.Effect<GuardedReceipt, ChatKaziError, R | Account>
}

export interface SendGuardOptions {
  /**
   * How long one request to the gateway may take (CHATKAZI_TIMEOUT_MS). A claim on a send in flight
   * lasts this plus the window and is renewed while the send goes on (a send can take longer: it may
   * queue for a permit, or be retried after a refused connection or a 429), so a repeat is never let
   * through while the first is still being delivered, and a replica that dies mid-send still blocks
   * its repeat. A repeat on another replica waits this long for the first send to settle.
   */
  readonly deliveryTimeoutMs?: number
}

export class SendGuard extends Context.Tag("chatkazi-mcp/SendGuard")<SendGuard, SendGuardApi>() {
  static readonly layer: Layer.Layer<SendGuard, InvalidConfig, SafetyConfig | StateStore> = Layer.effect(
    SendGuard,
    Effect.gen(function*() {
      return makeSendGuard(yield* SafetyConfig, yield* StateStore, {
        deliveryTimeoutMs: yield* positiveInt("CHATKAZI_TIMEOUT_MS", 30_000)
      })
    })
  )

  /** A fresh guard with the default safety settings, any of them overridden; it remembers nothing yet. */
  static readonly layerTest = (safety: Partial<SafetySettings> = {}): Layer.Layer<SendGuard | SafetyConfig> =>
    Layer.effect(SendGuard, Effect.map(Effect.all([SafetyConfig, StateStore]), ([settings, store]) => makeSendGuard(settings, store))).pipe(
      Layer.provide(StateStore.layerMemory),
      Layer.provideMerge(Layer.sync(SafetyConfig, () => SafetyConfig.make(safety)))
    )
}

const PACE_WINDOW_MS = 60_000
/** How often a repeat looks whether the identical send on another replica has settled. */
const POLL_MS = 100

/** What the store keeps about a send, under a hash of account, session, recipient and content. */
const Claim = Schema.Union(
  Schema.TaggedStruct("InFlight", { sentAt: Schema.Number }),
  Schema.TaggedStruct("Sent", { sentAt: Schema.Number, receipt: SendReceipt }),
  Schema.TaggedStruct("Uncertain", { sentAt: Schema.Number, operation: Schema.String, reason: Schema.String })
)
type Claim = typeof Claim.Type
// A claim's encoded form is its type (numbers and strings only): JSON.stringify writes what
// Schema.parseJson would, in a tenth of the time, on every send. Reading stays a Schema decode.
const encodeClaim: (claim: typeof Claim.Encoded) => string = JSON.stringify
const decodeClaim = Schema.decodeUnknownOption(Schema.parseJson(Claim))

/** How a send ended for the caller that led it; repeats waiting on the same replica share it. */
interface Outcome {
  readonly receipt: SendReceipt
  readonly sentAt: number
  readonly repeated: boolean
}

/** A send this replica is delivering now; `waiters` exists once an identical call waits for it. */
interface Leading {
  waiters: Deferred.Deferred<Outcome, ChatKaziError> | undefined
}

const isUncertain = (error: ChatKaziError): error is DeliveryUncertain => error._tag === "DeliveryUncertain"

const unavailable = (error: StoreUnavailable) => new StateUnavailable({ reason: error.reason })

const repeatedUncertain = (uncertain: DeliveryUncertain) => new DeliveryUncertain({ ...uncertain, repeated: true })

const guardedReceipt = (outcome: Outcome): GuardedReceipt =>
  outcome.repeated ? { receipt: outcome.receipt, duplicateOf: { sentAt: outcome.sentAt } } : { receipt: outcome.receipt }

/**
 * Runs `deliver` on a fiber of its own, interruptible there: a caller that goes away (a cancel) does
 * not cut a send half-way, yet the request's own CHATKAZI_TIMEOUT_MS can still stop it, which a
 * timeout cannot do inside the uninterruptible region `once` runs in. `settle` runs on that fiber as
 * the send ends, whatever becomes of the caller. The caller awaits the fiber rather than joining it:
 * it needs the result, not the fiber's FiberRefs (merging them back cost ~6 µs a send).
 */
const deliverDetached = <R>(
  deliver: Effect.Effect<SendReceipt, ChatKaziError, R>,
  settle?: (exit: Exit.Exit<SendReceipt, ChatKaziError>) => Effect.Effect<void>
): Effect.Effect<SendReceipt, ChatKaziError, R> =>
  Effect.flatMap(
    Effect.forkDaemon(Effect.interruptible(settle === undefined ? deliver : Effect.onExit(deliver, settle))),
    (fiber) => Effect.flatten(Fiber.await(fiber))
  )

/**
 * Keeps the store's claims on this guard's sends in flight alive until they settle: one fiber renews
 * them all every `everyMs`, and runs only while there are any. (A renewal fiber per send cost as much
 * as the rest of the guard together.)
 */
const makeRenewals = (store: StateStoreApi, ttlMs: number, everyMs: number) => {
  const claims = new Map<string, string>()
  let renewer: Fiber.RuntimeFiber<unknown> | "starting" | undefined
  // Set while a round of renewals is being written: a send that settles then waits for the round,
  // so that no renewal of its claim lands after its outcome is recorded.
  let round: Deferred.Deferred<void> | undefined

  // Uninterruptible: stopping the renewer waits for a round under way instead of cutting it, so a
  // round is always marked done and no write of it is left to land after its claim has settled.
  const renewAll = Effect.uninterruptible(Effect.suspend(() => {
    const written = Deferred.unsafeMake<void>(FiberId.none)
    round = written
    return Effect.forEach([...claims], ([key, value]) => Effect.ignore(store.set(key, value, ttlMs)), {
      concurrency: "unbounded",
      discard: true
    }).pipe(Effect.ensuring(Effect.sync(() => {
      if (round === written) round = undefined
      Deferred.unsafeDone(written, Exit.void)
    })))
  }))
  // Forked from a send's uninterruptible region, whose uninterruptibility it would inherit and never stop.
  const renewForever = Effect.interruptible(Effect.forever(Effect.zipRight(Effect.sleep(everyMs), renewAll)))

  return {
    /** From now until `settled`, `key` is renewed with `value` (its claim). */
    claimed: (key: string, value: string): Effect.Effect<void> =>
      Effect.suspend(() => {
        claims.set(key, value)
        if (renewer !== undefined) return Effect.void
        renewer = "starting"
        return Effect.map(Effect.forkDaemon(renewForever), (fiber) => {
          renewer = fiber
        })
      }),
    /** Stops renewing `key`; once this is done, no renewal of it is written any more. */
    settled: (key: string): Effect.Effect<void> =>
      Effect.suspend(() => {
        claims.delete(key)
        // The renewer started by the first of the claims still here: it is never "starting" when the last goes.
        if (claims.size === 0 && renewer !== undefined && renewer !== "starting") {
          const last = renewer
          renewer = undefined
          return Fiber.interrupt(last)
        }
        return round === undefined ? Effect.void : Deferred.await(round)
      })
  }
}

export function makeSendGuard(
  settings: SafetySettings,
  store: StateStoreApi,
  options: SendGuardOptions = {}
): SendGuardApi {
  const dedupeMs = settings.dedupeWindowSeconds * 1000
  const deliveryTimeoutMs = options.deliveryTimeoutMs ?? 30_000
  const claimTtlMs = deliveryTimeoutMs + dedupeMs
  const renewals = makeRenewals(store, claimTtlMs, Math.max(50, Math.floor(claimTtlMs / 3)))
  // Sends this replica is delivering now, so an identical call here waits for the same result.
  const inFlight = new Map<string, Leading>()

  const dedupeKey = (account: AccountInfo, message: OutgoingMessage) =>
    `dedupe:${account.id}:${
      createHash("sha256").update(JSON.stringify([message.sessionId, message.to, message.content])).digest("base64url")
    }`

  const admitPace = (account: AccountInfo, sessionId: string): Effect.Effect<void, PaceLimited | StateUnavailable> =>
    Effect.clockWith((clock) =>
      Effect.matchEffect(
        store.admit(`pace:${account.id}:${sessionId}`, settings.maxSendsPerMinute, PACE_WINDOW_MS, clock.unsafeCurrentTimeMillis()),
        {
          onFailure: (error) => Effect.fail(unavailable(error)),
          onSuccess: (verdict) =>
            verdict.admitted ? Effect.void : Effect.fail(
              new PaceLimited({
                sessionId,
                maxPerMinute: settings.maxSendsPerMinute,
                retryAfterSeconds: Math.max(1, Math.ceil(verdict.retryAfterMs / 1000))
              })
            )
        }
      )
    )

  // The window counts from when a send settled, never from when it started: a send that timed out after
  // CHATKAZI_TIMEOUT_MS (30 s, as long as the default window) must still block its repeat.
  const record = (key: string, sentAt: number, exit: Exit.Exit<SendReceipt, ChatKaziError>) =>
    Exit.match(exit, {
      onSuccess: (receipt) => store.set(key, encodeClaim({ _tag: "Sent", sentAt, receipt }), dedupeMs),
      onFailure: (cause) =>
        Option.match(Option.filter(Cause.failureOption(cause), isUncertain), {
          // A send that may have been delivered stays remembered, so a repeat cannot deliver it twice.
          onSome: ({ operation, reason }) =>
            store.set(key, encodeClaim({ _tag: "Uncertain", sentAt, operation, reason }), dedupeMs),
          // Nothing went out: forget the claim, so a retry is delivered.
          onNone: () => store.delete(key)
        })
    }).pipe(
      Effect.catchAll((error) =>
        Effect.logWarning(
          `Could not record how a send ended in the shared state (${error.reason}); an identical send stays ` +
            "refused until its claim expires."
        )
      )
    )

  /**
   * Claims the send and delivers it; or, when the claim is taken, answers from it: the first send's
   * receipt, its uncertainty, or (while it is in flight on another replica) what it settles to.
   * Written as a chain rather than a generator: it runs on every send.
   */
  const lead = <R>(
    account: AccountInfo,
    key: string,
    sessionId: string,
    deliver: Effect.Effect<SendReceipt, ChatKaziError, R>,
    start?: number
  ): Effect.Effect<Outcome, ChatKaziError, R> =>
    Effect.clockWith((clock) => {
      const now = clock.unsafeCurrentTimeMillis()
      const inFlightClaim = encodeClaim({ _tag: "InFlight", sentAt: now })
      return Effect.flatMap(
        Effect.mapError(store.claim(key, inFlightClaim, claimTtlMs), unavailable),
        (claimed): Effect.Effect<Outcome, ChatKaziError, R> =>
          claimed
            ? admitPace(account, sessionId).pipe(
              Effect.tapError(() => Effect.ignore(store.delete(key))),
              // Renewed until the send settles; no longer once its outcome is recorded, so it never overwrites it.
              Effect.zipRight(renewals.claimed(key, inFlightClaim)),
              Effect.zipRight(
                deliverDetached(deliver, (exit) => Effect.zipRight(renewals.settled(key), record(key, now, exit)))
              ),
              Effect.map((receipt) => ({ receipt, sentAt: now, repeated: false }))
            )
            : answerFromClaim(account, key, sessionId, deliver, start ?? now, now)
      )
    })

  /** The claim on this send is taken: what the send it stands for came to, or is still coming to. */
  const answerFromClaim = <R>(
    account: AccountInfo,
    key: string,
    sessionId: string,
    deliver: Effect.Effect<SendReceipt, ChatKaziError, R>,
    start: number,
    now: number
  ): Effect.Effect<Outcome, ChatKaziError, R> =>
    Effect.gen(function*() {
      const earlier = yield* store.get(key).pipe(Effect.mapError(unavailable))
      // Gone since the claim was tried (it expired, or that send failed): claim again.
      if (earlier === undefined) return yield* lead(account, key, sessionId, deliver, start)
      const decoded = decodeClaim(earlier)
      if (Option.isNone(decoded)) {
        return yield* new StateUnavailable({ reason: "the shared state holds an entry this version cannot read" })
      }
      const claim = decoded.value
      switch (claim._tag) {
        case "Sent":
          return { receipt: claim.receipt, sentAt: claim.sentAt, repeated: true }
        case "Uncertain":
          return yield* new DeliveryUncertain({ operation: claim.operation, reason: claim.reason, repeated: true })
        case "InFlight": {
          // Sent by another replica (or one that stopped mid-send): wait as long as that send may take.
          if (now >= Math.min(start, claim.sentAt) + deliveryTimeoutMs) {
            const ago = Math.max(0, Math.round((now - claim.sentAt) / 1000))
            return yield* new DeliveryUncertain({
              operation: "send",
              reason: `it started ${ago} s ago on another replica and has not finished`,
              repeated: true
            })
          }
          // Nothing of ours is at stake while waiting on another replica's send: a cancel may end the wait.
          yield* Effect.interruptible(Effect.sleep(POLL_MS))
          return yield* lead(account, key, sessionId, deliver, start)
        }
      }
    })

  /** An identical call waits for the send this replica is leading, and answers with its outcome. */
  const repeatOf = (leader: Deferred.Deferred<Outcome, ChatKaziError>): Effect.Effect<GuardedReceipt, ChatKaziError> =>
    Deferred.await(leader).pipe(
      // A repeat only waits for the first send here: a cancel may end the wait, never that send.
      Effect.interruptible,
      Effect.map((first) => ({ receipt: first.receipt, duplicateOf: { sentAt: first.sentAt } })),
      Effect.catchTag("DeliveryUncertain", (uncertain) => Effect.fail(repeatedUncertain(uncertain)))
    )

  const deduped = <R>(
    account: AccountInfo,
    message: OutgoingMessage,
    deliver: Effect.Effect<SendReceipt, ChatKaziError, R>
  ): Effect.Effect<GuardedReceipt, ChatKaziError, R> => {
    const key = dedupeKey(account, message)
    const pending = inFlight.get(key)
    // Made in the same step as the lookup: the leader, as it settles, leaves the map and completes the
    // Deferred in one step too, so a repeat that found it is always told.
    if (pending !== undefined) return repeatOf(pending.waiters ??= Deferred.unsafeMake(FiberId.none))
    const leading: Leading = { waiters: undefined }
    inFlight.set(key, leading)
    return lead(account, key, message.sessionId, deliver).pipe(
      Effect.onExit((exit) => {
        inFlight.delete(key)
        return leading.waiters === undefined ? Effect.void : Deferred.done(leading.waiters, exit)
      }),
      Effect.map(guardedReceipt)
    )
  }

  return {
    checkRecipient: (to) =>
      Option.match(settings.allowedRecipients, {
        onNone: () => Effect.void,
        onSome: (allowlist) => isAllowedRecipient(allowlist, to) ? Effect.void : Effect.fail(new RecipientNotAllowed({ to }))
      }),

    once: (message, deliver) =>
      Effect.flatMap(Account, (account) =>
        dedupeMs === 0
          ? Effect.zipRight(
            admitPace(account, message.sessionId),
            Effect.map(deliverDetached(deliver), (receipt) => ({ receipt }))
          )
          : deduped(account, message, deliver)).pipe(Effect.uninterruptible)
  }
}
