/**
 * The code that links a phone (a QR code, or a pairing code) as the model is given it: its format,
 * the QR drawn as a PNG here, and the lines of text that go with it. Shared by get_session_qr and
 * wait_for_session, which both hand codes to the model.
 */
import { Effect, Schema } from "effect"
import type { SessionQr } from "../services/Domain.js"
import type { ToolImage } from "./Tool.js"

export const QrFormat = Schema.Literal("payload", "image", "link", "none").annotations({
  description:
    "payload: the raw WhatsApp QR text (rendered here as an image); image: the gateway's own QR image; " +
    "link: a web page that shows the QR; none: no QR right now."
})
export type QrFormat = typeof QrFormat.Type

/** Whether the gateway's answer holds something the user can link the phone with. */
export const hasCode = (found: SessionQr): boolean => found.qr !== undefined || found.pairingCode !== undefined

/** What identifies the current code, to tell whether the model was already given it. */
export const codeKey = (found: SessionQr): string => `${found.qr ?? ""}\n${found.pairingCode ?? ""}`

export const SCAN_HOW = "WhatsApp > Settings > Linked devices > Link a device"
export const PAIR_HOW = "WhatsApp > Linked devices > Link with phone number"

export interface PresentedCode {
  readonly format: QrFormat
  /** The QR as it goes into structured content (a long data URL is abbreviated). */
  readonly qr?: string
  readonly images: ReadonlyArray<ToolImage>
  /** The code itself, as text, without instructions. */
  readonly lines: ReadonlyArray<string>
}

export const presentCode = (found: SessionQr): Effect.Effect<PresentedCode> =>
  Effect.gen(function*() {
    const format: QrFormat = found.qr === undefined ? "none" : qrFormat(found.qr)
    const images = found.qr === undefined ? [] : yield* qrImages(found.qr, format)
    const id = found.sessionId
    const lines = [
      ...(format === "link" ? [`Open this link to show the QR code for session "${id}": ${found.qr}`] : []),
      ...(format === "payload" || format === "image"
        ? [`QR code for session "${id}" ${images.length > 0 ? "attached as an image" : "(could not be drawn)"}.`]
        : []),
      ...(format === "payload" ? [`QR payload: ${found.qr}`] : []),
      ...(found.pairingCode ? [`Pairing code (${PAIR_HOW}): ${found.pairingCode}`] : [])
    ]
    return {
      format,
      ...(found.qr === undefined ? {} : { qr: format === "image" ? abbreviate(found.qr) : found.qr }),
      images,
      lines
    }
  })

const DATA_URL = /^data:(image\/[\w.+-]+);base64,(.+)$/s

const qrFormat = (qr: string): "payload" | "image" | "link" =>
  DATA_URL.test(qr) ? "image" : /^https?:\/\//i.test(qr) ? "link" : "payload"

const abbreviate = (dataUrl: string) => dataUrl.length > 64 ? `${dataUrl.slice(0, 48)}... (${dataUrl.length} characters)` : dataUrl

/** The QR as a PNG drawn here: the pairing payload is never handed to a third-party renderer. */
const qrImages = (qr: string, format: QrFormat): Effect.Effect<ReadonlyArray<ToolImage>> => {
  if (format === "image") {
    const [, mimeType, data] = qr.match(DATA_URL)!
    return Effect.succeed([{ mimeType: mimeType!, data: data!.replace(/\s/g, "") }])
  }
  if (format !== "payload") return Effect.succeed([])
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
