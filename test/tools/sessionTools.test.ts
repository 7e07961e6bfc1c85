import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { LimitReached, NotFound, Timeout, Unauthorized } from "../../src/errors/ChatKaziError.js"
import { ChatKaziTest } from "../../src/services/ChatKaziTest.js"
import { Linking } from "../../src/services/Linking.js"
import { getSessionQr } from "../../src/tools/getSessionQr.js"
import { getSessionStatus } from "../../src/tools/getSessionStatus.js"
import { listSessions } from "../../src/tools/listSessions.js"
import { logoutSession } from "../../src/tools/logoutSession.js"
import { startSession } from "../../src/tools/startSession.js"
import { json, makeFakeHttp } from "../support/FakeHttpClient.js"
import { API, chatKaziLayer } from "../support/gateway.js"
import { callTool, PNG_SIGNATURE, problemsOf, structuredContent, stubChatKazi, toolLayer } from "../support/tools.js"

const gateway = (sessions: Record<string, string>) => Effect.provide(toolLayer({ sessions }))

describe("list_sessions", () => {
  it.effect("lists each session with its state, what it means and the next step", () =>
    Effect.gen(function*() {
      const reply = yield* callTool(listSessions, {})
      expect(reply.data).toStrictEqual({
        count: 2,
        sessions: [
          {
            sessionId: "default",
            state: "connected",
            meaning: "the session is online",
            nextStep: "messages can be sent from this session",
            details: {}
          },
          {
            sessionId: "shop",
            state: "qr_ready",
            meaning: "a QR code is ready to link the phone",
            nextStep: expect.stringContaining("get_session_qr"),
            details: {}
          }
        ]
      })
      expect(reply.text).toBe(
        "The account has 2 session(s):\n" +
          '- Session "default": connected (the session is online). Next: messages can be sent from this session.\n' +
          '- Session "shop": qr_ready (a QR code is ready to link the phone). Next: retrieve the QR with get_session_qr ' +
          "and have the user scan it in WhatsApp > Settings > Linked devices > Link a device."
      )
      expect(yield* structuredContent(listSessions, reply.data)).toStrictEqual(reply.data)
    }).pipe(gateway({ default: "connected", shop: "qr_ready" })))

  it.effect("an empty account points at start_session", () =>
    Effect.gen(function*() {
      const reply = yield* callTool(listSessions, {})
      expect(reply.data).toStrictEqual({ count: 0, sessions: [] })
      expect(reply.text).toContain("start_session")
      expect(yield* structuredContent(listSessions, reply.data)).toStrictEqual({ count: 0, sessions: [] })
    }).pipe(gateway({})))

  it.effect("takes no arguments: a call without an arguments object works", () =>
    Effect.gen(function*() {
      yield* callTool(listSessions, undefined)
      expect((yield* ChatKaziTest).calls.map((c) => c.operation)).toEqual(["listSessions"])
    }).pipe(gateway({})))

  it.effect("arguments it does not take are refused by name, and nothing is asked of the gateway", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(callTool(listSessions, { sessionId: "default", limit: 5 }))
      expect(problemsOf(error)).toEqual([
        "sessionId: is unexpected: this tool takes no arguments",
        "limit: is unexpected: this tool takes no arguments"
      ])
      expect((yield* ChatKaziTest).calls).toEqual([])
    }).pipe(gateway({})))

  it.effect("a rejected key tells the model it is a CHATKAZI_API_KEY problem", () =>
    Effect.gen(function*() {
      ;(yield* ChatKaziTest).failNext("listSessions", new Unauthorized({ status: 401, gatewayMessage: "Invalid API key" }))
      const error = yield* Effect.flip(callTool(listSessions, {}))
      expect(error._tag).toBe("Unauthorized")
      expect(error.message).toContain("CHATKAZI_API_KEY")
      expect(error.message).toContain('"Invalid API key"')
      expect(error.message).toContain("not something a retry fixes")
    }).pipe(gateway({})))

  it.effect("unknown session fields from the real gateway are shown to the model", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route(
        "GET",
        `${API}/sessions`,
        json({ success: true, data: [{ id: "s1", status: "connected", phone: "254700000001" }] })
      )
      const reply = yield* callTool(listSessions, {}).pipe(Effect.provide(chatKaziLayer(fake)))
      expect(reply.data.sessions[0]).toMatchObject({ sessionId: "s1", state: "connected", details: { phone: "254700000001" } })
      expect(yield* structuredContent(listSessions, reply.data)).toStrictEqual(reply.data)
    }))
})

describe("start_session", () => {
  it.effect("with no arguments starts the default session and says to fetch the QR", () =>
    Effect.gen(function*() {
      const reply = yield* callTool(startSession, {})
      expect((yield* ChatKaziTest).calls).toStrictEqual([{ operation: "startSession", argument: "default" }])
      expect(reply.data).toMatchObject({ sessionId: "default", state: "qr_ready", details: {} })
      expect(reply.text).toMatch(/^Started\. Session "default": qr_ready \(a QR code is ready to link the phone\)\. Next: retrieve the QR with get_session_qr/)
      expect(yield* structuredContent(startSession, reply.data)).toStrictEqual(reply.data)
    }).pipe(gateway({})))

  it.effect("an active session is a Conflict that points at get_session_status and logout_session", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(callTool(startSession, { sessionId: "shop" }))
      expect(error).toMatchObject({ _tag: "Conflict", gatewayMessage: "session shop is already connected" })
      expect(error.message).toContain("get_session_status")
      expect(error.message).toContain("logout_session")
      expect(error.message).toContain("session shop is already connected")
    }).pipe(gateway({ shop: "connected" })))

  it.effect("the plan limit says not to retry and to upgrade or free a session", () =>
    Effect.gen(function*() {
      ;(yield* ChatKaziTest).failNext("startSession", new LimitReached({ gatewayMessage: "WhatsApp instance limit reached" }))
      const error = yield* Effect.flip(callTool(startSession, { sessionId: "second" }))
      expect(error.message).toContain("Do not retry")
      expect(error.message).toContain("upgrade")
      expect(error.message).toContain("WhatsApp instance limit reached")
    }).pipe(gateway({})))

  it.effect("a blank session id is refused without calling the gateway", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(callTool(startSession, { sessionId: "  " }))
      expect(problemsOf(error)).toEqual([
        "sessionId: must be 1 to 64 letters, digits, dots, underscores or dashes (a session id as list_sessions shows it)"
      ])
      expect((yield* ChatKaziTest).calls).toEqual([])
    }).pipe(gateway({})))
})

describe("get_session_status", () => {
  it.effect("explains the state and the next step", () =>
    Effect.gen(function*() {
      const reply = yield* callTool(getSessionStatus, { sessionId: "shop" })
      expect(reply.data).toStrictEqual({
        sessionId: "shop",
        state: "disconnected",
        meaning: "the connection dropped or failed",
        nextStep: expect.stringContaining("start_session"),
        details: {}
      })
      expect(reply.text).toContain('Session "shop": disconnected (the connection dropped or failed). Next: call start_session')
      expect(yield* structuredContent(getSessionStatus, reply.data)).toStrictEqual(reply.data)
    }).pipe(gateway({ shop: "disconnected" })))

  it.effect("an unknown session is NotFound, pointing at list_sessions", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(callTool(getSessionStatus, { sessionId: "nope" }))
      expect(error).toMatchObject({ _tag: "NotFound", gatewayMessage: "session nope not found" })
      expect(error.message).toContain("list_sessions")
    }).pipe(gateway({})))

  it.effect("sessionId is required", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(callTool(getSessionStatus, {}))
      expect(problemsOf(error)).toEqual(["sessionId: is missing"])
      expect((yield* ChatKaziTest).calls).toEqual([])
    }).pipe(gateway({})))

  it.effect("a state this server does not know is shown as is, with the gateway's extra fields", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route(
        "GET",
        `${API}/session/status`,
        json({ success: true, data: { state: "SYNCING", battery: 81, pairingCode: "K7QX-22PL" } })
      )
      const reply = yield* callTool(getSessionStatus, { sessionId: "shop" }).pipe(Effect.provide(chatKaziLayer(fake)))
      expect(reply.data).toMatchObject({ sessionId: "shop", state: "SYNCING", pairingCode: "K7QX-22PL", details: { battery: 81 } })
      expect(reply.data.meaning).toContain('"SYNCING"')
      expect(reply.text).toContain("Pairing code: K7QX-22PL.")
      expect(reply.text).toContain('Other fields from ChatKazi: {"battery":81}')
      expect(yield* structuredContent(getSessionStatus, reply.data)).toStrictEqual(reply.data)
    }))

  it.effect("a gateway timeout reaches the model as guidance naming CHATKAZI_TIMEOUT_MS", () =>
    Effect.gen(function*() {
      ;(yield* ChatKaziTest).failNext("sessionStatus", new Timeout({ timeoutMs: 30_000 }))
      const error = yield* Effect.flip(callTool(getSessionStatus, { sessionId: "shop" }))
      expect(error.message).toContain("30000 ms")
      expect(error.message).toContain("CHATKAZI_TIMEOUT_MS")
    }).pipe(gateway({ shop: "connected" })))
})

describe("get_session_qr", () => {
  it.effect("a raw QR payload is drawn here as a PNG image and given as text too", () =>
    Effect.gen(function*() {
      const reply = yield* callTool(getSessionQr, { sessionId: "shop" })
      expect(reply.data).toStrictEqual({
        sessionId: "shop",
        state: "qr_ready",
        qr: "2@test-qr-shop",
        format: "payload",
        details: {}
      })
      expect(reply.images).toHaveLength(1)
      const [image] = reply.images!
      expect(image!.mimeType).toBe("image/png")
      const png = Buffer.from(image!.data, "base64")
      expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE)
      expect(png.length).toBeGreaterThan(200)
      expect(reply.text).toContain('QR code for session "shop" attached as an image')
      expect(reply.text).toContain("QR payload: 2@test-qr-shop")
      expect(reply.text).toContain("wait_for_session")
      expect(yield* structuredContent(getSessionQr, reply.data)).toStrictEqual(reply.data)
    }).pipe(gateway({ shop: "qr_ready" })))

  it.effect("a data: URL image is passed through as the image, and abbreviated in the data", () =>
    Effect.gen(function*() {
      const base64 = Buffer.from([...PNG_SIGNATURE, ...Array(64).fill(7)]).toString("base64")
      const dataUrl = `data:image/png;base64,${base64}`
      const reply = yield* callTool(getSessionQr, { sessionId: "shop" }).pipe(
        Effect.provide(stubChatKazi({
          sessionQr: (sessionId) => Effect.succeed({ sessionId, state: "qr_ready", qr: dataUrl, details: {} })
        })),
        Effect.provide(Linking.layerTest())
      )
      expect(reply.images).toStrictEqual([{ mimeType: "image/png", data: base64 }])
      expect(reply.data.format).toBe("image")
      expect(reply.data.qr).toBe(`${dataUrl.slice(0, 48)}... (${dataUrl.length} characters)`)
      expect(reply.text).not.toContain(base64)
      expect(yield* structuredContent(getSessionQr, reply.data)).toStrictEqual(reply.data)
    }))

  it.effect("an https link gives no image, and the link in the text", () =>
    Effect.gen(function*() {
      const link = "https://api.chatkazi.app/qr/shop?token=abc"
      const reply = yield* callTool(getSessionQr, { sessionId: "shop" }).pipe(
        Effect.provide(stubChatKazi({
          sessionQr: (sessionId) => Effect.succeed({ sessionId, qr: link, pairingCode: "ABCD-EFGH", details: {} })
        })),
        Effect.provide(Linking.layerTest())
      )
      expect(reply.images).toEqual([])
      expect(reply.data).toStrictEqual({ sessionId: "shop", qr: link, pairingCode: "ABCD-EFGH", format: "link", details: {} })
      expect(reply.text).toContain(`Open this link to show the QR code for session "shop": ${link}`)
      expect(reply.text).toContain("Pairing code (WhatsApp > Linked devices > Link with phone number): ABCD-EFGH")
      expect(yield* structuredContent(getSessionQr, reply.data)).toStrictEqual(reply.data)
    }))

  it.effect("a connected session has no QR: no image, and the text says why and what next", () =>
    Effect.gen(function*() {
      const reply = yield* callTool(getSessionQr, { sessionId: "shop" })
      expect(reply.images).toEqual([])
      expect(reply.data).toStrictEqual({ sessionId: "shop", state: "connected", format: "none", details: {} })
      expect(reply.text).toBe(
        'No QR code is available for session "shop" right now (state: connected, the session is online). ' +
          "Next: messages can be sent from this session."
      )
      expect(yield* structuredContent(getSessionQr, reply.data)).toStrictEqual(reply.data)
    }).pipe(gateway({ shop: "connected" })))

  it.effect("the QR from the real gateway's qrCode field is drawn too", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route(
        "GET",
        `${API}/session/qr`,
        json({ success: true, data: { qrCode: "2@Xyz,abc==,def==", status: "qr_ready" } })
      )
      const reply = yield* callTool(getSessionQr, { sessionId: "s.1_x" }).pipe(
        Effect.provide([chatKaziLayer(fake), Linking.layerTest()])
      )
      expect(fake.requests[0]!.query.get("sessionId")).toBe("s.1_x")
      expect(reply.data).toMatchObject({ sessionId: "s.1_x", format: "payload", qr: "2@Xyz,abc==,def==" })
      expect([...Buffer.from(reply.images![0]!.data, "base64").subarray(0, 8)]).toEqual(PNG_SIGNATURE)
    }))
})

describe("logout_session", () => {
  it.effect("logs out and says the phone must be linked again", () =>
    Effect.gen(function*() {
      const reply = yield* callTool(logoutSession, { sessionId: "shop" })
      expect((yield* ChatKaziTest).calls).toStrictEqual([{ operation: "logoutSession", argument: "shop" }])
      expect(reply.data).toMatchObject({ sessionId: "shop", state: "logged_out" })
      expect(reply.text).toMatch(/^Logged out\. Session "shop": logged_out .*start_session/)
      expect(yield* structuredContent(logoutSession, reply.data)).toStrictEqual(reply.data)
    }).pipe(gateway({ shop: "connected" })))

  it.effect("a gateway answer without a state still reads as logged out", () =>
    Effect.gen(function*() {
      const reply = yield* callTool(logoutSession, { sessionId: "shop" }).pipe(
        Effect.provide(stubChatKazi({ logoutSession: (sessionId) => Effect.succeed({ sessionId, details: { ok: true } }) }))
      )
      expect(reply.data).toMatchObject({ state: "logged_out", details: { ok: true } })
      expect(reply.text).toContain('Other fields from ChatKazi: {"ok":true}')
    }))

  it.effect("an unknown session is NotFound, pointing at list_sessions", () =>
    Effect.gen(function*() {
      ;(yield* ChatKaziTest).failNext("logoutSession", new NotFound({}))
      const error = yield* Effect.flip(callTool(logoutSession, { sessionId: "shop" }))
      expect(error.message).toContain("list_sessions")
    }).pipe(gateway({ shop: "connected" })))
})

