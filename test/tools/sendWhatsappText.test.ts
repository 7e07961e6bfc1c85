import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Option, TestClock } from "effect"
import { DeliveryUncertain, LimitReached, Unauthorized } from "../../src/errors/ChatKaziError.js"
import { ChatKaziTest } from "../../src/services/ChatKaziTest.js"
import { sendWhatsappText } from "../../src/tools/sendWhatsappText.js"
import { decodeInput } from "../../src/tools/Tool.js"
import { hang, json, makeFakeHttp } from "../support/FakeHttpClient.js"
import { API, chatKaziLayer } from "../support/gateway.js"
import { callTool, guardLayer, problemsOf, structuredContent, toolLayer } from "../support/tools.js"

const connected = toolLayer({ sessions: { default: "connected", shop: "connected" } })

describe("send_whatsapp_text: the recipient number", () => {
  it.effect.each([
    ["254712345678", "254712345678"],
    ["+254712345678", "254712345678"],
    ["+254 712-345-678", "254712345678"],
    ["(254) 712 345 678", "254712345678"],
    ["254.712.345.678", "254712345678"],
    [" 254712345678 ", "254712345678"],
    [254712345678, "254712345678"],
    ["12345678", "12345678"],
    ["123456789012345", "123456789012345"]
  ] as const)("%j is sent as %s", ([to, expected]) =>
    Effect.gen(function*() {
      const input = yield* decodeInput(sendWhatsappText, { to, text: "Hi" })
      expect(input).toStrictEqual({ to: expected, text: "Hi", sessionId: "default" })
    }))

  it.effect("every problem is listed at once, and nothing is sent", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        callTool(sendWhatsappText, { to: "07123", text: "   ", sessionId: "", priority: "high" })
      )
      const problems = problemsOf(error)
      expect(problems).toHaveLength(4)
      expect(problems.join("\n")).toMatch(/^to: "07123" looks like a local/m)
      expect(problems.join("\n")).toMatch(/^text: must not be empty/m)
      expect(problems).toContain(
        "sessionId: must be 1 to 64 letters, digits, dots, underscores or dashes (a session id as list_sessions shows it)"
      )
      expect(problems.join("\n")).toMatch(/^priority: is unexpected/m)
      expect(error.message.split("\n").filter((line) => line.startsWith("- "))).toHaveLength(4)
      expect((yield* ChatKaziTest).calls).toEqual([])
    }).pipe(Effect.provide(connected)))

  it.effect("missing arguments are named", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(callTool(sendWhatsappText, undefined))
      const problems = problemsOf(error)
      expect(problems.some((p) => p.startsWith("to: "))).toBe(true)
      expect(problems.some((p) => p.startsWith("text: "))).toBe(true)
      expect((yield* ChatKaziTest).calls).toEqual([])
    }).pipe(Effect.provide(connected)))
})

// One in-memory gateway shared by the whole table: not one refused number may reach it.
it.layer(toolLayer({ sessions: { default: "connected" } }))("send_whatsapp_text: refused numbers", (it) => {
  it.effect.each([
    ["0712345678", "local"],
    ["00254712345678", "local"],
    ["254-CALL-ME", "not a phone number"],
    ["tel:254712345678", "not a phone number"],
    ["+", "not a phone number"],
    ["", "not a phone number"],
    ["1234567", "has 7 digits"],
    ["1234567890123456", "has 16 digits"],
    [2.5e15, "has 16 digits"],
    [254712345678.5, "not a phone number"],
    ["254712345678.0", "not a phone number"],
    ["+254 712 345 678.5", "not a phone number"],
    [-254712345678, "not a phone number"],
    ["254 712 345 678 ext 2", "not a phone number"]
  ] as const)("%j is refused (%s) and nothing reaches the gateway", ([to, why]) =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(callTool(sendWhatsappText, { to, text: "Hi" }))
      const problems = problemsOf(error)
      expect(problems).toHaveLength(1)
      expect(problems[0]).toMatch(/^to: /)
      expect(problems[0]).toContain(why)
      expect(error.message).toContain("nothing was sent")
      expect((yield* ChatKaziTest).calls).toEqual([])
    }))

  it.effect("after the whole table the gateway has still seen nothing", () =>
    Effect.gen(function*() {
      const gateway = yield* ChatKaziTest
      expect(gateway.calls).toEqual([])
      expect(gateway.sent).toEqual([])
    }))
})

describe("send_whatsapp_text: sending", () => {
  it.effect("sends once from the default session and tells the model the message id", () =>
    Effect.gen(function*() {
      const reply = yield* callTool(sendWhatsappText, { to: "+254 712 345 678", text: "Habari *Juma*" })
      const gateway = yield* ChatKaziTest
      expect(gateway.calls).toStrictEqual([
        { operation: "sendText", argument: { sessionId: "default", to: "254712345678", text: "Habari *Juma*" } }
      ])
      expect(reply.data).toStrictEqual({
        sessionId: "default",
        to: "254712345678",
        messageId: "test-1",
        status: "sent",
        duplicate: false,
        details: {}
      })
      expect(reply.text).toBe('Sent the text message to 254712345678 from session "default" (message id test-1), status sent.')
      expect(yield* structuredContent(sendWhatsappText, reply.data)).toStrictEqual(reply.data)
    }).pipe(Effect.provide(connected)))

  it.effect("an identical repeat is not sent again; the model is told why and gets the first receipt", () =>
    Effect.gen(function*() {
      const args = { to: "254712345678", text: "Your order is ready", sessionId: "shop" }
      yield* callTool(sendWhatsappText, args)
      yield* TestClock.adjust("12 seconds")
      const repeat = yield* callTool(sendWhatsappText, args)
      expect((yield* ChatKaziTest).sent).toHaveLength(1)
      expect(repeat.data).toMatchObject({ duplicate: true, messageId: "test-1" })
      expect(repeat.text).toContain("Not sent again")
      expect(repeat.text).toContain("12 s ago")
      expect(repeat.text).toContain("CHATKAZI_DEDUPE_WINDOW_SECONDS")
      expect(yield* structuredContent(sendWhatsappText, repeat.data)).toMatchObject({ duplicate: true })
    }).pipe(Effect.provide(connected)))

  it.effect("a recipient off the allowlist is refused before anything reaches the gateway", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(callTool(sendWhatsappText, { to: "447700900123", text: "Hi" }))
      expect(error).toMatchObject({ _tag: "RecipientNotAllowed", to: "447700900123" })
      expect((yield* ChatKaziTest).calls).toEqual([])
    }).pipe(Effect.provide(toolLayer({
      sessions: { default: "connected" },
      safety: { allowedRecipients: Option.some(["2547*"]) }
    }))))

  it.effect("past the pace limit the send is refused with the wait, and not delivered", () =>
    Effect.gen(function*() {
      yield* callTool(sendWhatsappText, { to: "254712345678", text: "one" })
      yield* callTool(sendWhatsappText, { to: "254712345678", text: "two" })
      const error = yield* Effect.flip(callTool(sendWhatsappText, { to: "254712345678", text: "three" }))
      expect(error).toMatchObject({ _tag: "PaceLimited", retryAfterSeconds: 60, maxPerMinute: 2 })
      expect(error.message).toContain("Wait 60 seconds")
      expect((yield* ChatKaziTest).sent.map((m) => (m as { text: string }).text)).toEqual(["one", "two"])
    }).pipe(Effect.provide(toolLayer({ sessions: { default: "connected" }, safety: { maxSendsPerMinute: 2 } }))))

  it.effect("a session that is not connected is the gateway's InvalidRequest, and nothing is sent", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(callTool(sendWhatsappText, { to: "254712345678", text: "Hi" }))
      expect(error).toMatchObject({ _tag: "InvalidRequest", gatewayMessage: "session default is not connected" })
      expect(error.message).toContain("connected")
      expect((yield* ChatKaziTest).sent).toEqual([])
    }).pipe(Effect.provide(toolLayer({ sessions: { default: "qr_ready" } }))))

  it.effect("gateway errors reach the model with their guidance", () =>
    Effect.gen(function*() {
      const gateway = yield* ChatKaziTest
      gateway.failNext(
        "sendText",
        new Unauthorized({ status: 401, gatewayMessage: "bad key" }),
        new LimitReached({ gatewayMessage: "Message limit reached" }),
        new DeliveryUncertain({ operation: "send_whatsapp_text", reason: "HTTP 502" })
      )
      const unauthorized = yield* Effect.flip(callTool(sendWhatsappText, { to: "254712345678", text: "a" }))
      expect(unauthorized.message).toContain("CHATKAZI_API_KEY")
      expect(unauthorized.message).toContain('"bad key"')
      const limit = yield* Effect.flip(callTool(sendWhatsappText, { to: "254712345678", text: "b" }))
      expect(limit.message).toContain("Do not retry")
      expect(limit.message).toContain("upgrade")
      const uncertain = yield* Effect.flip(callTool(sendWhatsappText, { to: "254712345678", text: "c" }))
      expect(uncertain.message).toContain("may or may not have taken effect")
      expect(uncertain.message).toContain("Do not call it again blindly")
      expect(gateway.sent).toEqual([])
    }).pipe(Effect.provide(connected)))

  it.effect("a failed send is not remembered as sent: calling again delivers it", () =>
    Effect.gen(function*() {
      const gateway = yield* ChatKaziTest
      gateway.failNext("sendText", new LimitReached({}))
      yield* Effect.flip(callTool(sendWhatsappText, { to: "254712345678", text: "a" }))
      const reply = yield* callTool(sendWhatsappText, { to: "254712345678", text: "a" })
      expect(reply.data).toMatchObject({ duplicate: false })
      expect(gateway.sent).toHaveLength(1)
    }).pipe(Effect.provide(connected)))
})

describe("send_whatsapp_text over the real ChatKazi service", () => {
  it.effect("a gateway that never answers ends in DeliveryUncertain after CHATKAZI_TIMEOUT_MS, sent once", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route("POST", `${API}/messages/text`, hang)
      const fiber = yield* Effect.fork(
        Effect.flip(callTool(sendWhatsappText, { to: "254712345678", text: "Hi" })).pipe(
          Effect.provide(Layer.merge(chatKaziLayer(fake, { timeoutMs: 10_000 }), guardLayer()))
        )
      )
      yield* TestClock.adjust("10 seconds")
      yield* Effect.yieldNow().pipe(Effect.repeatN(20))
      const done = yield* Fiber.poll(fiber)
      expect(Option.isSome(done), "the send must end when CHATKAZI_TIMEOUT_MS has passed").toBe(true)
      const error = yield* Fiber.join(fiber)
      expect(error).toMatchObject({ _tag: "DeliveryUncertain", reason: "no answer within 10000 ms" })
      expect(fake.requests).toHaveLength(1)
      expect(fake.inFlight()).toBe(0)
    }))

  it.effect("the exact request reaches the gateway, and its receipt is what the model reads", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route(
        "POST",
        `${API}/messages/text`,
        json({ success: true, data: { key: { id: "3EB0C431" }, status: "PENDING", timestamp: 1764000000 } })
      )
      const reply = yield* callTool(sendWhatsappText, { to: "+254 712 345 678", text: "Hi", sessionId: "shop-1" }).pipe(
        Effect.provide(Layer.merge(chatKaziLayer(fake), guardLayer()))
      )
      expect(fake.requests.map((r) => r.body)).toStrictEqual([{ sessionId: "shop-1", to: "254712345678", text: "Hi" }])
      expect(reply.data).toStrictEqual({
        sessionId: "shop-1",
        to: "254712345678",
        messageId: "3EB0C431",
        status: "PENDING",
        duplicate: false,
        details: { key: { id: "3EB0C431" }, timestamp: 1764000000 }
      })
      expect(reply.text).toBe('Sent the text message to 254712345678 from session "shop-1" (message id 3EB0C431), status PENDING.')
    }))
})
