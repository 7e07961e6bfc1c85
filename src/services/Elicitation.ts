/**
 * Asking the user a yes/no question in the middle of a call. How is the transport's business: the
 * MCP server provides one per call when the client can show a form (MCP elicitation); otherwise
 * (the default, and stateless HTTP, which cannot ask mid-call) nobody can be asked.
 */
import { Context, Data, Effect } from "effect"

export interface Question {
  /** What the user reads: everything they need to decide, in plain words. */
  readonly message: string
  /** The label of the box the user ticks to say yes. */
  readonly yesLabel: string
  /** Give up waiting after this long. */
  readonly timeoutMs: number
}

/**
 * - approved: accepted with the box ticked
 * - declined: said no
 * - dismissed: closed the question without choosing
 * - unticked: accepted without ticking the box
 * - unanswered: no answer in time
 */
export type Answer = "approved" | "declined" | "dismissed" | "unticked" | "unanswered"

/** The question could not be put to the user, or the answer made no sense. */
export class AskFailed extends Data.TaggedError("AskFailed")<{ readonly reason: string }> {}

export interface ElicitationApi {
  /** Whether `ask` can reach the user in this call. */
  readonly available: boolean
  readonly ask: (question: Question) => Effect.Effect<Answer, AskFailed>
}

export class Elicitation extends Context.Reference<Elicitation>()("chatkazi-mcp/Elicitation", {
  defaultValue: (): ElicitationApi => ({
    available: false,
    ask: () => Effect.fail(new AskFailed({ reason: "this connection cannot ask the user" }))
  })
}) {}
