import { Clock, Duration, Effect, Option, Ref, Schedule, Schema } from "effect"
import { ChatKazi } from "../services/ChatKazi.js"
import { Progress } from "../services/Progress.js"
import type { Session } from "../services/Responses.js"
import { SessionId } from "./Inputs.js"
import { rendersLinkCard } from "./LinkCard.js"
import { guideFor, SESSION_STATES } from "./SessionLifecycle.js"
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

export const waitForSession = defineTool({
  name: "wait_for_session",
  title: "Wait for a WhatsApp session to reach a state",
  description:
    "Wait until a session reaches one of the `until` states (by default connected), for example after the user " +
    "was shown the QR code. Polls the status, reports progress, and stops early when the session reaches a state " +
    "that cannot lead there (logged_out, or disconnected unless it is one of the `until` states). Timing out is a " +
    "normal result that says what to do.",
  input: Schema.Struct({
    sessionId: SessionId,
    until: Schema.optionalWith(
      Schema.NonEmptyArray(State).annotations({
        description: "The states that end the wait. Defaults to [\"connected\"].",
        default: ["connected"]
      }),
      { default: () => ["connected"] as const, exact: true }
    ),
    timeoutSeconds: Seconds(1, 300, 60, "How long to wait at most, in seconds (1 to 300). Defaults to 60."),
    intervalSeconds: Seconds(0.5, 60, 2, "How often to check, in seconds (0.5 to 60). Defaults to 2.")
  }),
  output: Schema.Struct({
    sessionId: Schema.String,
    state: Schema.optional(Schema.String),
    reachedTarget: Schema.Boolean,
    timedOut: Schema.Boolean,
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
      const progress = yield* Progress
      const started = yield* Clock.currentTimeMillis
      const last = yield* Ref.make<Option.Option<Session>>(Option.none())
      const polls = yield* Ref.make(0)
      const targets: ReadonlyArray<string> = until
      const isTarget = (state: string | undefined) => state !== undefined && targets.includes(state)
      const isDeadEnd = (state: string | undefined) =>
        state === "logged_out" || (state === "disconnected" && !targets.includes("disconnected"))

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
        return session
      })

      const finished = yield* poll.pipe(
        Effect.repeat({
          schedule: Schedule.spaced(Duration.seconds(intervalSeconds)),
          until: (session) => isTarget(session.state) || isDeadEnd(session.state)
        }),
        Effect.timeoutOption(Duration.seconds(timeoutSeconds))
      )

      const state = Option.getOrUndefined(yield* Ref.get(last))?.state
      const waitedSeconds = seconds((yield* Clock.currentTimeMillis) - started)
      const timedOut = Option.isNone(finished)
      const reachedTarget = isTarget(state)
      const guide = guideFor(state)
      const text = reachedTarget
        ? `Session "${sessionId}" is ${state} after ${waitedSeconds} s. Next: ${guide.nextStep}.`
        : timedOut
        ? `Stopped waiting after ${timeoutSeconds} s: session "${sessionId}" is still ${state ?? "in an unknown state"}` +
          ` (${guide.meaning}), not ${targets.join(" or ")}. Next: ${guide.nextStep}; ` +
          "if the user is still scanning, call wait_for_session again."
        : `Session "${sessionId}" became ${state} (${guide.meaning}), so it will not reach ${targets.join(" or ")} ` +
          `by waiting. Next: ${guide.nextStep}.`
      return {
        data: {
          sessionId,
          ...(state === undefined ? {} : { state }),
          reachedTarget,
          timedOut,
          waitedSeconds,
          polls: yield* Ref.get(polls),
          ...guide
        },
        text
      }
    })
})
