import { Clock, Duration, Effect, Option, Ref, Schedule, Schema } from "effect"
import type { ChatKaziError } from "../errors/ChatKaziError.js"
import { ChatKazi } from "../services/ChatKazi.js"
import { Linking } from "../services/Linking.js"
import { Progress } from "../services/Progress.js"
import type { Session, SessionQr } from "../services/Domain.js"
import { SessionId } from "./Inputs.js"
import { codeKey, hasCode, presentCode, QrFormat, SCAN_HOW } from "./LinkCode.js"
import { rendersLinkCard } from "./LinkCard.js"
import { guideFor, isWaitingForPhone, SESSION_STATES } from "./SessionLifecycle.js"
import { defineTool } from "./Tool.js"

const State = Schema.Literal(...SESSION_STATES).annotations({
  message: () => ({ message: `must be one of ${SESSION_STATES.join(", ")}`, override: true })
})

const Seconds = (min: number, max: number, fallback: number, description: string) =>
  Schema.optionalWith(
    Schema.Number.pipe(
      Schema.filter((n) => (n >= min && n <= max) || `must be between ${min} and ${max} seconds`, {
        // Without a JSON Schema of its own, a filter's annotations (the description) never reach tools/list.
        jsonSchema: { minimum: min, maximum: max }
      })
    ).annotations({ description, default: fallback }),
    { default: () => fallback, exact: true }
  )

/** Milliseconds as seconds, to a tenth. */
const seconds = (ms: number) => Math.round(ms / 100) / 10

/** At most this by default, so a default call answers before a host's usual 60 s request timeout. */
export const DEFAULT_WAIT_SECONDS = 45

export const waitForSession = defineTool({
  name: "wait_for_session",
  title: "Wait for a WhatsApp session to reach a state",
  description:
    "Wait until a session reaches one of the `until` states (by default connected), for example after " +
    "start_session or after the user was shown the QR code. Polls the status and reports progress. When the " +
    "session waits for a scan and its current QR code (or pairing code) has not been shown yet, it returns at " +
    "once with it: show it to the user, then call wait_for_session again; a QR that rotates while waiting is " +
    "returned the same way. Stops early when the session reaches a state that cannot lead there (logged_out, or " +
    "disconnected unless it is one of the `until` states). Timing out is a normal result that says what to do. " +
    `Waits ${DEFAULT_WAIT_SECONDS} s by default; longer waits (up to 300 s) need a client that resets its request ` +
    "timeout on progress notifications.",
  input: Schema.Struct({
    sessionId: SessionId,
    until: Schema.optionalWith(
      Schema.NonEmptyArray(State).annotations({
        description: "The states that end the wait. Defaults to [\"connected\"].",
        default: ["connected"]
      }),
      { default: () => ["connected"] as const, exact: true }
    ),
    timeoutSeconds: Seconds(
      1,
      300,
      DEFAULT_WAIT_SECONDS,
      `How long to wait at most, in seconds (1 to 300). Defaults to ${DEFAULT_WAIT_SECONDS}.`
    ),
    intervalSeconds: Seconds(0.5, 60, 2, "How often to check, in seconds (0.5 to 60). Defaults to 2.")
  }),
  output: Schema.Struct({
    sessionId: Schema.String,
    state: Schema.optional(Schema.String),
    reachedTarget: Schema.Boolean,
    timedOut: Schema.Boolean,
    showToUser: Schema.Boolean.annotations({
      description: "True when this result carries a QR code or pairing code the user has not been shown yet: " +
        "show it, then call wait_for_session again."
    }),
    format: Schema.optional(QrFormat),
    qr: Schema.optional(Schema.String).annotations({ description: "The QR as ChatKazi returned it." }),
    pairingCode: Schema.optional(Schema.String),
    waitedSeconds: Schema.Number,
    polls: Schema.Number,
    meaning: Schema.String,
    nextStep: Schema.String
  }),
  annotations: { readOnlyHint: true, openWorldHint: true },
  ui: rendersLinkCard,
  run: ({ intervalSeconds, sessionId, timeoutSeconds, until }) =>
    Effect.gen(function*() {
      const chatKazi = yield* ChatKazi
      const linking = yield* Linking
      const progress = yield* Progress
      const started = yield* Clock.currentTimeMillis
      const last = yield* Ref.make<Option.Option<Session>>(Option.none())
      const polls = yield* Ref.make(0)
      const unseen = yield* Ref.make<Option.Option<SessionQr>>(Option.none())
      const targets: ReadonlyArray<string> = until
      const isTarget = (state: string | undefined) => state !== undefined && targets.includes(state)
      const isDeadEnd = (state: string | undefined) =>
        state === "logged_out" || (state === "disconnected" && !targets.includes("disconnected"))

      /** The session's current code when the user has to see it and the model was not given it yet. */
      const unseenCode = (session: Session): Effect.Effect<Option.Option<SessionQr>, ChatKaziError> =>
        Effect.gen(function*() {
          if (isTarget(session.state) || !isWaitingForPhone(session.state)) return Option.none()
          const found: SessionQr = session.state === "pairing_code_ready" && session.pairingCode !== undefined
            ? session
            : yield* chatKazi.sessionQr(sessionId)
          if (!hasCode(found) || (yield* linking.wasShown(sessionId, codeKey(found)))) return Option.none()
          return Option.some(found)
        })

      const poll = Effect.gen(function*() {
        const session = yield* chatKazi.sessionStatus(sessionId)
        const elapsed = (yield* Clock.currentTimeMillis) - started
        yield* Ref.set(last, Option.some(session))
        yield* Ref.update(polls, (n) => n + 1)
        yield* progress.report({
          progress: Math.min(elapsed / 1000, timeoutSeconds),
          total: timeoutSeconds,
          message: `${session.state ?? "unknown state"} after ${seconds(elapsed)} s`
        })
        const code = yield* unseenCode(session)
        yield* Ref.set(unseen, code)
        return { session, code }
      })

      const finished = yield* poll.pipe(
        Effect.repeat({
          schedule: Schedule.spaced(Duration.seconds(intervalSeconds)),
          until: ({ code, session }) => isTarget(session.state) || isDeadEnd(session.state) || Option.isSome(code)
        }),
        Effect.timeoutOption(Duration.seconds(timeoutSeconds))
      )

      const state = Option.getOrUndefined(yield* Ref.get(last))?.state
      const waitedSeconds = seconds((yield* Clock.currentTimeMillis) - started)
      const timedOut = Option.isNone(finished)
      const reachedTarget = isTarget(state)
      const guide = guideFor(state)
      const summary = {
        sessionId,
        ...(state === undefined ? {} : { state }),
        reachedTarget,
        timedOut,
        waitedSeconds,
        polls: yield* Ref.get(polls),
        ...guide
      }

      const code = yield* Ref.get(unseen)
      if (Option.isSome(code)) {
        const presented = yield* presentCode(code.value)
        yield* linking.markShown(sessionId, codeKey(code.value))
        const how = code.value.qr !== undefined ? `scan it in ${SCAN_HOW}` : "enter it on their phone"
        return {
          data: {
            ...summary,
            showToUser: true,
            format: presented.format,
            ...(presented.qr === undefined ? {} : { qr: presented.qr }),
            ...(code.value.pairingCode === undefined ? {} : { pairingCode: code.value.pairingCode })
          },
          text: `Session "${sessionId}" is ${state} and waits for the user to link their phone. Show this to the ` +
            `user (they ${how}), then call wait_for_session again.\n${presented.lines.join("\n")}`,
          images: presented.images
        }
      }

      const text = reachedTarget
        ? `Session "${sessionId}" is ${state} after ${waitedSeconds} s. Next: ${guide.nextStep}.`
        : timedOut
        ? `Stopped waiting after ${timeoutSeconds} s: session "${sessionId}" is still ${state ?? "in an unknown state"}` +
          ` (${guide.meaning}), not ${targets.join(" or ")}. ` +
          (isWaitingForPhone(state)
            ? "The user has already been given its code; if they are still linking the phone, call wait_for_session again."
            : `Next: ${guide.nextStep}; if the user is still scanning, call wait_for_session again.`)
        : `Session "${sessionId}" became ${state} (${guide.meaning}), so it will not reach ${targets.join(" or ")} ` +
          `by waiting. Next: ${guide.nextStep}.`
      return { data: { ...summary, showToUser: false }, text }
    })
})
