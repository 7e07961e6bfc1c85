/**
 * Progress reports from a long-running tool. The MCP server provides one per call when the client
 * asked for progress (a `progressToken`); otherwise reports go nowhere.
 */
import { Context, Effect } from "effect"

export interface ProgressReport {
  readonly progress: number
  readonly total?: number
  readonly message?: string
}

export class Progress extends Context.Reference<Progress>()("chatkazi-mcp/Progress", {
  defaultValue: () => ({ report: (_: ProgressReport): Effect.Effect<void> => Effect.void })
}) {}
