/**
 * One SDK `Server` with this server's handlers, for any transport: stdio keeps one for the process,
 * stateless HTTP makes one per request. Calls go through the dispatch and run in the given runtime.
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js"
import {
  type CallToolResult,
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema
} from "@modelcontextprotocol/sdk/types.js"
import type { jsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/types.js"
import { Cause, Effect, Exit, Option, type Runtime } from "effect"
import { Progress } from "../services/Progress.js"
import type { Calls } from "./calls.js"
import { type Dispatch, stoppedResult } from "./dispatch.js"
import { listedTools, registerUiResources } from "./uiResource.js"

export interface McpServerOptions<R> {
  readonly name: string
  readonly version: string
  readonly instructions?: string | undefined
  readonly dispatch: Dispatch
  /** Where calls run: the services the tools need. */
  readonly runtime: Runtime.Runtime<R>
  readonly calls: Calls
  readonly notice?: string | undefined
  /** Where the SDK's own transport errors are reported. */
  readonly onError?: (error: Error) => void
}

export const makeMcpServer = <R>(options: McpServerOptions<R>): Server => {
  const { calls, dispatch, runtime } = options
  const server = new Server(
    { name: options.name, version: options.version },
    {
      capabilities: { tools: {}, resources: {} },
      ...(options.instructions ? { instructions: options.instructions } : {}),
      jsonSchemaValidator: noElicitation
    }
  )
  if (options.onError) server.onerror = options.onError

  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: listedTools(dispatch.tools, server.getClientCapabilities())
  }))
  // MCP Apps: the linking card's ui:// resource (uiResource.ts).
  registerUiResources(server)
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const { name, arguments: args, _meta } = request.params
    const progressToken = _meta?.progressToken
    const progress: Progress["Type"] = {
      report: (report) =>
        progressToken === undefined ? Effect.void : Effect.ignore(Effect.tryPromise(() =>
          extra.sendNotification({ method: "notifications/progress", params: { progressToken, ...report } })
        ))
    }
    const exit = await calls.run(
      runtime,
      dispatch.call<R>(name, args).pipe(
        Effect.provideService(Progress, progress),
        Effect.catchTag("InvalidCall", (invalid) => Effect.die(new ProtocolError(ErrorCode.InvalidParams, invalid.message)))
      ),
      extra.signal
    )
    if (exit !== undefined && Exit.isFailure(exit)) {
      const defect = Cause.dieOption(exit.cause)
      if (Option.isSome(defect) && defect.value instanceof ProtocolError) throw defect.value
    }
    return exit !== undefined && Exit.isSuccess(exit)
      ? exit.value
      : stoppedResult(dispatch.find(name), options.notice) satisfies CallToolResult
  })
  return server
}

/** Thrown from a request handler, the SDK answers with this JSON-RPC error code and message as they are. */
export class ProtocolError extends Error {
  constructor(readonly code: number, message: string) {
    super(message)
  }
}

/**
 * The SDK validates answers to elicitation requests with this; by default it builds an Ajv instance
 * (and the bundle would carry Ajv) at every start. This server never asks the user for input.
 */
const noElicitation: jsonSchemaValidator = {
  getValidator: () => () => ({ valid: false, data: undefined, errorMessage: "this server does not elicit input" })
}
