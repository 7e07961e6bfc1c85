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
import { Cause, Effect, Exit, Option, type Runtime } from "effect"
import { Elicitation } from "../services/Elicitation.js"
import { Progress } from "../services/Progress.js"
import type { Calls } from "./calls.js"
import { registerLogging } from "./clientLog.js"
import { registerCompletions } from "./completions.js"
import { installResources, type ResourceProvider } from "./resourceProviders.js"
import { type Dispatch, stoppedResult } from "./dispatch.js"
import { elicitationFor, flatFormValidator } from "./elicitation.js"
import { registerPrompts } from "./prompts.js"
import { ProtocolError } from "./protocolError.js"
import { sessionsResources } from "./resources.js"
import { listedTools, uiResourceProvider } from "./uiResource.js"

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
  /** Resources (chatkazi://messages…), given the server so they can send notifications. */
  readonly resources?: ((server: Server) => ReadonlyArray<ResourceProvider>) | undefined
}

export const makeMcpServer = <R>(options: McpServerOptions<R>): Server => {
  const { calls, dispatch, runtime } = options
  const server = new Server(
    { name: options.name, version: options.version },
    {
      capabilities: { tools: {}, resources: {} },
      ...(options.instructions ? { instructions: options.instructions } : {}),
      jsonSchemaValidator: flatFormValidator
    }
  )
  if (options.onError) server.onerror = options.onError

  // The rest of MCP hosts show: client logging, prompts, resources and completions, on the same services.
  const withClientLog = registerLogging(server)
  const reads = { runtime, calls, unavailable: dispatch.unavailable, withClientLog }
  registerPrompts(server, dispatch.tools.map((tool) => tool.name))
  // MCP Apps: the linking card is a ui:// resource (uiResource.ts).
  installResources(server, [sessionsResources(reads), uiResourceProvider, ...(options.resources?.(server) ?? [])])
  registerCompletions(server, reads)

  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: listedTools(dispatch.tools, server.getClientCapabilities())
  }))
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
        Effect.provideService(Elicitation, elicitationFor(server, extra.requestId)),
        withClientLog(extra),
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

export { ProtocolError }
