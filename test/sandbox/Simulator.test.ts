import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, TestClock } from "effect"
import { SandboxConfig, type SandboxSettings } from "../../src/sandbox/SandboxConfig.js"
import * as Rules from "../../src/sandbox/Simulator.js"
import { makeSimulator, type Refusal, type SimulatorApi } from "../../src/sandbox/Simulator.js"

const simulator = (overrides: Partial<SandboxSettings> = {}) => makeSimulator(SandboxConfig.make(overrides))

const refusal = (effect: Effect.Effect<unknown, Refusal>) =>
  Effect.map(Effect.either(effect), (result) => {
    if (Either.isRight(result)) throw new Error(`expected a refusal, got ${JSON.stringify(result.right)}`)
    return { status: result.left.status, message: result.left.message }
  })

const state = (sim: SimulatorApi, id: string) => Effect.map(sim.apply(Rules.sessionStatus(id)), (s) => s.status)

/** Started, QR fetched, scanned on demand: ready to send. */
const connect = (sim: SimulatorApi, id: string) =>
  Effect.gen(function*() {
    yield* sim.apply(Rules.startSession(id))
    yield* TestClock.adjust("1 second")
    yield* sim.apply(Rules.sessionQr(id))
    yield* sim.apply(Rules.scan(id))
  })

describe("Simulator", () => {
  it.effect("starts with a not_started default session", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      expect(yield* sim.apply(Rules.listSessions)).toEqual([{ sessionId: "default", status: "not_started" }])
    }))

  it.effect("moves not_started → connecting → qr_ready → connected some time after the QR is fetched", () =>
    Effect.gen(function*() {
      const sim = yield* simulator({ scanAfterMs: 5_000, scanAfterPolls: undefined, connectingMs: 1_000 })
      expect((yield* sim.apply(Rules.startSession("default"))).status).toBe("connecting")
      expect((yield* sim.apply(Rules.sessionQr("default"))).qr).toBeUndefined()
      yield* TestClock.adjust("1 second")
      const qr = yield* sim.apply(Rules.sessionQr("default"))
      expect(qr.status).toBe("qr_ready")
      expect(qr.qr).toMatch(/^2@chatkazi-sandbox,not-a-real-whatsapp-qr,default,/)
      yield* TestClock.adjust("4999 millis")
      expect(yield* state(sim, "default")).toBe("qr_ready")
      yield* TestClock.adjust("1 millis")
      expect(yield* state(sim, "default")).toBe("connected")
      expect((yield* sim.apply(Rules.sessionQr("default"))).qr).toBeUndefined()
    }))

  it.effect("does not scan a QR nobody fetched", () =>
    Effect.gen(function*() {
      const sim = yield* simulator({ scanAfterMs: 1_000, scanAfterPolls: 2 })
      yield* sim.apply(Rules.startSession("default"))
      yield* TestClock.adjust("1 minute")
      for (let i = 0; i < 5; i++) expect(yield* state(sim, "default")).toBe("qr_ready")
    }))

  it.effect("connects on the Nth status check after the QR was fetched", () =>
    Effect.gen(function*() {
      const sim = yield* simulator({ scanAfterMs: undefined, scanAfterPolls: 3 })
      yield* sim.apply(Rules.startSession("default"))
      yield* TestClock.adjust("1 second")
      yield* sim.apply(Rules.sessionQr("default"))
      expect(yield* state(sim, "default")).toBe("qr_ready")
      expect(yield* state(sim, "default")).toBe("qr_ready")
      expect(yield* state(sim, "default")).toBe("connected")
    }))

  it.effect("connects on demand through scan, and refuses a scan without a QR (409)", () =>
    Effect.gen(function*() {
      const sim = yield* simulator({ scanAfterMs: undefined, scanAfterPolls: undefined })
      yield* sim.apply(Rules.startSession("default"))
      expect(yield* refusal(sim.apply(Rules.scan("default")))).toMatchObject({ status: 409 })
      yield* TestClock.adjust("1 second")
      expect((yield* sim.apply(Rules.scan("default"))).status).toBe("connected")
      expect(yield* refusal(sim.apply(Rules.scan("default")))).toMatchObject({ status: 409 })
      expect(yield* refusal(sim.apply(Rules.scan("nope")))).toMatchObject({ status: 404 })
    }))

  it.effect("answers 409 for starting an active session, and allows a restart after logout or disconnect", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      yield* sim.apply(Rules.startSession("default"))
      expect(yield* refusal(sim.apply(Rules.startSession("default")))).toEqual({
        status: 409,
        message: "Session \"default\" is already active (connecting)"
      })
      expect((yield* sim.apply(Rules.logoutSession("default"))).status).toBe("logged_out")
      expect((yield* sim.apply(Rules.startSession("default"))).status).toBe("connecting")
      expect((yield* sim.apply(Rules.disconnect("default"))).status).toBe("disconnected")
      expect((yield* sim.apply(Rules.startSession("default"))).status).toBe("connecting")
    }))

  it.effect("answers 402 past the plan limit; logging a session out frees its instance", () =>
    Effect.gen(function*() {
      const sim = yield* simulator({ maxSessions: 2 })
      yield* sim.apply(Rules.startSession("a"))
      yield* sim.apply(Rules.startSession("b"))
      const limit = yield* refusal(sim.apply(Rules.startSession("c")))
      expect(limit.status).toBe(402)
      expect(limit.message).toContain("WhatsApp instance limit reached")
      yield* sim.apply(Rules.logoutSession("a"))
      expect((yield* sim.apply(Rules.startSession("c"))).status).toBe("connecting")
      expect((yield* sim.apply(Rules.listSessions)).map((s) => s.sessionId).sort()).toEqual(["a", "b", "c", "default"])
    }))

  it.effect("answers 404 for unknown sessions", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      for (
        const attempt of [
          sim.apply(Rules.sessionStatus("ghost")),
          sim.apply(Rules.sessionQr("ghost")),
          sim.apply(Rules.logoutSession("ghost")),
          sim.apply(Rules.sendText({ sessionId: "ghost", to: "254712345678", text: "hi" }))
        ]
      ) {
        expect(yield* refusal(attempt)).toEqual({ status: 404, message: "Session \"ghost\" not found" })
      }
    }))

  it.effect("refuses sends unless the session is connected, and checks the recipient (400)", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      const text = { sessionId: "default", to: "254712345678", text: "hi" }
      expect(yield* refusal(sim.apply(Rules.sendText(text)))).toMatchObject({ status: 400, message: expect.stringContaining("not connected") })
      yield* connect(sim, "default")
      expect(yield* refusal(sim.apply(Rules.sendText({ ...text, to: "+254 712" })))).toMatchObject({ status: 400 })
      expect(yield* sim.apply(Rules.sendText(text))).toEqual({ messageId: "sandbox-1", status: "sent", sandbox: true })
    }))

  it.effect("fails media whose link path contains \"empty\" with a download error, after the session checks", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      const media = { sessionId: "default", to: "254712345678", url: "https://files.example/EMPTY/a.jpg", type: "image" as const }
      expect((yield* refusal(sim.apply(Rules.sendMedia(media)))).message).toContain("not connected")
      yield* connect(sim, "default")
      expect(yield* refusal(sim.apply(Rules.sendMedia(media)))).toEqual({
        status: 400,
        message: "Failed to download media from https://files.example/EMPTY/a.jpg: the file is empty (0 bytes)"
      })
      expect(yield* sim.messages).toEqual([])
    }))

  it.effect("logs every accepted message, oldest first", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      yield* connect(sim, "default")
      yield* sim.apply(Rules.sendText({ sessionId: "default", to: "254712345678", text: "hi" }))
      yield* sim.apply(Rules.sendMedia({ sessionId: "default", to: "254700000001", url: "https://files.example/menu.pdf", type: "document" }))
      const log = yield* sim.messages
      expect(log.map((m) => [m.messageId, m.kind, m.to])).toEqual([
        ["sandbox-1", "text", "254712345678"],
        ["sandbox-2", "media", "254700000001"]
      ])
      expect(log[1]).toMatchObject({ url: "https://files.example/menu.pdf", mimetype: "application/pdf" })
    }))
})

describe("the simulator's rules, as plain functions", () => {
  const settings = SandboxConfig.make({ maxSessions: 1 })

  it("a rule maps the account's state to an answer and the next state, without a service", () => {
    const before = Rules.initialState(settings)
    const started = Rules.startSession("default")(before, 0, settings)
    if (Either.isLeft(started)) throw new Error("expected the session to start")
    const [answer, after] = started.right
    expect(answer.status).toBe("connecting")
    expect(after.sessions.get("default")?.state).toBe("connecting")
    expect(before.sessions.get("default")?.state).toBe("not_started")
  })

  it("a refusal carries the gateway's status and no next state", () => {
    const state = Either.getOrThrow(Rules.startSession("a")(Rules.initialState(settings), 0, settings))[1]
    const refused = Rules.startSession("b")(state, 0, settings)
    expect(Either.isLeft(refused) && refused.left.status).toBe(402)
  })
})
