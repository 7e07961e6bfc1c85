/**
 * What a tool is: its name and words for the model, an input and an output Schema (which are also
 * its MCP `inputSchema` and `outputSchema`), annotations, and the Effect program that runs it.
 */
import { Effect, JSONSchema, ParseResult, Schema } from "effect"
import { type ChatKaziError, InvalidInput } from "../errors/ChatKaziError.js"

export interface ToolImage {
  /** Base64, without a `data:` prefix. */
  readonly data: string
  readonly mimeType: string
}

export interface ToolReply<O> {
  /** Returned as `structuredContent`; valid against the tool's output schema. */
  readonly data: O
  /** What the model reads: a short account of the result and what to do next. */
  readonly text: string
  readonly images?: ReadonlyArray<ToolImage>
}

export interface ToolAnnotations {
  readonly readOnlyHint: boolean
  readonly destructiveHint?: boolean
  readonly idempotentHint?: boolean
  readonly openWorldHint: boolean
}

/**
 * How a tool takes part in the MCP Apps extension (`io.modelcontextprotocol/ui`), listed as its
 * `_meta.ui`: the `ui://` resource a host renders with its results, and who may call it
 * ("model", "app"; the extension's default is both).
 */
export interface ToolUi {
  readonly resourceUri?: string
  readonly visibility?: ReadonlyArray<"model" | "app">
}

export interface Tool<I, IE, O, OE, R> {
  readonly name: string
  readonly title: string
  readonly description: string
  readonly input: Schema.Schema<I, IE>
  readonly output: Schema.Schema<O, OE>
  readonly annotations: ToolAnnotations
  readonly ui?: ToolUi
  readonly run: (input: I) => Effect.Effect<ToolReply<O>, ChatKaziError, R>
}

// biome-ignore lint: the registry holds tools of every input and output type
export type AnyTool = Tool<any, any, any, any, any>

export type ToolRequirements<T extends AnyTool> = T extends Tool<any, any, any, any, infer R> ? R : never

export const defineTool = <I, IE, O, OE, R>(tool: Tool<I, IE, O, OE, R>): Tool<I, IE, O, OE, R> => tool

/**
 * An object schema as MCP wants it: `type: "object"` at the top, no `$schema`, and none of the
 * placeholders JSONSchema.make writes for `Unknown`/`Any` (`{"$id":"/schemas/unknown","title":"unknown"}`):
 * every schema of a server shares that `$id`, so a validator that compiles them together refuses them.
 */
export const objectJsonSchema = (schema: Schema.Schema.Any): { type: "object"; [key: string]: unknown } => {
  const { $schema: _, ...json } = withoutPlaceholders(JSONSchema.make(schema)) as Record<string, unknown>
  return { ...json, type: "object", properties: json.properties ?? {} }
}

const withoutPlaceholders = (json: unknown): unknown => {
  if (Array.isArray(json)) return json.map(withoutPlaceholders)
  if (json === null || typeof json !== "object") return json
  const entries = Object.entries(json)
  const placeholder = typeof (json as { $id?: unknown }).$id === "string" && (json as { $id: string }).$id.startsWith("/schemas/")
  return Object.fromEntries(
    entries
      .filter(([key]) => !(placeholder && (key === "$id" || key === "title")))
      .map(([key, value]) => [key, withoutPlaceholders(value)])
  )
}

/** Decodes raw arguments, listing every problem at once. */
export const decodeInput = <I, IE>(tool: Tool<I, IE, any, any, any>, args: unknown): Effect.Effect<I, InvalidInput> =>
  decodeArguments(tool.input, args)

/** Decodes arguments (tool input, prompt arguments) with `schema`, listing every problem at once. */
export const decodeArguments = <I, IE>(schema: Schema.Schema<I, IE>, args: unknown): Effect.Effect<I, InvalidInput> =>
  Effect.mapError(
    Schema.decodeUnknown(schema, { errors: "all", onExcessProperty: "error" })(args ?? {}),
    (error) =>
      new InvalidInput({
        problems: ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) =>
          issue.path.length === 0 ? issue.message : `${issue.path.join(".")}: ${issue.message}`
        )
      })
  )
