import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { EmptyMedia, MediaUnreachable } from "../../src/errors/ChatKaziError.js"
import { ChatKaziTest } from "../../src/services/ChatKaziTest.js"
import type { MediaFacts } from "../../src/services/MediaProbe.js"
import { sendWhatsappMedia } from "../../src/tools/sendWhatsappMedia.js"
import { json, makeFakeHttp } from "../support/FakeHttpClient.js"
import { API, chatKaziLayer } from "../support/gateway.js"
import { callTool, guardLayer, problemsOf, scriptedProbe, structuredContent, toolLayer } from "../support/tools.js"

const PHOTO = "https://cdn.example.com/photos/cake.jpg"

/** The in-memory gateway with a connected default session, and a probe that reports `facts`. */
const withProbe = (facts: MediaFacts | EmptyMedia | MediaUnreachable, safety = {}) => {
  const probe = scriptedProbe(() => "_tag" in facts ? Effect.fail(facts) : Effect.succeed(facts))
  return { probe, layer: toolLayer({ sessions: { default: "connected" }, probe: probe.layer, safety }) }
}

describe("send_whatsapp_media", () => {
  const jpeg = withProbe({ mimetype: "image/jpeg", size: 48_213 })

  it.effect("takes the mimetype from the link when not given, and sends an image by default", () =>
    Effect.gen(function*() {
      const reply = yield* callTool(sendWhatsappMedia, { to: "+254712345678", url: PHOTO, caption: "Your cake" })
      const gateway = yield* ChatKaziTest
      expect(gateway.calls).toHaveLength(1)
      expect(gateway.calls[0]!.operation).toBe("sendMedia")
      expect(gateway.calls[0]!.argument).toMatchObject({
        sessionId: "default",
        to: "254712345678",
        url: PHOTO,
        type: "image",
        caption: "Your cake",
        mimetype: "image/jpeg"
      })
      expect(reply.data).toStrictEqual({
        sessionId: "default",
        to: "254712345678",
        messageId: "test-1",
        status: "sent",
        duplicate: false,
        details: {},
        url: PHOTO,
        type: "image",
        mimetype: "image/jpeg"
      })
      expect(reply.text).toBe('Sent the image message to 254712345678 from session "default" (message id test-1), status sent.')
      expect(yield* structuredContent(sendWhatsappMedia, reply.data)).toStrictEqual(reply.data)
    }).pipe(Effect.provide(jpeg.layer)))

  it.effect("a mimetype the caller gives wins over the link's", () =>
    Effect.gen(function*() {
      const reply = yield* callTool(sendWhatsappMedia, {
        to: "254712345678",
        url: "https://cdn.example.com/inv",
        type: "document",
        mimetype: "application/pdf",
        fileName: "invoice.pdf"
      })
      expect((yield* ChatKaziTest).calls[0]!.argument).toMatchObject({
        type: "document",
        mimetype: "application/pdf",
        fileName: "invoice.pdf"
      })
      expect(reply.data.mimetype).toBe("application/pdf")
      expect(reply.text).toContain("Sent the document to 254712345678")
    }).pipe(Effect.provide(jpeg.layer)))

  it.effect("a generic application/octet-stream from the link is not passed on as the mimetype", () =>
    Effect.gen(function*() {
      const reply = yield* callTool(sendWhatsappMedia, { to: "254712345678", url: PHOTO })
      expect((yield* ChatKaziTest).calls[0]!.argument).toMatchObject({ mimetype: undefined })
      expect(reply.data).not.toHaveProperty("mimetype")
    }).pipe(Effect.provide(withProbe({ mimetype: "application/octet-stream" }).layer)))

  const html = withProbe({ mimetype: "text/html", size: 5_120 })

  it.effect.each(["image", "video", "audio"] as const)("a web page (text/html) sent as %s is refused, nothing sent", (type) =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        callTool(sendWhatsappMedia, { to: "254712345678", url: "https://example.com/gallery", type })
      )
      expect(error).toMatchObject({ _tag: "MediaUnreachable", url: "https://example.com/gallery" })
      expect(error.message).toContain("text/html")
      expect(error.message).toContain("Nothing was sent")
      expect((yield* ChatKaziTest).calls).toEqual([])
    }).pipe(Effect.provide(html.layer)))

  it.effect("an HTML file sent as a document is allowed", () =>
    Effect.gen(function*() {
      yield* callTool(sendWhatsappMedia, { to: "254712345678", url: "https://example.com/report.html", type: "document" })
      expect((yield* ChatKaziTest).calls[0]!.argument).toMatchObject({ type: "document", mimetype: "text/html" })
    }).pipe(Effect.provide(html.layer)))

  it.effect("an empty file found by the probe is EmptyMedia, and nothing is sent", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(callTool(sendWhatsappMedia, { to: "254712345678", url: PHOTO }))
      expect(error._tag).toBe("EmptyMedia")
      expect(error.message).toContain("0 bytes")
      expect(error.message).toContain(PHOTO)
      expect(error.message).toContain("Nothing was sent")
      expect((yield* ChatKaziTest).calls).toEqual([])
    }).pipe(Effect.provide(withProbe(new EmptyMedia({ url: PHOTO })).layer)))

  it.effect("a recipient off the allowlist is refused before the link is even checked", () => {
    const { layer, probe } = withProbe({ mimetype: "image/jpeg" }, { allowedRecipients: Option.some(["254712345678"]) })
    return Effect.gen(function*() {
      const error = yield* Effect.flip(callTool(sendWhatsappMedia, { to: "254700000000", url: PHOTO }))
      expect(error._tag).toBe("RecipientNotAllowed")
      expect(probe.checked).toEqual([])
      expect((yield* ChatKaziTest).calls).toEqual([])
    }).pipe(Effect.provide(layer))
  })

  it.effect("bad arguments are all listed at once and neither the link nor the gateway is touched", () => {
    const { layer, probe } = withProbe({ mimetype: "image/jpeg" })
    return Effect.gen(function*() {
      const error = yield* Effect.flip(
        callTool(sendWhatsappMedia, { to: "0712 345 678", url: PHOTO, type: "photo", caption: "  " })
      )
      const problems = problemsOf(error)
      expect(problems).toHaveLength(3)
      expect(problems.join("\n")).toMatch(/^to: .*local/m)
      expect(problems).toContain('type: must be one of "image", "video", "audio", "document"')
      expect(problems).toContain("caption: must not be empty; leave it out instead")
      expect(probe.checked).toEqual([])
      expect((yield* ChatKaziTest).calls).toEqual([])
    }).pipe(Effect.provide(layer))
  })

  it.effect("the same media to the same person again is not re-sent", () =>
    Effect.gen(function*() {
      const args = { to: "254712345678", url: PHOTO, caption: "Your cake" }
      yield* callTool(sendWhatsappMedia, args)
      const again = yield* callTool(sendWhatsappMedia, args)
      expect(again.data.duplicate).toBe(true)
      expect(again.text).toContain("Not sent again: the same image message")
      expect((yield* ChatKaziTest).sent).toHaveLength(1)
    }).pipe(Effect.provide(jpeg.layer)))

  it.effect("over the real service, the body leaves out what was not given, and a 0-byte receipt is EmptyMedia", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route(
        "POST",
        `${API}/messages/media`,
        json({ success: true, data: { messageId: "m1", fileLength: 0 } })
      )
      const probe = scriptedProbe(() => Effect.succeed({}))
      const error = yield* Effect.flip(callTool(sendWhatsappMedia, { to: "254712345678", url: PHOTO })).pipe(
        Effect.provide(Layer.mergeAll(chatKaziLayer(fake), guardLayer(), probe.layer))
      )
      expect(error).toMatchObject({ _tag: "EmptyMedia", url: PHOTO })
      expect(fake.requests.map((r) => r.body)).toStrictEqual([
        { sessionId: "default", to: "254712345678", url: PHOTO, type: "image" }
      ])
    }))
})
