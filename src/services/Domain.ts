/**
 * What ChatKazi speaks about: sessions, their QR codes, send receipts, and the messages a send
 * carries. The service decodes the gateway's answers into these; the tools and the sandbox speak them.
 */
import { Schema } from "effect"

export const Details = Schema.Record({ key: Schema.String, value: Schema.Unknown })
  .annotations({ description: "Everything else the gateway returned, as it returned it." })

export const Session = Schema.Struct({
  sessionId: Schema.String,
  state: Schema.optional(Schema.String),
  pairingCode: Schema.optional(Schema.String),
  details: Details
})
export type Session = typeof Session.Type

export const SessionQr = Schema.Struct({
  sessionId: Schema.String,
  state: Schema.optional(Schema.String),
  /** A raw WhatsApp QR payload, a `data:image/...` URL, or an https link, as the gateway sent it. */
  qr: Schema.optional(Schema.String),
  pairingCode: Schema.optional(Schema.String),
  details: Details
})
export type SessionQr = typeof SessionQr.Type

export const SendReceipt = Schema.Struct({
  messageId: Schema.optional(Schema.String),
  status: Schema.optional(Schema.String),
  details: Details
})
export type SendReceipt = typeof SendReceipt.Type

/** The kinds of media ChatKazi sends. */
export const MEDIA_TYPES = ["image", "video", "audio", "document"] as const
export type MediaType = (typeof MEDIA_TYPES)[number]

export interface TextMessage {
  readonly sessionId: string
  readonly to: string
  readonly text: string
}

export interface MediaMessage {
  readonly sessionId: string
  readonly to: string
  readonly url: string
  readonly type: MediaType
  readonly caption?: string | undefined
  readonly mimetype?: string | undefined
  readonly fileName?: string | undefined
}
