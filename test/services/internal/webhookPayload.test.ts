/**
 * The webhook decoder on every payload shape the issue lists, from fixtures in test/fixtures/webhooks.
 */
import { readFileSync } from "node:fs"
import { resolve } from "node:path"
import { describe, expect, it } from "vitest"
import { decodeWebhookPayload, RAW_LIMIT_BYTES } from "../../../src/services/internal/webhookPayload.js"
import { repoRoot } from "../../support/serverEntry.js"

const receivedAt = new Date("2026-11-25T23:00:00.000Z")
const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(resolve(repoRoot, "test/fixtures/webhooks", `${name}.json`), "utf8"))
const decode = (name: string) => decodeWebhookPayload(fixture(name), receivedAt)
const one = (name: string) => {
  const messages = decode(name)
  expect(messages).toHaveLength(1)
  return messages[0]!
}

describe("decodeWebhookPayload", () => {
  it("reads a flat object with sessionId, from and text", () => {
    expect(one("flat-text")).toEqual({
      id: "flat-1",
      sessionId: "default",
      from: "254712345678",
      senderName: "Amina",
      fromMe: false,
      type: "text",
      text: "Hi, is the shop open today?",
      time: "2025-11-25T23:20:00.000Z",
      receivedAt: "2026-11-25T23:00:00.000Z"
    })
  })

  it("reads session, sender (normalised like `to`), body and isFromMe", () => {
    expect(one("flat-body-sender")).toMatchObject({
      id: "flat-2",
      sessionId: "shop",
      from: "254733000111",
      text: "Price of the blue one?",
      fromMe: false,
      time: receivedAt.toISOString()
    })
  })

  it("reads text.body and a JID as the sender", () => {
    expect(one("flat-text-body")).toMatchObject({
      from: "254712345678",
      chat: "254712345678@s.whatsapp.net",
      text: "Nested text body"
    })
  })

  it("unwraps a data envelope", () => {
    expect(one("envelope-data")).toMatchObject({ id: "env-1", from: "254712345678", text: "Inside data" })
  })

  it("unwraps event + data, keeping the event name and the envelope's session", () => {
    expect(one("envelope-event-data")).toMatchObject({
      id: "3EB0C767D26A1D8E",
      sessionId: "sales",
      event: "messages.upsert",
      from: "254722000333",
      senderName: "Baraka",
      type: "text",
      text: "Event plus data",
      time: "2025-11-25T23:21:00.000Z"
    })
  })

  it("reads a Baileys message with conversation, a string timestamp and pushName", () => {
    expect(one("baileys-conversation")).toEqual({
      id: "BAE5F1C2D3E4",
      from: "254712345678",
      senderName: "Amina",
      chat: "254712345678@s.whatsapp.net",
      fromMe: false,
      type: "text",
      text: "Plain conversation",
      time: "2025-11-25T23:21:40.000Z",
      receivedAt: receivedAt.toISOString()
    })
  })

  it("reads extendedTextMessage.text and a protobuf Long timestamp", () => {
    expect(one("baileys-extended-text")).toMatchObject({
      type: "text",
      text: "See https://example.com/order/17",
      time: "2025-11-25T23:22:00.000Z"
    })
  })

  it("reads an image with caption, mimetype, url and size", () => {
    expect(one("baileys-image")).toMatchObject({
      type: "image",
      text: "The broken part",
      media: { mimetype: "image/jpeg", url: "https://mmg.whatsapp.net/o1/v/t62/abc", sizeBytes: 48213 }
    })
  })

  it("reads a video and an audio message with their length", () => {
    expect(one("baileys-video")).toMatchObject({ type: "video", text: "Unboxing", media: { mimetype: "video/mp4", seconds: 12 } })
    const audio = one("baileys-audio")
    expect(audio).toMatchObject({ type: "audio", media: { mimetype: "audio/ogg; codecs=opus", seconds: 7 } })
    expect(audio.text).toBeUndefined()
  })

  it("reads a document inside documentWithCaptionMessage with its file name", () => {
    expect(one("baileys-document")).toMatchObject({
      type: "document",
      text: "Signed contract",
      media: { mimetype: "application/pdf", fileName: "contract.pdf", sizeBytes: 120034 }
    })
  })

  it("reads a location", () => {
    expect(one("baileys-location")).toMatchObject({
      type: "location",
      location: { latitude: -1.2921, longitude: 36.8219, name: "Nairobi CBD", address: "Kenyatta Ave" }
    })
  })

  it("takes a group message's sender from the participant, not the group", () => {
    expect(one("baileys-group")).toMatchObject({
      from: "254722000333",
      chat: "120363025246125486@g.us",
      isGroup: true,
      text: "Hello group"
    })
  })

  it("marks the account's own messages", () => {
    expect(one("baileys-from-me")).toMatchObject({ fromMe: true, text: "Sent from my phone" })
  })

  it("reads every message of a messages.upsert array, each with the envelope's session", () => {
    const messages = decode("upsert-array")
    expect(messages.map((m) => [m.id, m.sessionId, m.from, m.text, m.event])).toEqual([
      ["ARR0001", "default", "254712345678", "first", "messages.upsert"],
      ["ARR0002", "default", "254733000111", "second", "messages.upsert"]
    ])
  })

  it("reads a top-level array of mixed shapes", () => {
    expect(decode("top-level-array").map((m) => [m.id, m.text])).toEqual([["TOP1", "one"], ["TOP2", "two"]])
  })

  it("keeps a payload it cannot read as an unrecognised event with its JSON", () => {
    const status = one("unknown-status")
    expect(status).toMatchObject({ type: "unrecognised", event: "session.status", sessionId: "default", fromMe: false })
    expect(JSON.parse(status.raw!)).toEqual(fixture("unknown-status"))
    expect(status.id).toMatch(/^unrecognised-/)
    expect(one("unknown-scalar")).toMatchObject({ type: "unrecognised", raw: "\"just a string\"" })
  })

  it("gives the same unreadable payload the same id, so a retry is stored once", () => {
    expect(one("unknown-status").id).toBe(decodeWebhookPayload(fixture("unknown-status"), new Date())[0]!.id)
    expect(one("unknown-status").id).not.toBe(one("unknown-scalar").id)
  })

  it("cuts an unreadable payload's JSON at 16 KiB on a character boundary", () => {
    const [message] = decodeWebhookPayload({ blob: "é".repeat(20_000) }, receivedAt)
    expect(message).toMatchObject({ type: "unrecognised", rawTruncated: true })
    expect(Buffer.byteLength(message!.raw!, "utf8")).toBeLessThanOrEqual(RAW_LIMIT_BYTES)
    expect(message!.raw).not.toContain("\uFFFD")
  })

  it("replaces an id that is not a plain token with a hash, and ignores numbers that are not phone numbers", () => {
    const [message] = decodeWebhookPayload({ from: "12345@lid", text: "x", id: "<b>ignore previous</b>" }, receivedAt)
    expect(message!.id).toMatch(/^h-[A-Za-z0-9_-]+$/)
    expect(message!.from).toBeUndefined()
  })

  it("reads the message inside an envelope whose own sender is the account, not the message's sender", () => {
    expect(one("envelope-with-sender")).toMatchObject({
      id: "EVO0001",
      sessionId: "shop",
      from: "254712345678",
      senderName: "Amina",
      text: "The envelope's sender is the account, not me"
    })
  })

  it("never keeps a credential the gateway put in a payload it cannot read", () => {
    const [unknown] = decodeWebhookPayload({ event: "x", apikey: "GATEWAY-KEY", nested: { token: "T", ok: 1 } }, receivedAt)
    expect(unknown!.raw).not.toContain("GATEWAY-KEY")
    expect(JSON.parse(unknown!.raw!)).toEqual({ event: "x", apikey: "[redacted]", nested: { token: "[redacted]", ok: 1 } })
  })

  it("keeps an envelope around nothing as an unrecognised event, its key redacted", () => {
    const event = one("unknown-with-key")
    expect(event).toMatchObject({ type: "unrecognised", event: "connection.update" })
    expect(event.raw).not.toContain("GATEWAY-KEY")
  })
})
