/**
 * Guards in front of every send, for the sake of the user's WhatsApp number: the recipient
 * allowlist, suppression of repeated identical sends, and a per-session pace limit.
 */
import { Cause, Clock, Context, Deferred, Effect, Exit, Fiber, Layer, Option } from "effect"
import { type ChatKaziError, DeliveryUncertain, PaceLimited, RecipientNotAllowed } from "../errors/ChatKaziError.js"
import type { SendReceipt } from "./Domain.js"
import { isAllowedRecipient, SafetyConfig, type SafetySettings } from "./SafetyConfig.js"

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
  /** Runs `deliver` unless the same message went out within the window or the session is over its pace. */
  readonly once: <R>(
    message: OutgoingMessage,
    deliver: Effect.Effect<SendReceipt, ChatKaziError, R>
  ) => Effect.Effect<GuardedReceipt, ChatKaziError, R>
}

export class SendGuard extends Context.Tag("chatkazi-mcp/SendGuard")<SendGuard, SendGuardApi>() {
  static readonly layer: Layer.Layer<SendGuard, never, SafetyConfig> = Layer.effect(
    SendGuard,
    Effect.map(SafetyConfig, makeSendGuard)
  )

  /** A fresh guard with the default safety settings, any of them overridden; it remembers nothing yet. */
  static readonly layerTest = (safety: Partial<SafetySettings> = {}): Layer.Layer<SendGuard | SafetyConfig> =>
    SendGuard.layer.pipe(Layer.provideMerge(Layer.sync(SafetyConfig, () => SafetyConfig.make(safety))))
}

interface Delivery {
  readonly sentAt: number
  /** When the gateway's answer (or its absence) was settled; the duplicate window counts from here. */
  settledAt: number | undefined
  readonly result: Deferred.Deferred<SendReceipt, ChatKaziError>
}

const PACE_WINDOW_MS = 60_000

const isUncertain = (exit: Exit.Exit<unknown, ChatKaziError>) =>
  Exit.isFailure(exit) && Option.exists(Cause.failureOption(exit.cause), (error) => error._tag === "DeliveryUncertain")

export function makeSendGuard(settings: SafetySettings): SendGuardApi {
  const recent = new Map<string, Delivery>()
  const sentAtBySession = new Map<string, Array<number>>()
  const dedupeMs = settings.dedupeWindowSeconds * 1000

  // The window counts from when a send settled, never from when it started: a send that timed out after
  // CHATKAZI_TIMEOUT_MS (30 s, as long as the default window) must still block its repeat, and one still
  // in flight is never forgotten.
  const forget = (now: number) => {
    for (const [key, delivery] of recent) {
      if (delivery.settledAt !== undefined && now - delivery.settledAt >= dedupeMs) recent.delete(key)
    }
  }

  const admitPace = (sessionId: string, now: number): Effect.Effect<void, PaceLimited> => {
    const times = (sentAtBySession.get(sessionId) ?? []).filter((t) => now - t < PACE_WINDOW_MS)
    if (times.length >= settings.maxSendsPerMinute) {
      sentAtBySession.set(sessionId, times)
      const retryAfterSeconds = Math.max(1, Math.ceil((times[0]! + PACE_WINDOW_MS - now) / 1000))
      return Effect.fail(
        new PaceLimited({ sessionId, maxPerMinute: settings.maxSendsPerMinute, retryAfterSeconds })
      )
    }
    sentAtBySession.set(sessionId, [...times, now])
    return Effect.void
  }

  return {
    checkRecipient: (to) =>
      Option.match(settings.allowedRecipients, {
        onNone: () => Effect.void,
        onSome: (allowlist) => isAllowedRecipient(allowlist, to) ? Effect.void : Effect.fail(new RecipientNotAllowed({ to }))
      }),

    once: (message, deliver) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        forget(now)
        const key = JSON.stringify([message.sessionId, message.to, message.content])
        const earlier = dedupeMs > 0 ? recent.get(key) : undefined
        if (earlier) {
          const receipt = yield* Deferred.await(earlier.result).pipe(
            Effect.catchTag("DeliveryUncertain", (uncertain) =>
              Effect.fail(new DeliveryUncertain({ ...uncertain, repeated: true })))
          )
          return { receipt, duplicateOf: { sentAt: earlier.sentAt } }
        }
        yield* admitPace(message.sessionId, now)
        const result = yield* Deferred.make<SendReceipt, ChatKaziError>()
        const entry: Delivery = { sentAt: now, settledAt: undefined, result }
        if (dedupeMs > 0) recent.set(key, entry)
        // The delivery runs on a fiber of its own, interruptible there: a caller that goes away (a cancel)
        // does not cut a send half-way, yet the request's own CHATKAZI_TIMEOUT_MS can still stop it,
        // which a timeout cannot do inside this uninterruptible region.
        const delivery = yield* deliver.pipe(
          Effect.onExit((exit) =>
            Effect.flatMap(Clock.currentTimeMillis, (settledAt) => {
              entry.settledAt = settledAt
              // A send that may have been delivered stays remembered, so a repeat cannot deliver it twice.
              if (Exit.isFailure(exit) && !isUncertain(exit)) recent.delete(key)
              return Deferred.done(result, exit)
            })
          ),
          Effect.interruptible,
          Effect.forkDaemon
        )
        const receipt = yield* Fiber.join(delivery)
        return { receipt }
      }).pipe(Effect.uninterruptible)
  }
}
