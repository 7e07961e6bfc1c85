/**
 * A WhatsApp message that reached the account through ChatKazi's webhook, as the rest of the server
 * sees it, whatever shape the gateway posted. The Schema is also how the Inbox stores it (JSON).
 *
 * Everything here except `receivedAt` came from the webhook, so from whoever sent the message or
 * knows the webhook URL: `text`, `senderName`, `chat`, media names and `raw` are untrusted content.
 */
import { Schema } from "effect"

export const MESSAGE_TYPES = [
  "text",
  "image",
  "video",
  "audio",
  "document",
  "sticker",
  "location",
  "contact",
  "reaction",
  "other",
  "unrecognised"
] as const

export const MessageType = Schema.Literal(...MESSAGE_TYPES)
export type MessageType = typeof MessageType.Type

export const MediaDetails = Schema.Struct({
  mimetype: Schema.optional(Schema.String),
  fileName: Schema.optional(Schema.String),
  url: Schema.optional(Schema.String),
  sizeBytes: Schema.optional(Schema.Number),
  seconds: Schema.optional(Schema.Number)
})
export type MediaDetails = typeof MediaDetails.Type

export const Location = Schema.Struct({
  latitude: Schema.Number,
  longitude: Schema.Number,
  name: Schema.optional(Schema.String),
  address: Schema.optional(Schema.String)
})
export type Location = typeof Location.Type

export const IncomingMessage = Schema.Struct({
  /** The gateway's message id, or a hash of the payload when it has none (so a retry is still one message). */
  id: Schema.String,
  sessionId: Schema.optional(Schema.String),
  /** The sender's number, digits only, when the payload names one. */
  from: Schema.optional(Schema.String),
  /** The sender's WhatsApp display name (they chose it). */
  senderName: Schema.optional(Schema.String),
  /** The chat it belongs to (a WhatsApp JID); for a group, not the sender. */
  chat: Schema.optional(Schema.String),
  isGroup: Schema.optional(Schema.Boolean),
  /** Sent by the account itself (from the phone or through the API), not by someone else. */
  fromMe: Schema.Boolean,
  type: MessageType,
  /** The text, or a media message's caption. */
  text: Schema.optional(Schema.String),
  media: Schema.optional(MediaDetails),
  location: Schema.optional(Location),
  /** When the message was written (the payload's timestamp), ISO 8601; `receivedAt` when it gave none. */
  time: Schema.String,
  /** When this server received the webhook, ISO 8601. */
  receivedAt: Schema.String,
  /** The gateway's event name, when the payload had one (`messages.upsert`, `message`…). */
  event: Schema.optional(Schema.String),
  /** For an unrecognised payload: its JSON, cut at 16 KiB. */
  raw: Schema.optional(Schema.String),
  rawTruncated: Schema.optional(Schema.Boolean)
})
export type IncomingMessage = typeof IncomingMessage.Type
