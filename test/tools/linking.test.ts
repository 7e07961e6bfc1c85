/**
 * Linking a phone without stalls, under the TestClock: get_session_qr waits for the QR of a session
 * that is starting, and wait_for_session returns at once with a QR (or a rotated one) the model has
 * not shown yet.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, TestClock } from "effect"
import { ChatKaziTest } from "../../src/services/ChatKaziTest.js"
import { Linking } from "../../src/services/Linking.js"
import { Progress, type ProgressReport } from "../../src/services/Progress.js"
import { getSessionQr } from "../../src/tools/getSessionQr.js"
import { startSession } from "../../src/tools/startSession.js"
import type { Tool } from "../../src/tools/Tool.js"
import { waitForSession } from "../../src/tools/waitForSession.js"
import { callTool, stubChatKazi } from "../support/tools.js"
import { ChatKazi } from "../../src/services/ChatKazi.js"

const world = (sessions: Record<string, string>, qrWaitSeconds = 20) =>
  Effect.provide(Layer.merge(ChatKazi.layerTest(sessions), Linking.layerTest({ qrWaitSeconds })))

/** Starts a tool call in a fiber, recording its progress reports; the first request has run when it returns. */
const startCall = <I, IE, O, OE, R>(tool: Tool<I, IE, O, OE, R>, args: Record<string, unknown>) =>
  Effect.gen(function*() {
    const reports: Array<ProgressReport> = []
    const fiber = yield* callTool(tool, args).pipe(
      Effect.provideService(Progress, { report: (report) => Effect.sync(() => void reports.push(report)) }),
      Effect.fork
    )
    yield* TestClock.adjust(0)
    return { fiber, reports }
  })

const callsOf = (operation: string) =>
  Effect.map(ChatKaziTest, (test) => test.calls.filter((call) => call.operation === operation).length)

describe("get_session_qr on a session that is starting", () => {
  it.effect("waits for the QR with backoff, reports progress, and returns it as soon as it appears", () =>
    Effect.gen(function*() {
      const test = yield* ChatKaziTest
      const { fiber, reports } = yield* startCall(getSessionQr, { sessionId: "s" })
      yield* TestClock.adjust("1 second") // checks at 0.5 s and 1 s
      expect(yield* callsOf("sessionQr")).toBe(3)
      test.setState("s", "qr_ready")
      yield* TestClock.adjust("1 second") // next check at 1.75 s
      const reply = yield* Fiber.join(fiber)
      expect(reply.data).toMatchObject({ sessionId: "s", state: "qr_ready", format: "payload", qr: "2@test-qr-s" })
      expect(reply.images).toHaveLength(1)
      expect(reply.text).toContain("then call wait_for_session")
      expect(reports.map((r) => r.message)).toEqual(["connecting after 0.5 s", "connecting after 1 s", "QR ready after 1.8 s"])
      expect(reports.every((r) => r.total === 20)).toBe(true)
      yield* TestClock.adjust("1 minute")
      expect(yield* callsOf("sessionQr")).toBe(4)
    }).pipe(world({ s: "connecting" })))

  it.effect("gives up after CHATKAZI_QR_WAIT_SECONDS with the state and the next step, and stops checking", () =>
    Effect.gen(function*() {
      const { fiber } = yield* startCall(getSessionQr, { sessionId: "s" })
      yield* TestClock.adjust("5 seconds")
      const reply = yield* Fiber.join(fiber)
      expect(reply.data).toMatchObject({ state: "connecting", format: "none" })
      expect(reply.images).toEqual([])
      expect(reply.text).toContain('No QR code for session "s" yet after waiting 5 s (state: connecting')
      expect(reply.text).toContain("call wait_for_session, which returns the QR as soon as it appears")
      const made = yield* callsOf("sessionQr")
      yield* TestClock.adjust("1 minute")
      expect(yield* callsOf("sessionQr")).toBe(made)
    }).pipe(world({ s: "connecting" }, 5)))

  it.effect("waits on not_started only right after this server started the session", () =>
    Effect.gen(function*() {
      const test = yield* ChatKaziTest
      // Never started here: not_started is an answer, not a wait.
      const idle = yield* callTool(getSessionQr, { sessionId: "s" })
      expect(idle.text).toContain("Next: call start_session")
      expect(yield* callsOf("sessionQr")).toBe(1)

      yield* callTool(startSession, { sessionId: "s" })
      test.setState("s", "not_started") // the gateway has not caught up yet
      const { fiber } = yield* startCall(getSessionQr, { sessionId: "s" })
      yield* TestClock.adjust("1 second")
      test.setState("s", "qr_ready")
      yield* TestClock.adjust("1 second")
      expect((yield* Fiber.join(fiber)).data).toMatchObject({ format: "payload", qr: "2@test-qr-s" })
    }).pipe(world({ s: "not_started" })))

  it.effect("answers at once on a session that is not starting", () =>
    Effect.gen(function*() {
      const reply = yield* callTool(getSessionQr, { sessionId: "s" })
      expect(reply.data.format).toBe("none")
      expect(yield* callsOf("sessionQr")).toBe(1)
    }).pipe(world({ s: "disconnected" })))

  it.effect("a cancelled call sends no more checks", () =>
    Effect.gen(function*() {
      const { fiber } = yield* startCall(getSessionQr, { sessionId: "s" })
      yield* TestClock.adjust("1 second")
      yield* Fiber.interrupt(fiber)
      const made = yield* callsOf("sessionQr")
      yield* TestClock.adjust("1 minute")
      expect(yield* callsOf("sessionQr")).toBe(made)
    }).pipe(world({ s: "connecting" })))
})

describe("wait_for_session hands over codes the model has not shown", () => {
  it.effect("right after start_session: returns the QR as soon as it appears, then waits for the scan", () =>
    Effect.gen(function*() {
      const test = yield* ChatKaziTest
      yield* callTool(startSession, { sessionId: "s" })
      test.setState("s", "connecting")
      const first = yield* startCall(waitForSession, { sessionId: "s" })
      yield* TestClock.adjust("2 seconds")
      test.setState("s", "qr_ready")
      yield* TestClock.adjust("2 seconds")
      const shown = yield* Fiber.join(first.fiber)
      expect(shown.data).toMatchObject({
        state: "qr_ready",
        reachedTarget: false,
        timedOut: false,
        showToUser: true,
        format: "payload",
        qr: "2@test-qr-s",
        waitedSeconds: 4
      })
      expect(shown.images).toHaveLength(1)
      expect(shown.text).toContain("Show this to the user")
      expect(shown.text).toContain("then call wait_for_session again")

      // The model showed it and waits again: this time the same QR is no reason to return.
      const second = yield* startCall(waitForSession, { sessionId: "s" })
      yield* TestClock.adjust("4 seconds")
      test.setState("s", "connected")
      yield* TestClock.adjust("2 seconds")
      const connected = yield* Fiber.join(second.fiber)
      expect(connected.data).toMatchObject({ state: "connected", reachedTarget: true, showToUser: false })
      expect(connected.images).toBeUndefined()
    }).pipe(world({})))

  it.effect("a QR already given by get_session_qr is not returned again", () =>
    Effect.gen(function*() {
      yield* callTool(getSessionQr, { sessionId: "s" })
      const { fiber } = yield* startCall(waitForSession, { sessionId: "s", timeoutSeconds: 3 })
      yield* TestClock.adjust("3 seconds")
      expect((yield* Fiber.join(fiber)).data).toMatchObject({ timedOut: true, showToUser: false, state: "qr_ready" })
    }).pipe(world({ s: "qr_ready" })))

  it.effect("returns the fresh QR when it rotates while waiting", () => {
    let qr = "2@first"
    return Effect.gen(function*() {
      const first = yield* callTool(waitForSession, { sessionId: "s" })
      expect(first.data).toMatchObject({ showToUser: true, qr: "2@first", polls: 1 })
      const { fiber } = yield* startCall(waitForSession, { sessionId: "s" })
      yield* TestClock.adjust("2 seconds")
      qr = "2@second"
      yield* TestClock.adjust("2 seconds")
      expect((yield* Fiber.join(fiber)).data).toMatchObject({ showToUser: true, qr: "2@second", polls: 3 })
    }).pipe(
      Effect.provide(stubChatKazi({
        sessionStatus: (sessionId) => Effect.succeed({ sessionId, state: "qr_ready", details: {} }),
        sessionQr: (sessionId) => Effect.sync(() => ({ sessionId, state: "qr_ready", qr, details: {} }))
      })),
      Effect.provide(Linking.layerTest())
    )
  })

  it.effect("hands over a pairing code from the status without asking for a QR", () =>
    Effect.gen(function*() {
      const reply = yield* callTool(waitForSession, { sessionId: "s" })
      expect(reply.data).toMatchObject({ showToUser: true, pairingCode: "K7QX-22PL", format: "none" })
      expect(reply.text).toContain("Pairing code (WhatsApp > Linked devices > Link with phone number): K7QX-22PL")
    }).pipe(
      Effect.provide(stubChatKazi({
        sessionStatus: (sessionId) =>
          Effect.succeed({ sessionId, state: "pairing_code_ready", pairingCode: "K7QX-22PL", details: {} })
      })),
      Effect.provide(Linking.layerTest())
    ))
})
