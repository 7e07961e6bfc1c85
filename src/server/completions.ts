/**
 * `completion/complete`: suggests the account's session ids for the `sessionId` of the session
 * resource template and of the prompts. A suggestion is a convenience: when the sessions cannot be
 * listed, it offers none rather than an error.
 */
import type { Server } from "@modelcontextprotocol/sdk/server/index.js"
import { CompleteRequestSchema } from "@modelcontextprotocol/sdk/types.js"
import { Effect } from "effect"
import { ChatKazi } from "../services/ChatKazi.js"
import { promptsWithSessionId } from "./prompts.js"
import { type ReadOptions, runRead, SESSION_TEMPLATE } from "./resources.js"

/** MCP allows at most 100 values per answer. */
const MAX_VALUES = 100

/** Registers `completion/complete`. Call before the server connects. */
export const registerCompletions = <R>(server: Server, options: ReadOptions<R>): void => {
  server.registerCapabilities({ completions: {} })
  server.setRequestHandler(CompleteRequestSchema, async (request, extra) => {
    const { argument, ref } = request.params
    const forSessionId = argument.name === "sessionId" &&
      (ref.type === "ref/resource" ? ref.uri === SESSION_TEMPLATE : promptsWithSessionId.includes(ref.name))
    if (!forSessionId || options.unavailable !== undefined) return { completion: { values: [] } }
    const ids = await runRead(
      options,
      extra,
      Effect.flatMap(ChatKazi, (chatKazi) => chatKazi.listSessions).pipe(
        Effect.map((sessions) => sessions.map((session) => session.sessionId))
      )
    ).catch(() => [] as ReadonlyArray<string>)
    const matching = ids.filter((id) => id.startsWith(argument.value))
    return {
      completion: { values: matching.slice(0, MAX_VALUES), total: matching.length, hasMore: matching.length > MAX_VALUES }
    }
  })
}
