/**
 * Argument schemas the tools share. Their descriptions are what the model reads in `tools/list`,
 * and their checks are what the server enforces, so the two cannot drift apart.
 */
import { ParseResult, Schema } from "effect"
import { MEDIA_TYPES } from "../services/Domain.js"

const sessionIdText = "The WhatsApp session (instance) id, as shown by list_sessions."

/**
 * The input of a tool without arguments. `Schema.Struct({})` would accept any object (its JSON Schema
 * is an `anyOf` that MCP clients reject); a record of nothing refuses each extra key by name and lists
 * as a plain empty object schema.
 */
export const NoArguments = Schema.Record({
  key: Schema.String,
  value: Schema.Never.annotations({ message: () => "is unexpected: this tool takes no arguments" })
})

// Each filter carries a `jsonSchema` annotation: without one, JSONSchema.make leaves the refinement
// out of the tool's schema, and the description annotated on it with it.

/**
 * A session id: it travels in URLs and request bodies, so only a safe identifier is accepted (and a
 * model cannot smuggle a path, a query or a line break into a request through it).
 */
const SafeIdentifier = Schema.String.pipe(
  Schema.filter(
    (s) =>
      /^[A-Za-z0-9._-]{1,64}$/.test(s) ||
      "must be 1 to 64 letters, digits, dots, underscores or dashes (a session id as list_sessions shows it)",
    { jsonSchema: { pattern: "^[A-Za-z0-9._-]{1,64}$", minLength: 1, maxLength: 64 } }
  )
)

export const SessionId = SafeIdentifier.annotations({ description: sessionIdText })

/** A session id that may be left out: the account's `default` session is meant then. */
export const OptionalSessionId = Schema.optionalWith(
  SafeIdentifier.annotations({ description: `${sessionIdText} Defaults to "default".`, default: "default" }),
  // exact: JSON has no undefined, and without it a bad value is also reported as "Expected undefined".
  { exact: true, default: () => "default" }
)

/**
 * The recipient's number in international format. People and clients write numbers in many ways,
 * so a leading `+`, spaces, dashes, brackets and dots between digit groups ("254.712.345.678") are
 * removed; what remains must be 8 to 15 digits. A single dot reads as a decimal point: "254712345678.0"
 * from a spreadsheet would otherwise become 2547123456780, someone else's number.
 */
export const Recipient = Schema.transformOrFail(Schema.Union(Schema.String, Schema.Number), Schema.String, {
  strict: true,
  decode: (raw, _, ast) => {
    const text = String(raw).trim()
    const digits = text.split(".").length === 2 ? text : text.replace(/^\+/, "").replace(/[\s\-.()]/g, "")
    const refuse = (why: string) => ParseResult.fail(new ParseResult.Type(ast, raw, why))
    // A JSON number must be a whole positive number: 254712345678.5 would otherwise lose its
    // dot and become 2547123456785, someone else's number.
    if (!/^\d+$/.test(digits) || (typeof raw === "number" && !(Number.isSafeInteger(raw) && raw > 0))) {
      return refuse(
        `"${text}" is not a phone number: use the international format, digits only, e.g. 254712345678`
      )
    }
    if (digits.startsWith("0")) {
      return refuse(
        `"${text}" looks like a local or 00-prefixed number: write it with the country code and no leading zeros, e.g. 254712345678 instead of 0712345678`
      )
    }
    if (digits.length < 8 || digits.length > 15) {
      return refuse(`"${text}" has ${digits.length} digits; an international number has 8 to 15, e.g. 254712345678`)
    }
    return ParseResult.succeed(digits)
  },
  encode: ParseResult.succeed
}).annotations({
  description:
    "Recipient's phone number in international format with country code, e.g. \"254712345678\". A leading +, spaces, dashes and brackets are accepted and removed."
})

export const MessageText = Schema.String.pipe(
  Schema.filter((s) => s.trim() !== "" || "must not be empty: there is nothing to send", { jsonSchema: { minLength: 1 } }),
  Schema.filter((s) => s.length <= 65_536 || "is too long: WhatsApp messages are limited to 65,536 characters", {
    jsonSchema: { maxLength: 65_536 }
  })
).annotations({ description: "The message text. WhatsApp formatting (*bold*, _italic_) is kept as written." })

/** One message for a wrong kind, instead of one "Expected …" line per allowed value. */
export const MediaKind = Schema.Literal(...MEDIA_TYPES).annotations({
  message: () => ({ message: `must be one of ${MEDIA_TYPES.map((t) => `"${t}"`).join(", ")}`, override: true })
})
