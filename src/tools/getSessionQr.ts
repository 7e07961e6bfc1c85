import { Clock, Duration, Effect, Ref, Schedule, Schema } from "effect"
import { ChatKazi } from "../services/ChatKazi.js"
import { Linking } from "../services/Linking.js"
import { Progress } from "../services/Progress.js"
import { Details, type SessionQr } from "../services/Domain.js"
import { SessionId } from "./Inputs.js"
import { codeKey, hasCode, presentCode, QrFormat, SCAN_HOW } from "./LinkCode.js"
import { rendersLinkCard } from "./LinkCard.js"
import { guideFor } from "./SessionLifecycle.js"
import { describeDetails } from "./SessionView.js"
import { defineTool } from "./Tool.js"

/** Checks for the QR of a starting session: soon at first, then every 3 s at most. */
const backoff = Schedule.exponential(Duration.millis(500), 1.5).pipe(Schedule.union(Schedule.spaced(Duration.seconds(3))))

/** Milliseconds as seconds, to a tenth. */
const seconds = (ms: number) => Math.round(ms / 100) / 10

export const getSessionQr = defineTool({
  name: "get_session_qr",
  title: "Get the QR code to link a phone",
  description:
    "Get the QR code that links a phone to a WhatsApp session, as an image to show the user (and as text), plus " +
    `a pairing code when ChatKazi provides one. The user scans it in ${SCAN_HOW}. If the session is still ` +
    "starting, this waits a little for its QR to appear (reporting progress). QR codes expire quickly: fetch a " +
    "fresh one if scanning fails, then call wait_for_session.",
  input: Schema.Struct({ sessionId: SessionId }),
  output: Schema.Struct({
    sessionId: Schema.String,
    state: Schema.optional(Schema.String),
    format: QrFormat,
    qr: Schema.optional(Schema.String).annotations({ description: "The QR as ChatKazi returned it." }),
    pairingCode: Schema.optional(Schema.String),
    details: Details
  }),
  annotations: { readOnlyHint: true, openWorldHint: true },
  ui: rendersLinkCard,
  run: ({ sessionId }) =>
    Effect.gen(function*() {
      const chatKazi = yield* ChatKazi
      const linking = yield* Linking
      const progress = yield* Progress
      const waitSeconds = linking.settings.qrWaitSeconds
      const startedHere = yield* linking.recentlyStarted(sessionId)
      // A session that is starting gets its QR within seconds: wait for it rather than answer "no QR".
      const starting = (found: SessionQr) =>
        !hasCode(found) &&
        (found.state === "connecting" || (startedHere && (found.state === "not_started" || found.state === undefined)))

      const began = yield* Clock.currentTimeMillis
      const first = yield* chatKazi.sessionQr(sessionId)
      const last = yield* Ref.make(first)
      if (starting(first) && waitSeconds > 0) {
        const poll = chatKazi.sessionQr(sessionId).pipe(
          Effect.tap((found) => Ref.set(last, found)),
          Effect.tap((found) =>
            Effect.flatMap(Clock.currentTimeMillis, (now) =>
              progress.report({
                progress: Math.min(seconds(now - began), waitSeconds),
                total: waitSeconds,
                message: `${hasCode(found) ? "QR ready" : `${found.state ?? "no QR yet"}`} after ${seconds(now - began)} s`
              }))
          )
        )
        yield* poll.pipe(
          Effect.repeat({ schedule: backoff, while: starting }),
          Effect.delay(Duration.millis(500)),
          Effect.timeoutOption(Duration.seconds(waitSeconds))
        )
      }
      const found = yield* Ref.get(last)
      const waited = seconds((yield* Clock.currentTimeMillis) - began)

      if (!hasCode(found)) {
        const guide = guideFor(found.state)
        const state = found.state ? ` (state: ${found.state}, ${guide.meaning})` : ""
        const text = starting(found)
          ? `No QR code for session "${sessionId}" yet after waiting ${waited} s${state}. Next: call ` +
            "wait_for_session, which returns the QR as soon as it appears."
          : `No QR code is available for session "${sessionId}" right now${state}. ` +
            (found.state === undefined ? "Check get_session_status." : `Next: ${guide.nextStep}.`)
        return { data: { ...found, format: "none" as const }, text: text + describeDetails(found.details), images: [] }
      }

      const code = yield* presentCode(found)
      yield* linking.markShown(sessionId, codeKey(found))
      const instruction = found.qr !== undefined
        ? `Show it to the user to scan in ${SCAN_HOW}, then call wait_for_session.`
        : "Give it to the user, then call wait_for_session."
      return {
        data: { ...found, format: code.format, ...(code.qr === undefined ? {} : { qr: code.qr }) },
        text: [...code.lines, instruction].join("\n") + describeDetails(found.details),
        images: code.images
      }
    })
})
