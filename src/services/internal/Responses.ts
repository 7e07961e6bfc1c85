/**
 * Tolerant decoding of ChatKazi's success bodies. The exact shapes are not published, so each
 * schema accepts the envelope `{ success, data }` or a bare object, the field names seen in the
 * wild, and keeps every field it does not know in `details`.
 */
import { Effect, ParseResult, Schema } from "effect"
import { type SendReceipt, Session, SessionQr } from "../Domain.js"

type Fields = Readonly<Record<string, unknown>>

const ID_FIELDS = ["sessionId", "id", "session", "name"] as const
const STATE_FIELDS = ["status", "state", "connectionState"] as const
const QR_FIELDS = ["qr", "qrCode", "qr_code", "qrcode", "link", "url"] as const
const PAIRING_FIELDS = ["pairingCode", "pairing_code", "code"] as const
const MESSAGE_ID_FIELDS = ["messageId", "message_id", "id"] as const

/** A JSON object (not an array, not null). */
export const isFields = (value: unknown): value is Fields =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** The payload of `{ success, data }`, or the body itself when it has no envelope. */
export const unwrap = (body: unknown): unknown => isFields(body) && "data" in body ? body.data : body

/** The first of `names` that holds a non-empty string (or, unless `stringsOnly`, a number), and its name. */
const pickField = (
  fields: Fields,
  names: ReadonlyArray<string>,
  stringsOnly = false
): { readonly name: string; readonly value: string } | undefined => {
  for (const name of names) {
    const value = fields[name]
    if (typeof value === "string" && value !== "") return { name, value }
    if (typeof value === "number" && !stringsOnly) return { name, value: String(value) }
  }
  return undefined
}

const pick = (fields: Fields, names: ReadonlyArray<string>): string | undefined => pickField(fields, names)?.value

const omit = (fields: Fields, names: ReadonlyArray<string>): Fields =>
  Object.fromEntries(Object.entries(fields).filter(([key]) => !names.includes(key)))

/** The fields that were read, so only they leave `details`: the rest is shown as the gateway sent it. */
const used = (...picked: ReadonlyArray<{ readonly name: string } | undefined>): Array<string> =>
  picked.flatMap((field) => field === undefined ? [] : [field.name])

const unexpected = (body: unknown, expected: string) =>
  new ParseResult.Type(Schema.Unknown.ast, body, `expected ${expected}`)

/** One session from an object (or a bare id string); `fallbackId` is used when the body names none. */
const decodeSession = (body: unknown, fallbackId?: string): Effect.Effect<Session, ParseResult.ParseIssue> => {
  const value = unwrap(body)
  if (typeof value === "string") {
    return fallbackId === undefined
      ? Effect.succeed(({ sessionId: value, details: {} }))
      : Effect.succeed(({ sessionId: fallbackId, state: value, details: {} }))
  }
  if (!isFields(value)) return Effect.fail(unexpected(body, "a session object"))
  const nested = isFields(value.session)
  const fields = nested ? { ...value, ...(value.session as Fields) } : value
  const id = pickField(fields, ID_FIELDS)
  const sessionId = id?.value ?? fallbackId
  if (sessionId === undefined) return Effect.fail(unexpected(body, "a session with an id"))
  const state = pickField(fields, STATE_FIELDS)
  // A number in `code` is a status code far more often than a pairing code.
  const pairingCode = pickField(fields, PAIRING_FIELDS, true)
  return Effect.succeed(
    ({
      sessionId,
      ...(state === undefined ? {} : { state: state.value }),
      ...(pairingCode === undefined ? {} : { pairingCode: pairingCode.value }),
      details: omit(fields, [...used(id, state, pairingCode), ...(nested ? ["session"] : [])])
    })
  )
}

/** The session list: `data` as an array, `data.sessions`, or a bare array. */
const decodeSessionList = (body: unknown): Effect.Effect<ReadonlyArray<Session>, ParseResult.ParseIssue> => {
  const value = unwrap(body)
  const list = Array.isArray(value) ? value : isFields(value) && Array.isArray(value.sessions) ? value.sessions : null
  if (list === null) return Effect.fail(unexpected(body, "a list of sessions"))
  return Effect.forEach(list, (item) => decodeSession(item))
}

const decodeQr = (body: unknown, requestedId: string): Effect.Effect<SessionQr, ParseResult.ParseIssue> => {
  const value = unwrap(body)
  if (typeof value === "string") return Effect.succeed(({ sessionId: requestedId, qr: value, details: {} }))
  if (!isFields(value)) return Effect.fail(unexpected(body, "a QR object"))
  const qr = pickField(value, QR_FIELDS, true)
  const state = pickField(value, STATE_FIELDS)
  const pairingCode = pickField(value, PAIRING_FIELDS, true)
  const id = pickField(value, ID_FIELDS)
  return Effect.succeed(
    ({
      sessionId: id?.value ?? requestedId,
      ...(qr === undefined ? {} : { qr: qr.value }),
      ...(state === undefined ? {} : { state: state.value }),
      ...(pairingCode === undefined ? {} : { pairingCode: pairingCode.value }),
      details: omit(value, used(id, qr, state, pairingCode))
    })
  )
}

/** Any success body of a send; nothing in it is required. */
const decodeReceipt = (body: unknown): SendReceipt => {
  const value = unwrap(body)
  const fields: Fields = isFields(value) ? value : value === undefined || value === null ? {} : { data: value }
  const key = isFields(fields.key) ? fields.key : {}
  const id = pickField(fields, MESSAGE_ID_FIELDS)
  const messageId = id?.value ?? pick(key, ["id"])
  const status = pickField(fields, ["status", "state"])
  return ({
    ...(messageId === undefined ? {} : { messageId }),
    ...(status === undefined ? {} : { status: status.value }),
    details: omit(fields, used(id, status))
  })
}

/** The human message of an error body: `message`, `error`, or `error.message`. */
export const gatewayMessage = (body: unknown): string | undefined => {
  if (!isFields(body)) return undefined
  const error = body.error
  return pick(body, ["message", "error", "detail"]) ?? (isFields(error) ? pick(error, ["message"]) : undefined)
}

const SIZE_FIELDS = ["size", "fileSize", "fileLength", "file_size", "bytes", "contentLength"] as const

/** A success body that admits the media file was empty. */
export const reportsEmptyMedia = (receipt: SendReceipt): boolean =>
  SIZE_FIELDS.some((name) => {
    const value = receipt.details[name]
    return value === 0 || value === "0"
  })

/** An error message that says the gateway could not download the media. */
export const mentionsFailedDownload = (message: string | undefined): boolean =>
  message !== undefined &&
  /\b0 ?bytes?\b|\bempty (file|media)\b|\b(download|fetch)(ing)?\b.*\b(fail|error|could ?n[o']t|unable)|\b(fail|error|could ?n[o']t|unable)\w*\b.*\b(download|fetch)/i
    .test(message)

/** Decodes a gateway answer's body; the `ParseError` says what was expected. */
export type BodyDecoder<A> = (body: unknown) => Effect.Effect<A, ParseResult.ParseError>

// The decoders the ChatKazi service runs on every answer: a tolerant reading of the body, then a
// check against the schema above. The validators are built once, not per call (building a Schema per
// call cost more than the rest of a call's decoding).
const validateSession = ParseResult.validate(Schema.typeSchema(Session))
const validateSessions = ParseResult.validate(Schema.typeSchema(Schema.Array(Session)))
const validateQr = ParseResult.validate(Schema.typeSchema(SessionQr))

const checked = <A>(decoded: Effect.Effect<A, ParseResult.ParseIssue>, validate: (value: unknown) => Effect.Effect<A, ParseResult.ParseIssue>) =>
  decoded.pipe(Effect.flatMap((value) => validate(value)), Effect.mapError(ParseResult.parseError))

export const decodeSessionBody = (fallbackId?: string): BodyDecoder<Session> => (body) =>
  checked(decodeSession(body, fallbackId), validateSession)

export const decodeSessionListBody: BodyDecoder<ReadonlyArray<Session>> = (body) =>
  checked(decodeSessionList(body), validateSessions)

export const decodeSessionQrBody = (requestedId: string): BodyDecoder<SessionQr> => (body) =>
  checked(decodeQr(body, requestedId), validateQr)

export const decodeSendReceiptBody: BodyDecoder<SendReceipt> = (body) => Effect.succeed(decodeReceipt(body))
