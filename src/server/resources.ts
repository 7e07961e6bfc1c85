/**
 * Resources: the account's sessions as JSON a host can attach to a conversation, `chatkazi://sessions`
 * (all of them) and `chatkazi://sessions/{sessionId}` (one). Reading goes through the same ChatKazi
 * service, retries and guidance as the tools; a failure is a JSON-RPC error whose message is the
 * guidance (-32002 for a session ChatKazi does not know).
 */
import { ErrorCode } from "@modelcontextprotocol/sdk/types.js"
import { Cause, Effect, Either, Exit, Option, type Runtime } from "effect"
import type { ChatKaziError } from "../errors/ChatKaziError.js"
import { ChatKazi } from "../services/ChatKazi.js"
import { SessionId } from "../tools/Inputs.js"
import { viewSession } from "../tools/SessionView.js"
import { decodeArguments } from "../tools/Tool.js"
import type { Calls } from "./calls.js"
import type { WithClientLog } from "./clientLog.js"
import { ProtocolError } from "./protocolError.js"
import { RESOURCE_NOT_FOUND, type RequestExtra, type ResourceProvider } from "./resourceProviders.js"

export const SESSIONS_URI = "chatkazi://sessions"
export const SESSION_TEMPLATE = "chatkazi://sessions/{sessionId}"


export interface ReadOptions<R> {
  /** Where reads run: a runtime that provides ChatKazi. */
  readonly runtime: Runtime.Runtime<R>
  readonly calls: Calls
  /** Set when the services could not be built: every read fails with this guidance. */
  readonly unavailable?: ChatKaziError | undefined
  readonly withClientLog?: WithClientLog | undefined
}

/** Runs a read like a tool call (tracked, cancellable, logged to the client); failures become JSON-RPC errors. */
export const runRead = async <A, R>(
  options: ReadOptions<R>,
  extra: RequestExtra,
  read: Effect.Effect<A, ChatKaziError, ChatKazi>
): Promise<A> => {
  if (options.unavailable !== undefined) throw new ProtocolError(ErrorCode.InternalError, options.unavailable.message)
  const logged = options.withClientLog?.(extra)(read) ?? read
  const exit = await options.calls.run(options.runtime, logged as Effect.Effect<A, ChatKaziError, R>, extra.signal)
  if (exit === undefined) {
    throw new ProtocolError(ErrorCode.InternalError, "The read was stopped before it finished (cancelled, or the server is shutting down).")
  }
  if (Exit.isSuccess(exit)) return exit.value
  const failure = Cause.failureOption(exit.cause)
  if (Option.isSome(failure)) {
    throw new ProtocolError(failure.value._tag === "NotFound" ? RESOURCE_NOT_FOUND : ErrorCode.InternalError, failure.value.message)
  }
  throw new ProtocolError(ErrorCode.InternalError, "The read failed because of an unexpected problem in this server; try again.")
}

const json = (uri: string, data: unknown) => ({
  contents: [{ uri, mimeType: "application/json", text: JSON.stringify(data, null, 2) }]
})

/** The session id in `chatkazi://sessions/{sessionId}`, checked like a tool's; undefined for other URIs. */
const sessionIdIn = (uri: string): string | undefined => {
  if (!uri.startsWith(`${SESSIONS_URI}/`)) return undefined
  const raw = uri.slice(SESSIONS_URI.length + 1)
  let id: string
  try {
    id = decodeURIComponent(raw)
  } catch {
    id = raw
  }
  const decoded = Effect.runSync(Effect.either(decodeArguments(SessionId, id)))
  if (Either.isLeft(decoded)) {
    throw new ProtocolError(ErrorCode.InvalidParams, `Invalid session id in ${uri}: it ${decoded.left.problems.join("; ")}.`)
  }
  return decoded.right
}

/** The sessions resources, as one of the server's resource providers. */
export const sessionsResources = <R>(options: ReadOptions<R>): ResourceProvider => ({
  resources: [{
    uri: SESSIONS_URI,
    name: "sessions",
    title: "WhatsApp sessions",
    description: "Every WhatsApp session on the ChatKazi account, with its state, what it means and the next step.",
    mimeType: "application/json"
  }],
  templates: [{
    uriTemplate: SESSION_TEMPLATE,
    name: "session",
    title: "One WhatsApp session",
    description: "One WhatsApp session's state, what it means and the next step.",
    mimeType: "application/json"
  }],
  read: async (uri, extra) => {
    if (uri === SESSIONS_URI) {
      const sessions = await runRead(options, extra, Effect.flatMap(ChatKazi, (chatKazi) => chatKazi.listSessions))
      const views = sessions.map(viewSession)
      return json(uri, { count: views.length, sessions: views })
    }
    const sessionId = sessionIdIn(uri)
    if (sessionId === undefined) return undefined
    const session = await runRead(options, extra, Effect.flatMap(ChatKazi, (chatKazi) => chatKazi.sessionStatus(sessionId)))
    return json(uri, viewSession(session))
  }
})
