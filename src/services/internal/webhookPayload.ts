/**
 * Reads whatever ChatKazi POSTs to the webhook into `IncomingMessage`s. The payload is not
 * documented, so this accepts every shape seen in code built on the gateway (CHATKAZI_API.md):
 * flat objects, envelopes (`data`, `event` + `data`, `messages`), Baileys-style message objects, and
 * arrays of any of these. What it cannot read becomes an `unrecognised` message carrying the JSON:
 * a payload is never dropped. Pure: no I/O, the receive time is given.
 */
import { createHash } from "node:crypto"
import type { IncomingMessage, Location, MediaDetails, MessageType } from "../IncomingMessage.js"

/** The most of an unreadable payload's JSON that is kept. */
export const RAW_LIMIT_BYTES = 16 * 1024

type Json = Record<string, unknown>

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const str = (value: unknown): string | undefined =>
  typeof value === "string" && value.trim() !== "" ? value : undefined

/** The first of `keys` that holds a non-empty string (numbers count: ids and phone numbers arrive as both). */
const pick = (obj: Json, ...keys: ReadonlyArray<string>): string | undefined => {
  for (const key of keys) {
    const value = obj[key]
    if (typeof value === "number" && Number.isFinite(value)) return String(value)
    const text = str(value)
    if (text !== undefined) return text
  }
  return undefined
}

const bool = (value: unknown): boolean | undefined =>
  typeof value === "boolean" ? value : value === "true" ? true : value === "false" ? false : undefined

/** Digits-only number (8 to 15 digits) from "254712345678", "+254 712 345 678", "254712345678:3@s.whatsapp.net". */
export const numberOf = (value: string | undefined): string | undefined => {
  if (value === undefined) return undefined
  const [user, server] = value.split("@")
  // Only phone-number JIDs carry a number: not groups (@g.us), broadcasts, or hidden ids (@lid).
  if (server !== undefined && server !== "s.whatsapp.net" && server !== "c.us") return undefined
  const digits = (user ?? "").split(":")[0]!.replace(/^\+/, "").replace(/[\s\-().]/g, "")
  return /^[1-9]\d{7,14}$/.test(digits) ? digits : undefined
}

/** Seconds, milliseconds, numeric strings, ISO strings, or protobuf Longs ({ low, high }). */
const timeOf = (value: unknown): string | undefined => {
  let ms: number | undefined
  if (isObject(value) && typeof value.low === "number") {
    ms = ((typeof value.high === "number" ? value.high : 0) * 2 ** 32 + (value.low >>> 0)) * 1000
  } else if (typeof value === "number" || (typeof value === "string" && /^\d+(\.\d+)?$/.test(value.trim()))) {
    const n = Number(value)
    ms = n < 1e12 ? n * 1000 : n
  } else if (typeof value === "string") {
    ms = Date.parse(value)
  }
  return ms !== undefined && Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : undefined
}

const num = (value: unknown): number | undefined => {
  if (isObject(value) && typeof value.low === "number") return (value.high as number ?? 0) * 2 ** 32 + (value.low >>> 0)
  const n = typeof value === "string" ? Number(value) : value
  return typeof n === "number" && Number.isFinite(n) ? n : undefined
}

const hash = (text: string) => createHash("sha256").update(text).digest("base64url").slice(0, 24)

/** Ids end up in storage keys and in text the model reads: anything but a plain token is replaced by its hash. */
const safeId = (value: string | undefined, fallback: () => string) =>
  value !== undefined && /^[A-Za-z0-9_\-.:]{1,128}$/.test(value) ? value : fallback()

interface Context {
  readonly receivedAt: string
  readonly event?: string | undefined
  readonly sessionId?: string | undefined
}

const withoutUndefined = <A extends object>(value: A): A =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as A

// -- Baileys-style message content ------------------------------------------------------------------

interface Content {
  readonly type: MessageType
  readonly text?: string | undefined
  readonly media?: MediaDetails | undefined
  readonly location?: Location | undefined
}

const MEDIA_KINDS = [
  ["imageMessage", "image"],
  ["videoMessage", "video"],
  ["audioMessage", "audio"],
  ["documentMessage", "document"],
  ["stickerMessage", "sticker"]
] as const

const mediaOf = (m: Json): MediaDetails | undefined => {
  const details = withoutUndefined<MediaDetails>({
    mimetype: str(m.mimetype),
    fileName: str(m.fileName) ?? str(m.filename) ?? str(m.title),
    url: str(m.url) ?? str(m.mediaUrl),
    sizeBytes: num(m.fileLength) ?? num(m.size),
    seconds: num(m.seconds) ?? num(m.duration)
  })
  return Object.keys(details).length === 0 ? undefined : details
}

/** Wrappers that only carry another message inside. */
const WRAPPERS = [
  "ephemeralMessage",
  "viewOnceMessage",
  "viewOnceMessageV2",
  "viewOnceMessageV2Extension",
  "documentWithCaptionMessage",
  "editedMessage"
] as const

const contentOf = (message: Json): Content | undefined => {
  for (const wrapper of WRAPPERS) {
    const inner = message[wrapper]
    if (isObject(inner) && isObject(inner.message)) return contentOf(inner.message)
  }
  const conversation = str(message.conversation)
  if (conversation !== undefined) return { type: "text", text: conversation }
  if (isObject(message.extendedTextMessage)) {
    const text = str(message.extendedTextMessage.text)
    if (text !== undefined) return { type: "text", text }
  }
  for (const [field, type] of MEDIA_KINDS) {
    const m = message[field]
    if (isObject(m)) return { type, text: str(m.caption), media: mediaOf(m) }
  }
  const loc = message.locationMessage ?? message.liveLocationMessage
  if (isObject(loc)) {
    const latitude = num(loc.degreesLatitude)
    const longitude = num(loc.degreesLongitude)
    return {
      type: "location",
      text: str(loc.caption) ?? str(loc.comment),
      location: latitude === undefined || longitude === undefined
        ? undefined
        : withoutUndefined<Location>({ latitude, longitude, name: str(loc.name), address: str(loc.address) })
    }
  }
  if (isObject(message.contactMessage)) return { type: "contact", text: str(message.contactMessage.displayName) }
  if (isObject(message.reactionMessage)) return { type: "reaction", text: str(message.reactionMessage.text) }
  // A text given as { text: "…" } or { text: { body: "…" } } (WhatsApp Cloud style), nested under `message`.
  const text = str(message.text) ?? (isObject(message.text) ? str(message.text.body) : undefined) ?? str(message.body)
  if (text !== undefined) return { type: "text", text }
  return undefined
}

const isBaileys = (obj: Json): obj is Json & { key: Json } => isObject(obj.key) && str(obj.key.remoteJid) !== undefined

const fromBaileys = (obj: Json & { key: Json }, ctx: Context, rawText: string): IncomingMessage => {
  const key = obj.key
  const chat = str(key.remoteJid)!
  const isGroup = chat.endsWith("@g.us")
  const participant = str(key.participant) ?? str(obj.participant)
  const content = isObject(obj.message) ? contentOf(obj.message) : undefined
  const sessionId = pick(obj, "sessionId", "session", "instance") ?? ctx.sessionId
  return withoutUndefined<IncomingMessage>({
    id: safeId(pick(key, "id"), () => `h-${hash(rawText)}`),
    sessionId,
    from: numberOf(isGroup ? participant : chat) ?? numberOf(str(key.senderPn) ?? str(obj.senderPn)),
    senderName: str(obj.pushName) ?? str(obj.verifiedBizName),
    chat,
    isGroup: isGroup || undefined,
    fromMe: bool(key.fromMe) ?? false,
    type: content?.type ?? "other",
    text: content?.text,
    media: content?.media,
    location: content?.location,
    time: timeOf(obj.messageTimestamp) ?? ctx.receivedAt,
    receivedAt: ctx.receivedAt,
    event: ctx.event
  })
}

// -- flat objects ------------------------------------------------------------------------------------

const FLAT_MEDIA_TYPES: ReadonlyArray<string> = ["image", "video", "audio", "document", "sticker", "location"]

const senderOf = (obj: Json) => pick(obj, "from", "sender", "phone", "number", "remoteJid", "author", "chatId")

const hasContent = (obj: Json) =>
  str(obj.text) !== undefined || isObject(obj.text) || str(obj.body) !== undefined || str(obj.message) !== undefined ||
  str(obj.caption) !== undefined || str(obj.content) !== undefined || (isObject(obj.message) && contentOf(obj.message) !== undefined)

const isFlat = (obj: Json) => senderOf(obj) !== undefined || (isObject(obj.from) && senderOf(obj.from) !== undefined)

const fromFlat = (obj: Json, ctx: Context, rawText: string): IncomingMessage => {
  // `from` is sometimes an object: { from: { number, name } }.
  const sender = isObject(obj.from) ? obj.from : undefined
  const rawFrom = sender === undefined ? senderOf(obj) : senderOf(sender) ?? pick(sender, "id")
  const nested = isObject(obj.message) ? contentOf(obj.message) : undefined
  const bodyText = str(obj.text) ?? (isObject(obj.text) ? str(obj.text.body) : undefined) ?? str(obj.body) ??
    str(obj.message) ?? str(obj.content)
  const declared = str(obj.type)?.toLowerCase()
  const mediaType = declared !== undefined && FLAT_MEDIA_TYPES.includes(declared) ? declared as MessageType : undefined
  const media = isObject(obj.media) ? mediaOf(obj.media) : mediaOf(obj)
  const type: MessageType = nested?.type ?? mediaType ?? (bodyText !== undefined ? "text" : media?.url ? "document" : "other")
  const lat = num(obj.latitude ?? obj.lat)
  const lng = num(obj.longitude ?? obj.lng)
  const chat = pick(obj, "chat", "chatId", "remoteJid") ?? (rawFrom?.includes("@") ? rawFrom : undefined)
  return withoutUndefined<IncomingMessage>({
    id: safeId(pick(obj, "id", "messageId", "message_id", "msgId") ?? (isObject(obj.key) ? pick(obj.key, "id") : undefined), () =>
      `h-${hash(rawText)}`),
    sessionId: pick(obj, "sessionId", "session", "session_id", "instance", "instanceId") ?? ctx.sessionId,
    from: numberOf(rawFrom),
    senderName: pick(obj, "pushName", "senderName", "notifyName", "name", "fromName") ??
      (sender === undefined ? undefined : pick(sender, "name", "pushName")),
    chat,
    isGroup: chat?.endsWith("@g.us") || bool(obj.isGroup) || undefined,
    fromMe: bool(obj.fromMe) ?? bool(obj.isFromMe) ?? bool(obj.from_me) ?? false,
    type,
    text: nested?.text ?? bodyText ?? str(obj.caption),
    media: nested?.media ?? (type === "text" ? undefined : media),
    location: nested?.location ??
      (lat !== undefined && lng !== undefined ? withoutUndefined<Location>({ latitude: lat, longitude: lng }) : undefined),
    time: timeOf(obj.timestamp ?? obj.messageTimestamp ?? obj.time ?? obj.date ?? obj.t) ?? ctx.receivedAt,
    receivedAt: ctx.receivedAt,
    event: ctx.event
  })
}

// -- envelopes and arrays ----------------------------------------------------------------------------

const truncate = (text: string): { raw: string; rawTruncated?: true } => {
  const bytes = Buffer.from(text, "utf8")
  if (bytes.length <= RAW_LIMIT_BYTES) return { raw: text }
  // Cut on a character boundary: drop a trailing partial UTF-8 sequence.
  let end = RAW_LIMIT_BYTES
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--
  return { raw: bytes.subarray(0, end).toString("utf8"), rawTruncated: true }
}

const unrecognised = (value: unknown, ctx: Context, rawText: string): IncomingMessage =>
  withoutUndefined<IncomingMessage>({
    // The same unreadable payload posted twice (a retry) is still stored once.
    id: `unrecognised-${hash(rawText)}`,
    sessionId: isObject(value) ? pick(value, "sessionId", "session") ?? ctx.sessionId : ctx.sessionId,
    fromMe: false,
    type: "unrecognised",
    time: ctx.receivedAt,
    receivedAt: ctx.receivedAt,
    event: ctx.event ?? (isObject(value) ? pick(value, "event", "type") : undefined),
    ...truncate(rawText)
  })

/** Keys whose values are credentials: some gateways put their API key in the webhook body. */
const SECRET_KEY = /api[-_]?key|token|secret|password|authorization/i

const toJson = (value: unknown) =>
  JSON.stringify(value, (key, inner) => (key !== "" && SECRET_KEY.test(key) ? "[redacted]" : inner)) ?? String(value)

const decodeValue = (value: unknown, ctx: Context, depth: number): ReadonlyArray<IncomingMessage> => {
  const rawText = toJson(value)
  if (depth > 8) return [unrecognised(value, ctx, rawText)]
  if (Array.isArray(value)) return value.flatMap((item) => decodeValue(item, ctx, depth + 1))
  if (!isObject(value)) return [unrecognised(value, ctx, rawText)]
  if (isBaileys(value)) return [fromBaileys(value, ctx, rawText)]

  const inner = ctx.sessionId === undefined && pick(value, "sessionId", "session", "instance") !== undefined
    ? { ...ctx, sessionId: pick(value, "sessionId", "session", "instance") }
    : ctx
  const withEvent = inner.event === undefined && str(value.event) !== undefined ? { ...inner, event: str(value.event) } : inner

  // A message's own content at the top makes it a flat message, whatever else it carries.
  if (isFlat(value) && hasContent(value)) return [fromFlat(value, withEvent, rawText)]
  // Envelopes: { data }, { event, data }, { messages: [...] }, { data: { messages: [...] } }, { message: { key… } }.
  // An envelope's own `sender` (some gateways name the account's number there) is not the message's.
  for (const field of ["data", "messages", "payload", "body"] as const) {
    const nested = value[field]
    if (Array.isArray(nested) || isObject(nested)) return decodeValue(nested, withEvent, depth + 1)
  }
  if (isObject(value.message) && (isBaileys(value.message) || isFlat(value.message))) {
    return decodeValue(value.message, withEvent, depth + 1)
  }
  if (isFlat(value)) return [fromFlat(value, withEvent, rawText)]
  return [unrecognised(value, withEvent, rawText)]
}

/** Every message in a webhook body (already parsed from JSON). */
export const decodeWebhookPayload = (body: unknown, receivedAt: Date): ReadonlyArray<IncomingMessage> => {
  const ctx = { receivedAt: receivedAt.toISOString() }
  const messages = decodeValue(body, ctx, 0)
  // An envelope around nothing (`{ event, data: [] }`) is still an event worth keeping.
  return messages.length > 0 ? messages : [unrecognised(body, ctx, toJson(body))]
}
