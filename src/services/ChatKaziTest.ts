/**
 * An in-memory ChatKazi for tests (ours and downstream apps'): sessions live in a map, sends are
 * recorded, and any operation can be made to fail with a typed error.
 */
import { Context, Effect, Layer } from "effect"
import { type ChatKaziError, Conflict, InvalidRequest, NotFound } from "../errors/ChatKaziError.js"
import { ChatKazi } from "./ChatKazi.js"
import type { MediaMessage, SendReceipt, Session, TextMessage } from "./Domain.js"

export type Operation = keyof ChatKazi["Type"]

export interface RecordedCall {
  readonly operation: Operation
  readonly argument?: unknown
}

export interface ChatKaziTestApi {
  /** Every call that reached the fake gateway, in order. */
  readonly calls: ReadonlyArray<RecordedCall>
  /** The messages the fake gateway accepted. */
  readonly sent: ReadonlyArray<TextMessage | MediaMessage>
  readonly setState: (sessionId: string, state: string) => void
  /** The next calls of `operation` fail with these errors, one each, in order. */
  readonly failNext: (operation: Operation, ...errors: ReadonlyArray<ChatKaziError>) => void
}

/** The recorder of the in-memory gateway that `ChatKazi.layerTest` provides beside it. */
export class ChatKaziTest extends Context.Tag("chatkazi-mcp/ChatKaziTest")<ChatKaziTest, ChatKaziTestApi>() {}

/** `ChatKazi` in memory and its recorder; `sessions` maps ids to their starting states. */
export const layerChatKaziTest = (sessions: Readonly<Record<string, string>> = {}): Layer.Layer<ChatKazi | ChatKaziTest> =>
  Layer.effectContext(Effect.sync(() => {
    const fake = makeFake(sessions)
    return Context.make(ChatKazi, fake.service).pipe(Context.add(ChatKaziTest, fake.recorder))
  }))

const makeFake = (initial: Readonly<Record<string, string>>) => {
  const states = new Map(Object.entries(initial))
  const calls: Array<RecordedCall> = []
  const sent: Array<TextMessage | MediaMessage> = []
  const failures = new Map<Operation, Array<ChatKaziError>>()
  let nextMessageId = 1

  const session = (sessionId: string): Session => ({ sessionId, state: states.get(sessionId)!, details: {} })

  const handle = <A>(operation: Operation, argument: unknown, answer: () => Effect.Effect<A, ChatKaziError>) =>
    Effect.suspend(() => {
      calls.push({ operation, ...(argument === undefined ? {} : { argument }) })
      const failure = failures.get(operation)?.shift()
      return failure ? Effect.fail(failure) : answer()
    })

  const known = (sessionId: string) =>
    states.has(sessionId) ? Effect.succeed(sessionId) : Effect.fail(new NotFound({ gatewayMessage: `session ${sessionId} not found` }))

  const send = (operation: "sendText" | "sendMedia", message: TextMessage | MediaMessage) =>
    handle(operation, message, () =>
      Effect.flatMap(known(message.sessionId), (id): Effect.Effect<SendReceipt, ChatKaziError> => {
        if (states.get(id) !== "connected") {
          return Effect.fail(new InvalidRequest({ status: 400, gatewayMessage: `session ${id} is not connected` }))
        }
        sent.push(message)
        return Effect.succeed({ messageId: `test-${nextMessageId++}`, status: "sent", details: {} })
      }))

  const service = ChatKazi.of({
    listSessions: handle("listSessions", undefined, () => Effect.succeed([...states.keys()].map(session))),
    startSession: (sessionId) =>
      handle("startSession", sessionId, () => {
        const state = states.get(sessionId)
        if (state !== undefined && state !== "not_started" && state !== "logged_out" && state !== "disconnected") {
          return Effect.fail(new Conflict({ gatewayMessage: `session ${sessionId} is already ${state}` }))
        }
        states.set(sessionId, "qr_ready")
        return Effect.succeed(session(sessionId))
      }),
    sessionStatus: (sessionId) => handle("sessionStatus", sessionId, () => Effect.map(known(sessionId), session)),
    sessionQr: (sessionId) =>
      handle("sessionQr", sessionId, () =>
        Effect.map(known(sessionId), (id) => ({
          ...session(id),
          ...(states.get(id) === "qr_ready" ? { qr: `2@test-qr-${id}` } : {})
        }))),
    logoutSession: (sessionId) =>
      handle("logoutSession", sessionId, () =>
        Effect.map(known(sessionId), (id) => {
          states.set(id, "logged_out")
          return session(id)
        })),
    sendText: (message) => send("sendText", message),
    sendMedia: (message) => send("sendMedia", message)
  })

  const recorder: ChatKaziTestApi = {
    calls,
    sent,
    setState: (sessionId, state) => void states.set(sessionId, state),
    failNext: (operation, ...errors) => void failures.set(operation, [...(failures.get(operation) ?? []), ...errors])
  }
  return { service, recorder }
}
