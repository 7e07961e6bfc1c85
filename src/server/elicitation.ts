/**
 * Asking the user through MCP elicitation (`elicitation/create`, form mode): the per-call
 * `Elicitation` a connection provides when its client declared it can show forms, and the small
 * JSON Schema check the SDK runs on the answers.
 */
import type { Server } from "@modelcontextprotocol/sdk/server/index.js"
import { ErrorCode, McpError, type RequestId } from "@modelcontextprotocol/sdk/types.js"
import type { JsonSchemaType, jsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/types.js"
import { Effect } from "effect"
import { type Answer, AskFailed, type ElicitationApi } from "../services/Elicitation.js"

const FIELD = "confirm"

/** Asks on `server`'s connection, as part of the request `requestId` (so HTTP streams route it with the call). */
export const elicitationFor = (server: Server, requestId: RequestId): ElicitationApi => ({
  available: canShowForms(server),
  ask: ({ message, timeoutMs, yesLabel }) =>
    Effect.tryPromise({
      // The signal aborts when the fiber is interrupted (the wait timed out, the call was cancelled):
      // the SDK then tells the client the question is withdrawn.
      try: (signal) =>
        server.elicitInput(
          {
            mode: "form",
            message,
            requestedSchema: {
              type: "object",
              properties: { [FIELD]: { type: "boolean", title: yesLabel, default: false } },
              required: [FIELD]
            }
          },
          { signal, timeout: timeoutMs, relatedRequestId: requestId }
        ),
      catch: (error) => error
    }).pipe(
      Effect.map(({ action, content }): Answer =>
        action === "accept" ? (content?.[FIELD] === true ? "approved" : "unticked") : action === "decline" ? "declined" : "dismissed"
      ),
      Effect.catchAll((error) =>
        error instanceof McpError && error.code === ErrorCode.RequestTimeout
          ? Effect.succeed<Answer>("unanswered")
          : Effect.fail(new AskFailed({ reason: error instanceof Error ? error.message : String(error) }))
      )
    )
})

/** An empty `elicitation: {}` means forms (the SDK reads it so too); a client may also offer only URLs. */
const canShowForms = (server: Server): boolean => {
  const elicitation = server.getClientCapabilities()?.elicitation
  return elicitation !== undefined && (elicitation.form !== undefined || elicitation.url === undefined)
}

/**
 * The SDK checks answers to elicitation requests against the requested schema with this. Its default
 * is Ajv, which the bundle leaves out (scripts/bundle.mjs): our questions are flat objects of
 * booleans, strings and numbers, and this checks exactly that much.
 */
export const flatFormValidator: jsonSchemaValidator = {
  getValidator: <T>(schema: JsonSchemaType) => (input: unknown) => {
    const problem = flatFormProblem(schema, input)
    return problem === undefined
      ? { valid: true as const, data: input as T, errorMessage: undefined }
      : { valid: false as const, data: undefined, errorMessage: problem }
  }
}

const flatFormProblem = (schema: JsonSchemaType, input: unknown): string | undefined => {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return "the answer is not an object"
  const values = input as Record<string, unknown>
  const properties = (schema.properties ?? {}) as Record<string, JsonSchemaType>
  const missing = (schema.required ?? []).find((name) => !(name in values))
  if (missing !== undefined) return `"${missing}" is required`
  for (const [name, value] of Object.entries(values)) {
    const property = properties[name]
    if (property === undefined) continue // extra fields are allowed by a plain object schema
    const expected = property.type
    const fits = expected === "boolean"
      ? typeof value === "boolean"
      : expected === "string"
      ? typeof value === "string" && (property.enum === undefined || property.enum.includes(value))
      : expected === "number"
      ? typeof value === "number"
      : expected === "integer"
      ? Number.isInteger(value)
      : false
    if (!fits) return `"${name}" must be ${property.enum === undefined ? `of type ${String(expected)}` : "one of the offered choices"}`
  }
  return undefined
}
