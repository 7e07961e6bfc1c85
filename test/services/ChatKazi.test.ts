import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Logger, Option, TestClock } from "effect"
import type { ChatKaziError } from "../../src/errors/ChatKaziError.js"
import { decodeInput } from "../../src/tools/Tool.js"
import { startSession } from "../../src/tools/startSession.js"
import {
  awaiting,
  brokenBody,
  hang,
  json,
  makeFakeHttp,
  respond,
  transportFailure
} from "../support/FakeHttpClient.js"
import { API, API_KEY, liveChatKazi } from "../support/gateway.js"

const ORIGIN = "https://gw.example.test"
const text = { sessionId: "default", to: "254712345678", text: "Habari!" }
const media = { sessionId: "default", to: "254712345678", url: "https://cdn.example.com/a.jpg", type: "image" as const }

describe("ChatKazi requests", () => {
  it.effect("GET /sessions carries the key, asks for JSON, and has no // after a trailing-slash base URL", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route("GET", `${API}/sessions`, json({ success: true, data: [] }))
      const chatKazi = yield* liveChatKazi(fake)
      yield* chatKazi.listSessions
      expect(fake.requests).toHaveLength(1)
      const [request] = fake.requests
      expect(request!.method).toBe("GET")
      expect(request!.url).toBe(`${ORIGIN}/api/v1/sessions`)
      expect(request!.url).not.toMatch(/[^:]\/\//)
      expect(request!.headers["x-api-key"]).toBe(API_KEY)
      expect(request!.headers["accept"]).toBe("application/json")
      expect(request!.body).toBeUndefined()
    }))

  it.effect("status and qr put a sessionId with spaces and & into an encoded query", () =>
    Effect.gen(function*() {
      const id = "my shop & co"
      const fake = makeFakeHttp()
        .route("GET", `${API}/session/status`, json({ data: { status: "connected" } }))
        .route("GET", `${API}/session/qr`, json({ data: { qr: "2@abc" } }))
      const chatKazi = yield* liveChatKazi(fake)
      yield* chatKazi.sessionStatus(id)
      yield* chatKazi.sessionQr(id)
      expect(fake.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
        `GET ${ORIGIN}/api/v1/session/status?sessionId=my+shop+%26+co`,
        `GET ${ORIGIN}/api/v1/session/qr?sessionId=my+shop+%26+co`
      ])
      for (const request of fake.requests) {
        expect([...request.query.keys()]).toEqual(["sessionId"])
        expect(request.query.get("sessionId")).toBe(id)
        expect(request.headers["x-api-key"]).toBe(API_KEY)
      }
    }))

  it.effect("start_session with no arguments POSTs {sessionId:\"default\"} as JSON", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route("POST", `${API}/session/start`, json({ success: true, data: { status: "qr_ready" } }))
      const chatKazi = yield* liveChatKazi(fake)
      const input = yield* decodeInput(startSession, {})
      yield* chatKazi.startSession(input.sessionId)
      const [request] = fake.requests
      expect(request!.method).toBe("POST")
      expect(request!.url).toBe(`${ORIGIN}/api/v1/session/start`)
      expect(request!.contentType).toBe("application/json")
      expect(request!.headers["x-api-key"]).toBe(API_KEY)
      expect(request!.body).toStrictEqual({ sessionId: "default" })
    }))

  it.effect("logout, text and media POST exactly the documented bodies", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp()
        .route("POST", `${API}/session/logout`, json({ success: true }))
        .route("POST", `${API}/messages/text`, json({ success: true, data: { messageId: "m1" } }))
        .route("POST", `${API}/messages/media`, json({ success: true, data: { messageId: "m2" } }))
      const chatKazi = yield* liveChatKazi(fake)
      yield* chatKazi.logoutSession("shop 1")
      yield* chatKazi.sendText(text)
      yield* chatKazi.sendMedia({ ...media, caption: undefined, mimetype: undefined, fileName: undefined })
      yield* chatKazi.sendMedia({ ...media, type: "document", caption: "Invoice", mimetype: "application/pdf", fileName: "inv.pdf" })
      expect(fake.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
        `POST ${ORIGIN}/api/v1/session/logout`,
        `POST ${ORIGIN}/api/v1/messages/text`,
        `POST ${ORIGIN}/api/v1/messages/media`,
        `POST ${ORIGIN}/api/v1/messages/media`
      ])
      expect(fake.requests.map((r) => r.contentType)).toEqual(Array(4).fill("application/json"))
      expect(fake.requests.map((r) => r.headers["x-api-key"])).toEqual(Array(4).fill(API_KEY))
      expect(fake.requests[0]!.body).toStrictEqual({ sessionId: "shop 1" })
      expect(fake.requests[1]!.body).toStrictEqual({ sessionId: "default", to: "254712345678", text: "Habari!" })
      // Optional fields the caller did not give are absent, not null.
      expect(fake.requests[2]!.bodyText).not.toContain("null")
      expect(fake.requests[2]!.body).toStrictEqual({
        sessionId: "default",
        to: "254712345678",
        url: "https://cdn.example.com/a.jpg",
        type: "image"
      })
      expect(fake.requests[3]!.body).toStrictEqual({
        sessionId: "default",
        to: "254712345678",
        url: "https://cdn.example.com/a.jpg",
        type: "document",
        caption: "Invoice",
        mimetype: "application/pdf",
        fileName: "inv.pdf"
      })
    }))
})

describe("ChatKazi success bodies", () => {
  it.effect("a session list in an envelope, with every id and state spelling, keeps unknown fields", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route(
        "GET",
        `${API}/sessions`,
        json({
          success: true,
          data: [
            { sessionId: "a", status: "connected", phone: "254700000001" },
            { id: "b", state: "qr_ready" },
            { session: "c", status: "logged_out", createdAt: "2026-01-01", webhook: { url: "https://x" } }
          ]
        })
      )
      const sessions = yield* (yield* liveChatKazi(fake)).listSessions
      expect(sessions).toStrictEqual([
        { sessionId: "a", state: "connected", details: { phone: "254700000001" } },
        { sessionId: "b", state: "qr_ready", details: {} },
        { sessionId: "c", state: "logged_out", details: { createdAt: "2026-01-01", webhook: { url: "https://x" } } }
      ])
    }))

  it.effect("a bare array and data.sessions are both session lists", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route(
        "GET",
        `${API}/sessions`,
        json([{ id: "x", status: "connected" }]),
        json({ data: { sessions: [{ sessionId: "y", state: "connecting" }], total: 1 } })
      )
      const chatKazi = yield* liveChatKazi(fake)
      expect(yield* chatKazi.listSessions).toStrictEqual([{ sessionId: "x", state: "connected", details: {} }])
      expect(yield* chatKazi.listSessions).toStrictEqual([{ sessionId: "y", state: "connecting", details: {} }])
    }))

  it.effect("a status without an id is the requested session; bare bodies and a pairing code are understood", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route(
        "GET",
        `${API}/session/status`,
        json({ success: true, data: { status: "connected", phone: "254711111111" } }),
        json({ state: "pairing_code_ready", pairingCode: "ABCD-1234", sessionId: "shop" }),
        json({ success: true, data: "disconnected" })
      )
      const chatKazi = yield* liveChatKazi(fake)
      expect(yield* chatKazi.sessionStatus("shop")).toStrictEqual({
        sessionId: "shop",
        state: "connected",
        details: { phone: "254711111111" }
      })
      expect(yield* chatKazi.sessionStatus("shop")).toStrictEqual({
        sessionId: "shop",
        state: "pairing_code_ready",
        pairingCode: "ABCD-1234",
        details: {}
      })
      expect(yield* chatKazi.sessionStatus("shop")).toStrictEqual({ sessionId: "shop", state: "disconnected", details: {} })
    }))

  it.effect.each([
    ["qr", { qr: "2@payload" }],
    ["qrCode", { qrCode: "2@payload" }],
    ["qr_code", { qr_code: "2@payload" }],
    ["link", { link: "2@payload" }],
    ["url", { url: "2@payload" }]
  ] as const)("the QR named %s is found", ([, data]) =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route("GET", `${API}/session/qr`, json({ success: true, data: { ...data, status: "qr_ready" } }))
      const qr = yield* (yield* liveChatKazi(fake)).sessionQr("s1")
      expect(qr).toStrictEqual({ sessionId: "s1", qr: "2@payload", state: "qr_ready", details: {} })
    }))

  it.effect("a pairing code named code is found, unknown QR fields are kept in details", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route(
        "GET",
        `${API}/session/qr`,
        json({ data: { code: "WXYZ-9876", status: "pairing_code_ready", expiresIn: 60 } })
      )
      const qr = yield* (yield* liveChatKazi(fake)).sessionQr("s1")
      expect(qr).toStrictEqual({
        sessionId: "s1",
        state: "pairing_code_ready",
        pairingCode: "WXYZ-9876",
        details: { expiresIn: 60 }
      })
    }))

  it.effect("a send receipt reads the message id and status and keeps the rest", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route(
        "POST",
        `${API}/messages/text`,
        json({ success: true, data: { key: { id: "ABC123", remoteJid: "254712345678@s.whatsapp.net" }, status: "PENDING" } }),
        json({})
      )
      const chatKazi = yield* liveChatKazi(fake)
      expect(yield* chatKazi.sendText(text)).toStrictEqual({
        messageId: "ABC123",
        status: "PENDING",
        details: { key: { id: "ABC123", remoteJid: "254712345678@s.whatsapp.net" } }
      })
      expect(yield* chatKazi.sendText({ ...text, text: "second" })).toStrictEqual({ details: {} })
    }))

  it.effect("fields that were not used as the id, state, QR or pairing code stay in details", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp()
        .route(
          "GET",
          `${API}/sessions`,
          json({ data: [{ sessionId: "shop", id: "inst_7", name: "Shop phone", status: "connected", state: "open" }] })
        )
        .route(
          "GET",
          `${API}/session/qr`,
          json({ data: { qr: "2@payload", url: "https://gw.example.test/qr/shop", code: "K7QX-22PL", pairing_code: "x" } })
        )
      const chatKazi = yield* liveChatKazi(fake)
      expect(yield* chatKazi.listSessions).toStrictEqual([
        { sessionId: "shop", state: "connected", details: { id: "inst_7", name: "Shop phone", state: "open" } }
      ])
      expect(yield* chatKazi.sessionQr("shop")).toStrictEqual({
        sessionId: "shop",
        qr: "2@payload",
        pairingCode: "x",
        details: { url: "https://gw.example.test/qr/shop", code: "K7QX-22PL" }
      })
    }))

  it.effect("a numeric code in a bare body is not mistaken for a pairing code", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route(
        "GET",
        `${API}/session/status`,
        json({ code: 200, sessionId: "shop", status: "connected" })
      )
      const session = yield* (yield* liveChatKazi(fake)).sessionStatus("shop")
      expect(session).toStrictEqual({ sessionId: "shop", state: "connected", details: { code: 200 } })
    }))

  it.effect("a list body that is not a list is an answer this server does not understand", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route("GET", `${API}/sessions`, json({ success: true, data: 42 }))
      const error = yield* Effect.flip((yield* liveChatKazi(fake, { maxRetries: 0 })).listSessions)
      expect(error._tag).toBe("UpstreamUnavailable")
      expect(error.message).toContain("does not understand")
    }))
})

describe("ChatKazi error statuses", () => {
  const statusCases = [
    [401, { message: "Invalid API key" }, { _tag: "Unauthorized", status: 401, gatewayMessage: "Invalid API key" }],
    [403, { error: "Forbidden for this key" }, { _tag: "Unauthorized", status: 403, gatewayMessage: "Forbidden for this key" }],
    [402, { success: false, message: "WhatsApp instance limit reached" }, {
      _tag: "LimitReached",
      gatewayMessage: "WhatsApp instance limit reached"
    }],
    [404, { error: "Session not found" }, { _tag: "NotFound", gatewayMessage: "Session not found" }],
    [409, { message: "Session already active" }, { _tag: "Conflict", gatewayMessage: "Session already active" }],
    [400, { message: "sessionId is required" }, { _tag: "InvalidRequest", status: 400, gatewayMessage: "sessionId is required" }],
    [422, { error: { message: "to must be digits" } }, { _tag: "InvalidRequest", status: 422, gatewayMessage: "to must be digits" }]
  ] as const

  it.effect.each(statusCases)("HTTP %i on a read is its typed error with the gateway's text, asked once", ([status, body, expected]) =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route("GET", `${API}/session/status`, respond(status, body))
      const error = yield* Effect.flip((yield* liveChatKazi(fake)).sessionStatus("s1"))
      expect(error).toMatchObject(expected)
      expect(fake.requests).toHaveLength(1)
    }))

  it.effect.each(statusCases)("HTTP %i on a send keeps its meaning (nothing was sent) and is not retried", ([status, body, expected]) =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route("POST", `${API}/messages/text`, respond(status, body))
      const error = yield* Effect.flip((yield* liveChatKazi(fake)).sendText(text))
      expect(error).toMatchObject(expected)
      expect(fake.requests).toHaveLength(1)
    }))

  it.effect("429 with Retry-After in seconds is RateLimited with that wait when it is too long to wait here", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route(
        "GET",
        `${API}/sessions`,
        respond(429, { message: "Too many requests" }, { "retry-after": "120" })
      )
      const error = yield* Effect.flip((yield* liveChatKazi(fake)).listSessions)
      expect(error).toMatchObject({ _tag: "RateLimited", retryAfterSeconds: 120, gatewayMessage: "Too many requests" })
      expect(error.message).toContain("120 seconds")
      expect(fake.requests).toHaveLength(1)
    }))

  it.effect("429 with Retry-After as an HTTP date counts the seconds from now", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2026, 10, 24, 12, 0, 0))
      const fake = makeFakeHttp().route(
        "POST",
        `${API}/messages/text`,
        respond(429, { error: "slow down" }, { "retry-after": new Date(Date.UTC(2026, 10, 24, 12, 1, 30)).toUTCString() })
      )
      const error = yield* Effect.flip((yield* liveChatKazi(fake)).sendText(text))
      expect(error).toMatchObject({ _tag: "RateLimited", retryAfterSeconds: 90, gatewayMessage: "slow down" })
      expect(fake.requests).toHaveLength(1)
    }))

  it.effect("a short Retry-After is waited out on the clock, then the request is repeated", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route(
        "GET",
        `${API}/sessions`,
        respond(429, { message: "busy" }, { "retry-after": "5" }),
        json({ data: [] })
      )
      const chatKazi = yield* liveChatKazi(fake)
      const fiber = yield* Effect.fork(chatKazi.listSessions)
      yield* TestClock.adjust("4 seconds")
      expect(fake.requests).toHaveLength(1)
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(fiber)).toEqual([])
      expect(fake.requests).toHaveLength(2)
    }))

  it.effect.each([500, 503])("HTTP %i is UpstreamUnavailable with the gateway's message", (status) =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route("GET", `${API}/sessions`, respond(status, { message: "gateway restarting" }))
      const error = yield* Effect.flip((yield* liveChatKazi(fake, { maxRetries: 0 })).listSessions)
      expect(error).toMatchObject({ _tag: "UpstreamUnavailable", status, gatewayMessage: "gateway restarting" })
      expect(error.message).toContain(`HTTP ${status}`)
    }))

  it.effect("an HTML error page from a proxy is UpstreamUnavailable with its words, not a parse crash", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route(
        "GET",
        `${API}/sessions`,
        respond(502, "<html><head><title>502</title></head><body><h1>Bad Gateway</h1></body></html>", {
          "content-type": "text/html"
        })
      )
      const error = yield* Effect.flip((yield* liveChatKazi(fake, { maxRetries: 0 })).listSessions)
      expect(error).toMatchObject({ _tag: "UpstreamUnavailable", status: 502, gatewayMessage: "502 Bad Gateway" })
    }))

  it.effect("a 200 that is not JSON is UpstreamUnavailable on a read", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route("GET", `${API}/sessions`, respond(200, "<html>Welcome to nginx!</html>"))
      const error = yield* Effect.flip((yield* liveChatKazi(fake, { maxRetries: 0 })).listSessions)
      expect(error).toMatchObject({ _tag: "UpstreamUnavailable", gatewayMessage: "Welcome to nginx!" })
      expect(error.message).toContain("not JSON")
    }))

  it.effect("a 200 whose body says success: false is the gateway's refusal, not a sent message", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp()
        .route("POST", `${API}/messages/text`, json({ success: false, message: "Session default is not connected" }))
        .route("POST", `${API}/messages/media`, json({ success: false, error: "Failed to download media" }))
      const chatKazi = yield* liveChatKazi(fake)
      const error = yield* Effect.flip(chatKazi.sendText(text))
      expect(error).toMatchObject({ _tag: "InvalidRequest", status: 200, gatewayMessage: "Session default is not connected" })
      expect(error.message).toContain("Session default is not connected")
      const mediaError = yield* Effect.flip(chatKazi.sendMedia(media))
      expect(mediaError).toMatchObject({ _tag: "EmptyMedia", url: media.url })
      expect(fake.requests).toHaveLength(2)
    }))

  it.effect("a 200 that is not JSON after a send is DeliveryUncertain, sent once", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route("POST", `${API}/messages/text`, respond(200, "<html>OK</html>"))
      const error = yield* Effect.flip((yield* liveChatKazi(fake)).sendText(text))
      expect(error._tag).toBe("DeliveryUncertain")
      expect(fake.requests).toHaveLength(1)
    }))
})

describe("ChatKazi retry policy", () => {
  it.effect("a read that gets two 503s and then 200 succeeds after exactly three requests", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route(
        "GET",
        `${API}/session/status`,
        respond(503, { message: "busy" }),
        respond(503, { message: "busy" }),
        json({ data: { status: "connected" } })
      )
      const session = yield* (yield* liveChatKazi(fake, { maxRetries: 2 })).sessionStatus("s1")
      expect(session.state).toBe("connected")
      expect(fake.requests).toHaveLength(3)
    }))

  it.effect("each retry is logged as a warning naming the operation and what failed (never the key)", () => {
    const logs: Array<string> = []
    const capture = Logger.replace(
      Logger.defaultLogger,
      Logger.make(({ logLevel, message }) => void logs.push(`${logLevel.label} ${[message].flat().join(" ")}`))
    )
    return Effect.gen(function*() {
      const fake = makeFakeHttp().route(
        "GET",
        `${API}/session/status`,
        respond(503, { message: "busy" }),
        respond(503, { message: "busy" }),
        json({ data: { status: "connected" } })
      )
      yield* (yield* liveChatKazi(fake, { maxRetries: 2 })).sessionStatus("s1")
      expect(logs).toEqual([
        "WARN ChatKazi get_session_status: HTTP 503; retrying (retry 1 of 2)",
        "WARN ChatKazi get_session_status: HTTP 503; retrying (retry 2 of 2)"
      ])
      const failing = makeFakeHttp().route("GET", `${API}/sessions`, respond(503))
      yield* Effect.flip((yield* liveChatKazi(failing, { maxRetries: 1 })).listSessions)
      expect(logs).toHaveLength(3) // the last failure is not followed by a retry, so it is not announced
      expect(logs.join("\n")).not.toContain(API_KEY)
    }).pipe(Effect.provide(capture))
  })

  it.effect("a read that keeps failing gives up after maxRetries + 1 requests", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route("GET", `${API}/sessions`, respond(503, { message: "down" }))
      const error = yield* Effect.flip((yield* liveChatKazi(fake, { maxRetries: 3 })).listSessions)
      expect(error).toMatchObject({ _tag: "UpstreamUnavailable", status: 503, gatewayMessage: "down" })
      expect(fake.requests).toHaveLength(4)
    }))

  it.effect("a read retries a connection reset too", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route("GET", `${API}/sessions`, transportFailure("ECONNRESET"), json({ data: [] }))
      expect(yield* (yield* liveChatKazi(fake)).listSessions).toEqual([])
      expect(fake.requests).toHaveLength(2)
    }))

  it.effect("retries back off on the clock: nothing is repeated before the first delay has passed", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route("GET", `${API}/sessions`, respond(503), json({ data: [] }))
      const chatKazi = yield* liveChatKazi(fake, { retryBaseDelayMs: 1_000, maxRetries: 1 })
      const fiber = yield* Effect.fork(chatKazi.listSessions)
      yield* TestClock.adjust("1 millis")
      expect(fake.requests).toHaveLength(1)
      yield* TestClock.adjust("10 seconds")
      expect(yield* Fiber.join(fiber)).toEqual([])
      expect(fake.requests).toHaveLength(2)
    }))

  const writes = [
    ["startSession", "/session/start"],
    ["logoutSession", "/session/logout"],
    ["sendText", "/messages/text"],
    ["sendMedia", "/messages/media"]
  ] as const

  const callWrite = (
    chatKazi: Effect.Effect.Success<ReturnType<typeof liveChatKazi>>,
    operation: (typeof writes)[number][0]
  ): Effect.Effect<unknown, ChatKaziError> => {
    switch (operation) {
      case "startSession":
        return chatKazi.startSession("default")
      case "logoutSession":
        return chatKazi.logoutSession("default")
      case "sendText":
        return chatKazi.sendText(text)
      case "sendMedia":
        return chatKazi.sendMedia(media)
    }
  }

  it.effect.each(writes)("%s that gets a 500 reaches the gateway once and is DeliveryUncertain", ([operation, path]) =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route("POST", `${API}${path}`, respond(500, { message: "internal error" }))
      const error = yield* Effect.flip(callWrite(yield* liveChatKazi(fake), operation))
      expect(error._tag).toBe("DeliveryUncertain")
      expect(error).toMatchObject({ reason: "HTTP 500: internal error" })
      expect(error.message).toContain("not retried")
      expect(fake.requests).toHaveLength(1)
    }))

  it.effect.each(writes)("%s whose connection resets reaches the gateway once and is DeliveryUncertain", ([operation, path]) =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route("POST", `${API}${path}`, transportFailure("ECONNRESET"), json({ success: true }))
      const error = yield* Effect.flip(callWrite(yield* liveChatKazi(fake), operation))
      expect(error._tag).toBe("DeliveryUncertain")
      expect(error).toMatchObject({ reason: expect.stringContaining("ECONNRESET") })
      expect(fake.requests).toHaveLength(1)
    }))

  it.effect.each(writes)("%s that times out reaches the gateway once and is DeliveryUncertain", ([operation, path]) =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route("POST", `${API}${path}`, hang, json({ success: true }))
      const chatKazi = yield* liveChatKazi(fake, { timeoutMs: 5_000 })
      const fiber = yield* Effect.fork(Effect.flip(callWrite(chatKazi, operation)))
      yield* TestClock.adjust("4999 millis")
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      yield* TestClock.adjust("1 millis")
      const error = yield* Fiber.join(fiber)
      expect(error).toMatchObject({ _tag: "DeliveryUncertain", reason: "no answer within 5000 ms" })
      expect(fake.requests).toHaveLength(1)
      expect(fake.inFlight()).toBe(0)
    }))

  it.effect("a send whose answer breaks while being read is DeliveryUncertain, sent once", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route("POST", `${API}/messages/text`, brokenBody(200))
      const error = yield* Effect.flip((yield* liveChatKazi(fake)).sendText(text))
      expect(error._tag).toBe("DeliveryUncertain")
      expect(fake.requests).toHaveLength(1)
    }))

  it.effect.each(writes)("%s refused before connecting (ECONNREFUSED) is retried", ([operation, path]) =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route(
        "POST",
        `${API}${path}`,
        transportFailure("ECONNREFUSED"),
        json({ success: true, data: { sessionId: "default", status: "connected" } })
      )
      yield* callWrite(yield* liveChatKazi(fake), operation)
      expect(fake.requests).toHaveLength(2)
      expect(fake.requests[0]!.body).toStrictEqual(fake.requests[1]!.body)
    }))

  it.effect("a send that is always refused fails as Transport (nothing sent), after maxRetries + 1 tries", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route("POST", `${API}/messages/text`, transportFailure("ECONNREFUSED"))
      const error = yield* Effect.flip((yield* liveChatKazi(fake, { maxRetries: 2 })).sendText(text))
      expect(error).toMatchObject({ _tag: "Transport", mayHaveArrived: false, reason: expect.stringContaining("ECONNREFUSED") })
      expect(error.message).toContain("CHATKAZI_BASE_URL")
      expect(fake.requests).toHaveLength(3)
    }))

  it.effect("a send that gets 429 is retried (the gateway refused it), then succeeds", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route(
        "POST",
        `${API}/messages/text`,
        respond(429, { message: "slow down" }),
        json({ success: true, data: { messageId: "m-after-429" } })
      )
      const receipt = yield* (yield* liveChatKazi(fake)).sendText(text)
      expect(receipt.messageId).toBe("m-after-429")
      expect(fake.requests).toHaveLength(2)
    }))

  it.effect("a read that times out is retried, and is Timeout after the last attempt", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route("GET", `${API}/session/status`, hang)
      const chatKazi = yield* liveChatKazi(fake, { timeoutMs: 2_000, maxRetries: 2 })
      const fiber = yield* Effect.fork(Effect.flip(chatKazi.sessionStatus("s1")))
      yield* TestClock.adjust("2 seconds")
      expect(fake.requests).toHaveLength(2)
      yield* TestClock.adjust("2 seconds")
      yield* TestClock.adjust("2 seconds")
      const error = yield* Fiber.join(fiber)
      expect(error).toMatchObject({ _tag: "Timeout", timeoutMs: 2_000 })
      expect(error.message).toContain("CHATKAZI_TIMEOUT_MS")
      expect(fake.requests).toHaveLength(3)
      expect(fake.inFlight()).toBe(0)
    }))
})

describe("ChatKazi and the API key", () => {
  it.effect("no failure the model can read carries the key", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route(
        "POST",
        `${API}/messages/text`,
        transportFailure("ECONNRESET"),
        transportFailure("ECONNREFUSED"),
        respond(401, { message: "bad key" }),
        respond(500, "<h1>oops</h1>"),
        brokenBody(200)
      )
      const chatKazi = yield* liveChatKazi(fake, { maxRetries: 0 })
      for (let i = 0; i < 5; i++) {
        const error = yield* Effect.flip(chatKazi.sendText(text))
        expect(JSON.stringify(error)).not.toContain(API_KEY)
        expect(error.message).not.toContain(API_KEY)
      }
      expect(fake.requests).toHaveLength(5)
      expect(fake.requests.every((r) => !r.url.includes(API_KEY))).toBe(true)
    }))
})

describe("ChatKazi concurrency", () => {
  it.effect("no more than maxConcurrency requests are in flight; the rest wait their turn", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const fake = makeFakeHttp().route(
        "GET",
        `${API}/session/status`,
        awaiting(() => Effect.as(Deferred.await(gate), json({ data: { status: "connected" } })))
      )
      const chatKazi = yield* liveChatKazi(fake, { maxConcurrency: 2 })
      const fiber = yield* Effect.fork(
        Effect.forEach(["a", "b", "c", "d", "e"], (id) => chatKazi.sessionStatus(id), { concurrency: "unbounded" })
      )
      yield* Effect.yieldNow().pipe(Effect.repeatN(50))
      expect(fake.requests).toHaveLength(2)
      expect(fake.inFlight()).toBe(2)
      yield* Deferred.succeed(gate, undefined)
      const sessions = yield* Fiber.join(fiber)
      expect(sessions.map((s) => s.sessionId)).toEqual(["a", "b", "c", "d", "e"])
      expect(fake.requests).toHaveLength(5)
      expect(fake.maxInFlight()).toBe(2)
    }))
})

describe("ChatKazi media sends", () => {
  it.effect.each([
    [400, { message: "Failed to download media from URL" }],
    [422, { error: "File size is 0 bytes" }],
    [400, { error: { message: "Could not fetch the file: 403" } }]
  ] as const)("HTTP %i saying %j is EmptyMedia naming the URL", ([status, body]) =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route("POST", `${API}/messages/media`, respond(status, body))
      const error = yield* Effect.flip((yield* liveChatKazi(fake)).sendMedia(media))
      expect(error._tag).toBe("EmptyMedia")
      expect(error).toMatchObject({ url: media.url })
      expect(error.message).toContain(media.url)
      expect(fake.requests).toHaveLength(1)
    }))

  it.effect.each([
    [404, { message: "Failed to fetch session default" }, "NotFound"],
    [402, { message: "Plan limit: unable to download more media this month" }, "LimitReached"],
    [401, { error: "Could not fetch API key" }, "Unauthorized"]
  ] as const)("HTTP %i keeps its own meaning even when its text mentions fetching (%j)", ([status, body, tag]) =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route("POST", `${API}/messages/media`, respond(status, body))
      const error = yield* Effect.flip((yield* liveChatKazi(fake)).sendMedia(media))
      expect(error._tag).toBe(tag)
    }))

  it.effect("a 400 about something else stays InvalidRequest", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route("POST", `${API}/messages/media`, respond(400, { message: "invalid recipient" }))
      const error = yield* Effect.flip((yield* liveChatKazi(fake)).sendMedia(media))
      expect(error).toMatchObject({ _tag: "InvalidRequest", status: 400, gatewayMessage: "invalid recipient" })
    }))

  it.effect.each([{ size: 0 }, { fileLength: "0" }, { bytes: 0 }])("a success that reports %j is EmptyMedia", (reported) =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route("POST", `${API}/messages/media`, json({ success: true, data: { messageId: "m", ...reported } }))
      const error = yield* Effect.flip((yield* liveChatKazi(fake)).sendMedia(media))
      expect(error).toMatchObject({ _tag: "EmptyMedia", url: media.url })
      expect(fake.requests).toHaveLength(1)
    }))

  it.effect("a success with a real size is a receipt", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route("POST", `${API}/messages/media`, json({ success: true, data: { messageId: "m", size: 2048 } }))
      const receipt = yield* (yield* liveChatKazi(fake)).sendMedia(media)
      expect(receipt).toStrictEqual({ messageId: "m", details: { size: 2048 } })
    }))
})
