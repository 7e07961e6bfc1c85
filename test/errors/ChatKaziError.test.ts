/**
 * One union of every failure, and each failure's message is its guidance: a log line, an uncaught
 * error or a tool result all say what happened and what to do next.
 */
import { Cause, Effect, Exit, Schema } from "effect"
import { describe, expect, it } from "vitest"
import {
  ChatKaziError,
  isChatKaziError,
  NotFound,
  Transport,
  Unauthorized
} from "../../src/errors/ChatKaziError.js"

describe("ChatKaziError", () => {
  it("is one Schema union of distinct members; a member's message is its guidance", () => {
    const tags = ChatKaziError.members.map((member) => member._tag)
    expect(new Set(tags).size).toBe(tags.length)
    expect(tags).toContain("DeliveryUncertain")
    const error = new Unauthorized({ status: 401, gatewayMessage: "Invalid API key" })
    expect(error.message).toContain("ChatKazi rejected the API key (HTTP 401)")
    expect(error.message).toContain('"Invalid API key"')
    expect(isChatKaziError(error)).toBe(true)
    expect(isChatKaziError(new Error("x"))).toBe(false)
  })

  it("decodes and encodes through its Schema, keeping the gateway's words apart from the guidance", () => {
    const encoded = Schema.encodeSync(ChatKaziError)(new NotFound({ gatewayMessage: "no such session" }))
    expect(encoded).toEqual({ _tag: "NotFound", gatewayMessage: "no such session" })
    const decoded = Schema.decodeUnknownSync(ChatKaziError)(encoded)
    expect(decoded).toBeInstanceOf(NotFound)
    expect(decoded.message).toContain("list_sessions")
  })

  it("uncaught, it prints its guidance", () => {
    const exit = Effect.runSyncExit(Effect.fail(new Transport({ reason: "ECONNREFUSED", mayHaveArrived: false, baseUrl: "http://x/api/v1" })))
    expect(Exit.isFailure(exit) && Cause.pretty(exit.cause)).toContain(
      "Could not reach ChatKazi at http://x/api/v1: ECONNREFUSED. Check the network connection and CHATKAZI_BASE_URL"
    )
  })
})
