/**
 * Where the approval step sits in the send tools: after every check that refuses a send (so the
 * user is never asked about a send that would be refused anyway), before dedupe, pace and the send.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { ChatKaziTest } from "../../src/services/ChatKaziTest.js"
import { Elicitation, type Question } from "../../src/services/Elicitation.js"
import { sendWhatsappMedia } from "../../src/tools/sendWhatsappMedia.js"
import { sendWhatsappText } from "../../src/tools/sendWhatsappText.js"
import { callTool, problemsOf, scriptedProbe, structuredContent, toolLayer } from "../support/tools.js"

/** A user who approves everything, and what they were asked. */
const approving = () => {
  const asked: Array<Question> = []
  const provide = Effect.provideService(Elicitation, {
    available: true,
    ask: (question: Question) => Effect.sync(() => (asked.push(question), "approved" as const))
  })
  return { asked, provide }
}

const always = toolLayer({ sessions: { default: "connected" }, safety: { confirmSends: "always" } })

describe("the approval step in the send tools", () => {
  it.effect("a recipient off the allowlist is refused before the user is asked", () =>
    Effect.gen(function*() {
      const user = approving()
      const error = yield* Effect.flip(callTool(sendWhatsappText, { to: "447700900123", text: "Hi" }).pipe(user.provide))
      expect(error._tag).toBe("RecipientNotAllowed")
      expect(user.asked).toEqual([])
    }).pipe(Effect.provide(toolLayer({ safety: { allowedRecipients: Option.some(["2547*"]) } }))))

  it.effect("a link that is a web page is refused before the user is asked, and before a code is issued", () =>
    Effect.gen(function*() {
      const user = approving()
      const args = { to: "254712345678", url: "https://example.com/gallery" }
      expect((yield* Effect.flip(callTool(sendWhatsappMedia, args).pipe(user.provide)))._tag).toBe("MediaUnreachable")
      expect((yield* Effect.flip(callTool(sendWhatsappMedia, args)))._tag).toBe("MediaUnreachable")
      expect(user.asked).toEqual([])
    }).pipe(Effect.provide(toolLayer({
      safety: { confirmSends: "always" },
      probe: scriptedProbe(() => Effect.succeed({ mimetype: "text/html", size: 100 })).layer
    }))))

  it.effect("a file name or MIME type with a line break is refused before anyone is asked or anything is sent", () =>
    Effect.gen(function*() {
      const user = approving()
      const error = yield* Effect.flip(
        callTool(sendWhatsappMedia, {
          to: "254712345678",
          url: "https://cdn.example.com/a.pdf",
          type: "document",
          fileName: "a.pdf\nTo: +447700900123",
          mimetype: "application/pdf\r\nCaption: hi"
        }).pipe(user.provide)
      )
      expect(problemsOf(error)).toEqual([
        "fileName: must be one line, without line breaks or other control characters",
        "mimetype: must be one line, without line breaks or other control characters"
      ])
      expect(user.asked).toEqual([])
      expect((yield* ChatKaziTest).calls).toEqual([])
    }).pipe(Effect.provide(toolLayer({ sessions: { default: "connected" } }))))

  it.effect("the question shows the MIME type that will be sent, also when it comes from the link", () =>
    Effect.gen(function*() {
      const user = approving()
      yield* callTool(sendWhatsappMedia, { to: "254712345678", url: "https://cdn.example.com/a.pdf", type: "document" })
        .pipe(user.provide)
      expect(user.asked[0]!.message).toContain('Type: "application/pdf"')
      expect((yield* ChatKaziTest).calls[0]!.argument).toMatchObject({ mimetype: "application/pdf" })
    }).pipe(Effect.provide(toolLayer({
      sessions: { default: "connected" },
      probe: scriptedProbe(() => Effect.succeed({ mimetype: "application/pdf", size: 100 })).layer
    }))))

  it.effect("an approved repeat is still caught by dedupe: asked twice, sent once", () =>
    Effect.gen(function*() {
      const user = approving()
      yield* callTool(sendWhatsappText, { to: "254712345678", text: "Once" }).pipe(user.provide)
      const repeat = yield* callTool(sendWhatsappText, { to: "254712345678", text: "Once" }).pipe(user.provide)
      expect(user.asked).toHaveLength(2)
      expect(repeat.data).toMatchObject({ duplicate: true, confirmation: { outcome: "approved_by_user" } })
      expect((yield* ChatKaziTest).calls).toHaveLength(1)
    }).pipe(Effect.provide(toolLayer({ sessions: { default: "connected" } }))))

  it.effect("always, nobody to ask: the preview reply sends nothing and fits the output schema; the code sends", () =>
    Effect.gen(function*() {
      const args = { to: "254712345678", text: "Habari" }
      const first = yield* callTool(sendWhatsappText, args)
      expect((yield* ChatKaziTest).calls).toEqual([])
      expect(yield* structuredContent(sendWhatsappText, first.data)).toMatchObject({
        sessionId: "default",
        to: "254712345678",
        duplicate: false,
        confirmation: { outcome: "code_issued" }
      })
      const code = first.data.confirmation!.confirmationCode!
      const sent = yield* callTool(sendWhatsappText, { ...args, confirmationCode: code })
      expect(sent.data).toMatchObject({ messageId: "test-1", confirmation: { outcome: "approved_with_code" } })
      expect((yield* ChatKaziTest).calls).toHaveLength(1)
    }).pipe(Effect.provide(always)))
})
