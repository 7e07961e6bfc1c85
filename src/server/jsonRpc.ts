/**
 * The checks a message passes before it reaches the SDK, so that every message a client sends gets an
 * answer: the SDK drops what it cannot parse without a word (the client then waits for its own
 * timeout), and answers a request whose params its schemas refuse with a validator dump. Pure, so
 * any transport can use it.
 *
 * - not JSON: -32700 with `id: null`;
 * - not a JSON-RPC message (no `jsonrpc: "2.0"`, a method that is not a string, an id that is null
 *   or an object, a batch): -32600, answered to the id when there is one, else to `id: null`;
 * - a request whose params do not fit its method (e.g. `tools/call` arguments that are not an
 *   object): -32602 with one short sentence.
 */
import { ClientRequestSchema, ErrorCode, type JSONRPCMessage, JSONRPCMessageSchema } from "@modelcontextprotocol/sdk/types.js"
import { argumentsNotAnObject } from "./dispatch.js"

type Id = string | number

/** A JSON-RPC error answer; unlike the SDK's type, its id may be null (JSON-RPC 2.0 §5). */
export interface ErrorAnswer {
  readonly jsonrpc: "2.0"
  readonly id: Id | null
  readonly error: { readonly code: number; readonly message: string }
}

export type Screened =
  | { readonly _tag: "Message"; readonly message: JSONRPCMessage }
  /** `answer` is absent for a notification, which is never answered; `reason` is for the log. */
  | { readonly _tag: "Refused"; readonly answer?: ErrorAnswer; readonly reason: string }

const answer = (id: Id | null, code: number, message: string): ErrorAnswer => ({ jsonrpc: "2.0", id, error: { code, message } })

const refused = (id: Id | null | undefined, code: number, message: string): Screened => ({
  _tag: "Refused",
  reason: message,
  ...(id === undefined ? {} : { answer: answer(id, code, message) })
})

export const parseError = (): ErrorAnswer =>
  answer(null, ErrorCode.ParseError, "Parse error: the message is not valid JSON. Send one JSON-RPC message per line.")

export const tooLarge = (bytes: number, limit: number): ErrorAnswer =>
  answer(
    null,
    ErrorCode.InvalidRequest,
    `Invalid Request: a message of ${bytes} bytes or more is over this server's limit of ${limit} bytes; it was skipped.`
  )

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const isId = (value: unknown): value is Id =>
  typeof value === "string" || (typeof value === "number" && Number.isSafeInteger(value))

/** The SDK's schema for each request a client may send, by method. */
const requestSchemas: ReadonlyMap<string, (typeof ClientRequestSchema.options)[number]> = new Map(
  ClientRequestSchema.options.map((schema) => [schema.shape.method.value, schema])
)

/** One sentence about what is wrong with a request's params, or undefined when they fit. */
const paramsProblem = (method: string, request: Record<string, unknown>): string | undefined => {
  const params = request.params
  if (method === "tools/call" && isObject(params) && typeof params.name === "string" && "arguments" in params) {
    if (!isObject(params.arguments)) return argumentsNotAnObject(params.name)
  }
  const schema = requestSchemas.get(method)
  if (schema === undefined) return undefined
  const parsed = schema.safeParse(request)
  if (parsed.success) return undefined
  const issue = parsed.error.issues[0]!
  const where = issue.path.length > 0 ? issue.path.join(".") : "the request"
  return `Invalid params for ${method}: ${where}: ${issue.message.replace(/^Invalid input: /, "")}.`
}

/** Checks one parsed JSON value. */
export const screen = (value: unknown): Screened => {
  if (Array.isArray(value)) {
    return refused(
      null,
      ErrorCode.InvalidRequest,
      "Invalid Request: batches (JSON arrays) are not supported by the negotiated MCP version; send each message on its own line."
    )
  }
  if (!isObject(value)) return refused(null, ErrorCode.InvalidRequest, "Invalid Request: a JSON-RPC message must be a JSON object.")
  const id = isId(value.id) ? value.id : null
  const isRequest = "method" in value
  if (value.jsonrpc !== "2.0") {
    return refused(id, ErrorCode.InvalidRequest, 'Invalid Request: "jsonrpc" must be "2.0".')
  }
  if (isRequest) {
    if (typeof value.method !== "string") {
      return refused(id, ErrorCode.InvalidRequest, 'Invalid Request: "method" must be a string.')
    }
    const hasId = "id" in value
    if (hasId && !isId(value.id)) {
      return refused(null, ErrorCode.InvalidRequest, 'Invalid Request: "id" must be a string or an integer (not null).')
    }
    if ("params" in value && !isObject(value.params)) {
      return refused(hasId ? id : undefined, ErrorCode.InvalidParams, 'Invalid params: "params" must be a JSON object.')
    }
    const problem = hasId ? paramsProblem(value.method, value) : undefined
    if (problem !== undefined) return refused(id, ErrorCode.InvalidParams, problem)
  } else if (!isId(value.id) || ("result" in value) === ("error" in value)) {
    return refused(
      null,
      ErrorCode.InvalidRequest,
      'Invalid Request: a message without "method" must be a response: an "id" and either "result" or "error".'
    )
  }
  const parsed = JSONRPCMessageSchema.safeParse(value)
  if (!parsed.success) {
    return refused(
      isRequest && "id" in value ? id : isRequest ? undefined : null,
      ErrorCode.InvalidRequest,
      "Invalid Request: not a JSON-RPC message this server understands."
    )
  }
  return { _tag: "Message", message: parsed.data }
}
