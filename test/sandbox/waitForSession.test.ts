/**
 * wait_for_session under the TestClock, on the in-memory ChatKazi: time moves only when the test
 * says so, so every poll and the timeout are exact.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, TestClock } from "effect"
import { ChatKazi } from "../../src/services/ChatKazi.js"
import { ChatKaziTest } from "../../src/services/ChatKaziTest.js"
import { Linking } from "../../src/services/Linking.js"
import { Progress, type ProgressReport } from "../../src/services/Progress.js"
import { decodeInput, objectJsonSchema } from "../../src/tools/Tool.js"
import { waitForSession } from "../../src/tools/waitForSession.js"

/** Starts the tool in a fiber, recording its progress reports. */
const startWaiting = (args: Record<string, unknown>) =>
  Effect.gen(function*() {
    const reports: Array<ProgressReport> = []
    const input = yield* decodeInput(waitForSession, args)
    const fiber = yield* waitForSession.run(input).pipe(
      Effect.provideService(Progress, { report: (report) => Effect.sync(() => void reports.push(report)) }),
      Effect.fork
    )
    yield* TestClock.adjust(0) // let the first poll run
    return { fiber, reports }
  })

/** The in-memory gateway and a fresh linking memory. */
const world = (sessions: Record<string, string>) => Effect.provide(Layer.merge(ChatKazi.layerTest(sessions), Linking.layerTest()))

/** The model already has the session's QR (from get_session_qr), so waiting does not return it again. */
const qrAlreadyShown = (sessionId: string) =>
  Effect.flatMap(Linking, (linking) => linking.markShown(sessionId, `2@test-qr-${sessionId}\n`))

const statusPolls = Effect.map(ChatKaziTest, (test) => test.calls.filter((c) => c.operation === "sessionStatus").length)

describe("wait_for_session", () => {
  it.effect("defaults to until connected, 45 s, every 2 s, and bounds its arguments", () =>
    Effect.gen(function*() {
      expect(yield* decodeInput(waitForSession, { sessionId: "s" })).toEqual({
        sessionId: "s",
        until: ["connected"],
        timeoutSeconds: 45,
        intervalSeconds: 2
      })
      const refused = yield* Effect.flip(
        decodeInput(waitForSession, { sessionId: "s", timeoutSeconds: 301, intervalSeconds: 0, until: ["online"] })
      )
      expect(refused.problems).toEqual([
        "until.0: must be one of not_started, connecting, qr_ready, pairing_code_ready, connected, disconnected, logged_out",
        "timeoutSeconds: must be between 1 and 300 seconds",
        "intervalSeconds: must be between 0.5 and 60 seconds"
      ])
    }))

  it.effect("lists its bounds and descriptions in its JSON Schema", () =>
    Effect.sync(() => {
      const { properties } = objectJsonSchema(waitForSession.input) as unknown as { properties: Record<string, any> }
      expect(properties.timeoutSeconds).toMatchObject({ type: "number", minimum: 1, maximum: 300, default: 45 })
      expect(properties.timeoutSeconds.description).toContain("How long to wait")
      expect(properties.intervalSeconds).toMatchObject({ minimum: 0.5, maximum: 60, default: 2 })
      expect(properties.until).toMatchObject({ type: "array", default: ["connected"] })
    }))

  it.effect("is annotated read-only", () =>
    Effect.sync(() => expect(waitForSession.annotations.readOnlyHint).toBe(true)))

  it.effect("returns when the session is connected, reporting progress on every poll", () =>
    Effect.gen(function*() {
      const test = yield* ChatKaziTest
      yield* qrAlreadyShown("s")
      const { fiber, reports } = yield* startWaiting({ sessionId: "s" })
      yield* TestClock.adjust("2 seconds")
      test.setState("s", "connected")
      yield* TestClock.adjust("2 seconds")
      const { data, text } = yield* Fiber.join(fiber)
      expect(data).toMatchObject({
        sessionId: "s",
        state: "connected",
        reachedTarget: true,
        timedOut: false,
        waitedSeconds: 4,
        polls: 3,
        nextStep: "messages can be sent from this session"
      })
      expect(text).toBe("Session \"s\" is connected after 4 s. Next: messages can be sent from this session.")
      expect(reports).toEqual([
        { progress: 0, total: 45, message: "qr_ready after 0 s" },
        { progress: 2, total: 45, message: "qr_ready after 2 s" },
        { progress: 4, total: 45, message: "connected after 4 s" }
      ])
      expect(yield* statusPolls).toBe(3)
    }).pipe(world({ s: "qr_ready" })))

  it.effect("times out as a normal result that says what to do", () =>
    Effect.gen(function*() {
      yield* qrAlreadyShown("s")
      const { fiber } = yield* startWaiting({ sessionId: "s", timeoutSeconds: 9, intervalSeconds: 2 })
      yield* TestClock.adjust("9 seconds")
      const { data, text } = yield* Fiber.join(fiber)
      expect(data).toMatchObject({ state: "qr_ready", reachedTarget: false, timedOut: true, waitedSeconds: 9, polls: 5 })
      expect(text).toContain("Stopped waiting after 9 s: session \"s\" is still qr_ready")
      expect(text).toContain("The user has already been given its code")
      expect(text).toContain("call wait_for_session again")
      yield* TestClock.adjust("1 minute")
      expect(yield* statusPolls).toBe(5)
    }).pipe(world({ s: "qr_ready" })))

  it.effect("stops as soon as the session is logged out", () =>
    Effect.gen(function*() {
      const test = yield* ChatKaziTest
      const { fiber } = yield* startWaiting({ sessionId: "s" })
      test.setState("s", "logged_out")
      yield* TestClock.adjust("2 seconds")
      const { data, text } = yield* Fiber.join(fiber)
      expect(data).toMatchObject({ state: "logged_out", reachedTarget: false, timedOut: false, polls: 2 })
      expect(text).toContain("became logged_out")
      expect(text).toContain("will not reach connected by waiting")
      yield* TestClock.adjust("1 minute")
      expect(yield* statusPolls).toBe(2)
    }).pipe(world({ s: "connecting" })))

  it.effect("stops on disconnected unless disconnected is what it waits for", () =>
    Effect.gen(function*() {
      const stopped = yield* startWaiting({ sessionId: "s" })
      expect((yield* Fiber.join(stopped.fiber)).data).toMatchObject({ reachedTarget: false, timedOut: false, polls: 1 })
      const awaited = yield* startWaiting({ sessionId: "s", until: ["disconnected", "logged_out"] })
      expect((yield* Fiber.join(awaited.fiber)).data).toMatchObject({ reachedTarget: true, state: "disconnected" })
    }).pipe(world({ s: "disconnected" })))

  it.effect("sends no more polls once interrupted (a cancelled call)", () =>
    Effect.gen(function*() {
      const { fiber } = yield* startWaiting({ sessionId: "s" })
      yield* TestClock.adjust("4 seconds")
      expect(yield* statusPolls).toBe(3)
      yield* Fiber.interrupt(fiber)
      yield* TestClock.adjust("5 minutes")
      expect(yield* statusPolls).toBe(3)
    }).pipe(world({ s: "connecting" })))

  it.effect("fails with the gateway's typed error when the session does not exist", () =>
    Effect.gen(function*() {
      const { fiber } = yield* startWaiting({ sessionId: "ghost" })
      expect(yield* Effect.flip(Fiber.join(fiber))).toMatchObject({ _tag: "NotFound" })
    }).pipe(world({})))
})
