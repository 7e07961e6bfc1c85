import { Effect, Schema } from "effect"
import { MediaUnreachable } from "../errors/ChatKaziError.js"
import { ChatKazi } from "../services/ChatKazi.js"
import { MediaProbe } from "../services/MediaProbe.js"
import { SendGuard } from "../services/SendGuard.js"
import { MediaKind, OptionalSessionId, Recipient } from "./Inputs.js"
import { ConfirmationCode, confirmationFlow, confirmedSend } from "./SendConfirmation.js"
import { describeSend, SendOutcome, sendOutcome, unsentOutcome } from "./SendResult.js"
import { defineTool } from "./Tool.js"

const Text = (description: string) =>
  Schema.String.pipe(
    Schema.filter((s) => s.trim() !== "" || "must not be empty; leave it out instead", { jsonSchema: { minLength: 1 } })
  )
    .annotations({ description })

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/

/**
 * A one-line value (file name, MIME type): no line breaks or other control characters, which have
 * no place in either and would let a value pose as another line of the user's approval question.
 */
const Line = (description: string) =>
  Text(description).pipe(
    Schema.filter((s) => !CONTROL.test(s) || "must be one line, without line breaks or other control characters", {
      jsonSchema: { pattern: "^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$" }
    })
  ).annotations({ description })

export const sendWhatsappMedia = defineTool({
  name: "send_whatsapp_media",
  title: "Send a WhatsApp image, video, audio or document",
  description:
    "Send a file as a WhatsApp message from a connected session. ChatKazi downloads the file from `url`, so it must " +
    "be a direct, public link to the file itself (e.g. ending in .jpg or .pdf), not a web page or a private link; " +
    "the link is checked before anything is sent. Only message people who expect it: WhatsApp bans numbers that " +
    "send bulk or unsolicited messages." + confirmationFlow("send_whatsapp_media"),
  input: Schema.Struct({
    to: Recipient,
    url: Schema.String.annotations({ description: "Direct public http(s) link to the file." }),
    type: Schema.optionalWith(
      MediaKind.annotations({ description: "What kind of file it is. Defaults to image.", default: "image" }),
      { exact: true, default: () => "image" as const }
    ),
    caption: Schema.optionalWith(Text("Text shown with the file."), { exact: true }),
    fileName: Schema.optionalWith(Line("File name shown to the recipient, mainly for documents (e.g. invoice.pdf)."), { exact: true }),
    mimetype: Schema.optionalWith(
      Line("MIME type, e.g. application/pdf. Taken from the link's Content-Type when left out."),
      { exact: true }
    ),
    sessionId: OptionalSessionId,
    confirmationCode: ConfirmationCode
  }),
  output: Schema.Struct({
    ...SendOutcome,
    url: Schema.String,
    type: MediaKind,
    mimetype: Schema.optional(Schema.String)
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  run: (input) =>
    Effect.gen(function*() {
      const guard = yield* SendGuard
      const chatKazi = yield* ChatKazi
      const { sessionId, to, url, type } = input
      yield* guard.checkRecipient(to)
      const facts = yield* (yield* MediaProbe).check(url)
      if (type !== "document" && facts.mimetype === "text/html") {
        return yield* new MediaUnreachable({ url, reason: "it is a web page (text/html), not the file itself" })
      }
      const mimetype = input.mimetype ?? (facts.mimetype === "application/octet-stream" ? undefined : facts.mimetype)
      const message = {
        sessionId,
        to,
        url,
        type,
        caption: input.caption,
        fileName: input.fileName,
        mimetype
      }
      const content = { url, type, caption: input.caption, fileName: input.fileName, mimetype: input.mimetype }
      return yield* confirmedSend({
        tool: "send_whatsapp_media",
        // The user approves what the gateway will get: the link's own MIME type when none was given.
        send: { sessionId, to, content: { kind: "media", ...content, mimetype } },
        code: input.confirmationCode,
        unsent: (confirmation) => ({ ...unsentOutcome(sessionId, to, confirmation), url, type }),
        deliver: Effect.gen(function*() {
          const guarded = yield* guard.once({ sessionId, to, content }, chatKazi.sendMedia(message))
          return {
            data: { ...sendOutcome(sessionId, to, guarded), url, type, ...(mimetype === undefined ? {} : { mimetype }) },
            text: yield* describeSend(type === "document" ? "document" : `${type} message`, sessionId, to, guarded)
          }
        })
      })
    })
})
