import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Timeout } from "../../src/errors/ChatKaziError.js"
import { ChatKaziTest } from "../../src/services/ChatKaziTest.js"
import { linkCardState } from "../../src/tools/linkCardState.js"
import { isWaitingForPhone, SESSION_STATES } from "../../src/tools/SessionLifecycle.js"
import { callTool, structuredContent, toolLayer } from "../support/tools.js"

const gateway = (sessions: Record<string, string>) => Effect.provide(toolLayer({ sessions }))

describe("link_card_state (the linking card's own tool)", () => {
  it("is declared for the card only, never for the model", () => {
    expect(linkCardState.ui).toStrictEqual({ resourceUri: "ui://chatkazi/link", visibility: ["app"] })
    expect(linkCardState.annotations.readOnlyHint).toBe(true)
  })

  it.effect("while the phone is awaited: the state and the current QR payload", () =>
    Effect.gen(function*() {
      const reply = yield* callTool(linkCardState, { sessionId: "shop" })
      expect(yield* structuredContent(linkCardState, reply.data)).toStrictEqual({
        sessionId: "shop",
        state: "qr_ready",
        meaning: "a QR code is ready to link the phone",
        linked: false,
        qrKind: "payload",
        qr: "2@test-qr-shop"
      })
      expect((yield* ChatKaziTest).calls.map((c) => c.operation)).toEqual(["sessionStatus", "sessionQr"])
    }).pipe(gateway({ shop: "qr_ready" })))

  it.effect("once linked: linked, no QR, and the QR is not even fetched", () =>
    Effect.gen(function*() {
      const reply = yield* callTool(linkCardState, { sessionId: "shop" })
      expect(reply.data).toMatchObject({ state: "connected", linked: true, qrKind: "none" })
      expect(reply.data).not.toHaveProperty("qr")
      expect((yield* ChatKaziTest).calls.map((c) => c.operation)).toEqual(["sessionStatus"])
    }).pipe(gateway({ shop: "connected" })))

  it.effect("a QR that cannot be fetched this time still answers with the state; the next poll tries again", () =>
    Effect.gen(function*() {
      (yield* ChatKaziTest).failNext("sessionQr", new Timeout({ timeoutMs: 10_000 }))
      const reply = yield* callTool(linkCardState, { sessionId: "shop" })
      expect(reply.data).toMatchObject({ state: "qr_ready", linked: false, qrKind: "none" })
      expect((yield* callTool(linkCardState, { sessionId: "shop" })).data).toMatchObject({ qr: "2@test-qr-shop" })
    }).pipe(gateway({ shop: "qr_ready" })))

  it.effect("a failing status is the tool's failure, with the usual guidance", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(callTool(linkCardState, { sessionId: "nope" }))
      expect(error._tag).toBe("NotFound")
    }).pipe(gateway({ shop: "qr_ready" })))
})

describe("the states that wait for the phone", () => {
  it("are the QR and the pairing code, one definition for the link card and wait_for_session", () => {
    expect(SESSION_STATES.filter(isWaitingForPhone)).toEqual(["qr_ready", "pairing_code_ready"])
    expect(isWaitingForPhone(undefined)).toBe(false)
  })
})
