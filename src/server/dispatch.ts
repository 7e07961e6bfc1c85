/**
 * The pure heart of the MCP edge, shared by every transport: which tools are offered, and how one
 * `tools/call` (a name, raw arguments) becomes a `CallToolResult`. No transport, no runtime: it
 * returns an Effect that needs the tools' services, and the transport runs it.
 *
 * A call to a tool that does not exist, or with arguments that are not an object, is a protocol
 * error (JSON-RPC -32602); everything else, including invalid arguments, is a tool result that the
 * model reads, with guidance.
 */
import type { CallToolResult, Tool as McpTool } from "@modelcontextprotocol/sdk/types.js"
import { Cause, Data, Effect, Schema } from "effect"
import { type ChatKaziError, ReadOnlyMode } from "../errors/ChatKaziError.js"
import { type AnyTool, decodeInput, objectJsonSchema, type ToolReply, type ToolUi } from "../tools/Tool.js"

export interface DispatchOptions {
  readonly tools: ReadonlyArray<AnyTool>
  /** Only the read-only tools are listed and callable. */
  readonly readOnly?: boolean
  /** Put before every result's text, e.g. to say this is the sandbox. */
  readonly notice?: string | undefined
  /**
   * Set when the services could not be built (no API key, a bad setting): every call answers with
   * this failure's guidance, and nothing is sent.
   */
  readonly unavailable?: ChatKaziError | undefined
}

export const argumentsNotAnObject = (tool: string) => `The arguments of ${tool} must be a JSON object.`

/** A call that cannot be answered with a tool result: the transport answers it with JSON-RPC -32602. */
export class InvalidCall extends Data.TaggedError("InvalidCall")<{ readonly message: string }> {}

export interface Dispatch {
  /** What `tools/list` shows. */
  readonly tools: ReadonlyArray<McpTool>
  readonly find: (name: string) => AnyTool | undefined
  /** Why the services are unavailable, when they are (see `DispatchOptions`). */
  readonly unavailable?: ChatKaziError | undefined
  /** Runs one call; never fails but with `InvalidCall`, and never dies. */
  readonly call: <R>(name: string, args: unknown) => Effect.Effect<CallToolResult, InvalidCall, R>
}

export const makeDispatch = (options: DispatchOptions): Dispatch => {
  const offered = options.readOnly ? options.tools.filter((tool) => tool.annotations.readOnlyHint) : options.tools
  const byName = new Map(options.tools.map((tool) => [tool.name, tool]))
  const listed = offered.map(describeTool)
  // Tools only an MCP App may call (visibility ["app"]) are never named to the model.
  const forModel = offered.filter((tool) => tool.ui?.visibility?.includes("model") !== false)
  const notice = options.notice

  const call = <R>(name: string, args: unknown): Effect.Effect<CallToolResult, InvalidCall, R> => {
    const tool = byName.get(name)
    if (tool === undefined) {
      return Effect.fail(
        new InvalidCall({ message: `Unknown tool "${name}". The tools are: ${forModel.map((t) => t.name).join(", ")}.` })
      )
    }
    if (args !== undefined && (args === null || typeof args !== "object" || Array.isArray(args))) {
      return Effect.fail(new InvalidCall({ message: argumentsNotAnObject(name) }))
    }
    const program: Effect.Effect<CallToolResult, ChatKaziError, R> = options.unavailable !== undefined
      ? Effect.fail(options.unavailable)
      : options.readOnly && !tool.annotations.readOnlyHint
      ? Effect.fail(new ReadOnlyMode({ tool: name }))
      : decodeInput(tool, args).pipe(
        Effect.flatMap((input) => tool.run(input) as Effect.Effect<ToolReply<unknown>, ChatKaziError, R>),
        Effect.flatMap((reply) => successResult(tool, reply, notice))
      )
    return program.pipe(
      // A guard's refusal is worth a warning in the logs (and the client's), not only in the result.
      Effect.tapError((error) =>
        error._tag === "PaceLimited" || error._tag === "RecipientNotAllowed"
          ? Effect.logWarning(`${name} refused: ${error.message}`)
          : Effect.void
      ),
      Effect.catchAll((error) => Effect.succeed(errorResult(error.message, notice))),
      Effect.catchAllCause((cause) =>
        Effect.as(
          Effect.logError(`${name} failed unexpectedly`, Cause.pretty(cause)),
          errorResult(
            `${name} failed because of an unexpected problem in this server (details are in its log). ` +
              (tool.annotations.readOnlyHint === false
                ? "It may or may not have taken effect: check before calling it again."
                : "Try again; if it keeps failing, tell the user."),
            notice
          )
        )
      )
    )
  }

  return { tools: listed, find: (name) => byName.get(name), call, unavailable: options.unavailable }
}

export const describeTool = (tool: AnyTool): McpTool => ({
  name: tool.name,
  title: tool.title,
  description: tool.description,
  inputSchema: objectJsonSchema(tool.input),
  outputSchema: objectJsonSchema(tool.output),
  annotations: { title: tool.title, ...tool.annotations },
  ...(tool.ui === undefined ? {} : { _meta: uiMeta(tool.ui) })
})

/** `_meta.ui`, plus the extension's older flat `ui/resourceUri` key that earlier hosts read. */
const uiMeta = (ui: ToolUi): Record<string, unknown> => ({
  ui,
  ...(ui.resourceUri === undefined ? {} : { "ui/resourceUri": ui.resourceUri })
})

const withNotice = (text: string, notice: string | undefined) => notice ? `${notice}\n${text}` : text

const successResult = (tool: AnyTool, reply: ToolReply<unknown>, notice?: string) =>
  Effect.map(
    Schema.encodeUnknown(tool.output)(reply.data).pipe(Effect.orDie),
    (structuredContent): CallToolResult => ({
      content: [
        { type: "text", text: withNotice(reply.text, notice) },
        ...(reply.images ?? []).map((image) => ({ type: "image" as const, data: image.data, mimeType: image.mimeType }))
      ],
      structuredContent: structuredContent as Record<string, unknown>
    })
  )

export const errorResult = (text: string, notice?: string): CallToolResult => ({
  content: [{ type: "text", text: withNotice(text, notice) }],
  isError: true
})

/** The answer to a call that was cancelled or cut short by shutdown. */
export const stoppedResult = (tool: AnyTool | undefined, notice?: string) =>
  errorResult(
    "This call was stopped before it finished (cancelled, or the server is shutting down). " +
      (tool?.annotations.readOnlyHint === false
        ? "It may or may not have taken effect: check before calling it again."
        : "Nothing was changed; call it again if it is still needed."),
    notice
  )
