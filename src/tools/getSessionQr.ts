import { Effect, Schema } from "effect"
import { ChatKazi } from "../services/ChatKazi.js"
import { Details } from "../services/Responses.js"
import { SessionId } from "./Inputs.js"
import { rendersLinkCard } from "./LinkCard.js"
import { guideFor } from "./SessionLifecycle.js"
import { describeDetails } from "./SessionView.js"
import { defineTool, type ToolImage } from "./Tool.js"

const QrFormat = Schema.Literal("payload", "image", "link", "none").annotations({
  description:
    "payload: the raw WhatsApp QR text (rendered here as an image); image: the gateway's own QR image; " +
    "link: a web page that shows the QR; none: no QR right now."
})

export const getSessionQr = defineTool({
  name: "get_session_qr",
  title: "Get the QR code to link a phone",
  description:
    "Get the QR code that links a phone to a WhatsApp session, as an image to show the user (and as text), plus " +
    "a pairing code when ChatKazi provides one. The user scans it in WhatsApp > Settings > Linked devices > Link " +
    "a device. QR codes expire quickly: fetch a fresh one if scanning fails, then call wait_for_session.",
  input: Schema.Struct({ sessionId: SessionId }),
  output: Schema.Struct({
    sessionId: Schema.String,
    state: Schema.optional(Schema.String),
    format: QrFormat,
    qr: Schema.optional(Schema.String).annotations({ description: "The QR as ChatKazi returned it." }),
    pairingCode: Schema.optional(Schema.String),
    details: Details
  }),
  annotations: { readOnlyHint: true, openWorldHint: true },
  ui: rendersLinkCard,
  run: ({ sessionId }) =>
    Effect.gen(function*() {
      const found = yield* (yield* ChatKazi).sessionQr(sessionId)
      const format: typeof QrFormat.Type = found.qr === undefined ? "none" : qrFormat(found.qr)
      const images = found.qr === undefined || format === "none" ? [] : yield* qrImages(found.qr, format)
      const lines = [
        format === "none"
          ? `No QR code is available for session "${sessionId}" right now${found.state ? ` (state: ${found.state}, ${guideFor(found.state).meaning})` : ""}. ${
            found.state === undefined ? "Check get_session_status." : `Next: ${guideFor(found.state).nextStep}.`
          }`
          : format === "link"
          ? `Open this link to show the QR code for session "${sessionId}": ${found.qr}`
          : `QR code for session "${sessionId}" ${images.length > 0 ? "attached as an image" : "(could not be drawn)"}. ` +
            "Show it to the user to scan in WhatsApp > Settings > Linked devices > Link a device, then call wait_for_session.",
        ...(format === "payload" ? [`QR payload: ${found.qr}`] : []),
        ...(found.pairingCode ? [`Pairing code (WhatsApp > Linked devices > Link with phone number): ${found.pairingCode}`] : [])
      ]
      return {
        data: { ...found, format, ...(format === "image" ? { qr: abbreviate(found.qr!) } : {}) },
        text: lines.join("\n") + describeDetails(found.details),
        images
      }
    })
})

const DATA_URL = /^data:(image\/[\w.+-]+);base64,(.+)$/s

const qrFormat = (qr: string): "payload" | "image" | "link" =>
  DATA_URL.test(qr) ? "image" : /^https?:\/\//i.test(qr) ? "link" : "payload"

const abbreviate = (dataUrl: string) => dataUrl.length > 64 ? `${dataUrl.slice(0, 48)}... (${dataUrl.length} characters)` : dataUrl

/** The QR as a PNG drawn here: the pairing payload is never handed to a third-party renderer. */
const qrImages = (qr: string, format: "payload" | "image" | "link"): Effect.Effect<ReadonlyArray<ToolImage>> => {
  if (format === "image") {
    const [, mimeType, data] = qr.match(DATA_URL)!
    return Effect.succeed([{ mimeType: mimeType!, data: data!.replace(/\s/g, "") }])
  }
  if (format === "link") return Effect.succeed([])
  return Effect.tryPromise(async () => {
    // qrcode is CommonJS: its `default` (module.exports) is the one shape every loader agrees on.
    const { default: QRCode } = await import("qrcode")
    const png = await QRCode.toBuffer(qr, { type: "png", errorCorrectionLevel: "M", margin: 2, scale: 6 })
    return [{ mimeType: "image/png", data: png.toString("base64") }]
  }).pipe(
    Effect.tapError((error) => Effect.logWarning("could not draw the QR code", error.cause)),
    Effect.orElseSucceed(() => [])
  )
}
