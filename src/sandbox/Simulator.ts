/**
 * The simulated ChatKazi account: its sessions and the messages it accepted. Each endpoint is a
 * rule, a plain function from the account's state (and the time) to an answer and the next state,
 * or a refusal with the HTTP status the real gateway uses. The `Simulator` service only keeps the
 * state in a `Ref` and applies rules to it. Nothing here speaks HTTP: `SimulatorApp` serves it.
 */
import { Clock, Context, Data, Effect, Either, Layer, Ref, type Scope } from "effect"
import type { MediaMessage, TextMessage } from "../services/Domain.js"
import { guessMimetype, isEmptyMediaUrl } from "./MediaRules.js"
import { SandboxConfig, type SandboxSettings } from "./SandboxConfig.js"
import * as SessionMachine from "./SessionMachine.js"
import type { SimulatedSession } from "./SessionMachine.js"

/** What the gateway refused, with the status it answers. */
export class Refusal extends Data.TaggedError("Refusal")<{
  readonly status: 400 | 401 | 402 | 404 | 409
  readonly message: string
}> {}

/** A session as the API shows it. */
export interface SessionInfo {
  readonly sessionId: string
  readonly status: SessionMachine.SimulatedState
  readonly qr?: string
  readonly message?: string
}

/** A message the sandbox accepted (and, being the sandbox, did not deliver). */
export type AcceptedMessage =
  & { readonly messageId: string; readonly acceptedAt: string }
  & ({ readonly kind: "text" } & TextMessage | { readonly kind: "media" } & MediaMessage)

export interface Receipt {
  readonly messageId: string
  readonly status: "sent"
  readonly sandbox: true
}

export interface SimulatorState {
  readonly sessions: ReadonlyMap<string, SimulatedSession>
  readonly messages: ReadonlyArray<AcceptedMessage>
}

/**
 * One endpoint's rule: the answer and the account's next state, or a refusal. It sees every session
 * caught up to `now` first.
 */
export type Rule<A> = (
  state: SimulatorState,
  now: number,
  settings: SandboxSettings
) => Either.Either<readonly [A, SimulatorState], Refusal>

export const initialState = (settings: SandboxSettings): SimulatorState => ({
  sessions: new Map(settings.initialSessions.map((id) => [id, SessionMachine.notStarted(id)])),
  messages: []
})

const info = (session: SimulatedSession): SessionInfo => ({
  sessionId: session.sessionId,
  status: session.state,
  ...(session.state === "qr_ready" && session.qr !== undefined ? { qr: session.qr } : {})
})

const unknownSession = (sessionId: string) =>
  new Refusal({ status: 404, message: `Session "${sessionId}" not found` })

const RECIPIENT = /^\d{8,15}$/

/** A rule about one existing session: its answer and the session's next state. */
const onSession = <A>(
  sessionId: string,
  rule: (session: SimulatedSession, now: number, settings: SandboxSettings) => Either.Either<readonly [A, SimulatedSession], Refusal>
): Rule<A> =>
(state, now, settings) => {
  const session = state.sessions.get(sessionId)
  if (session === undefined) return Either.left(unknownSession(sessionId))
  return Either.map(rule(session, now, settings), ([answer, changed]) =>
    [answer, { ...state, sessions: new Map(state.sessions).set(sessionId, changed) }] as const)
}

const answered = (session: SimulatedSession) => Either.right([info(session), session] as const)

export const listSessions: Rule<ReadonlyArray<SessionInfo>> = (state) =>
  Either.right([[...state.sessions.values()].map(info), state] as const)

export const startSession = (sessionId: string): Rule<SessionInfo> => (state, now, settings) => {
  const session = state.sessions.get(sessionId) ?? SessionMachine.notStarted(sessionId)
  if (SessionMachine.isActive(session)) {
    return Either.left(new Refusal({ status: 409, message: `Session "${sessionId}" is already active (${session.state})` }))
  }
  const inUse = [...state.sessions.values()].filter(SessionMachine.usesInstance).length
  if (!SessionMachine.usesInstance(session) && inUse >= settings.maxSessions) {
    return Either.left(
      new Refusal({
        status: 402,
        message: `WhatsApp instance limit reached: the sandbox plan allows ${settings.maxSessions} ` +
          "session(s) at once; log one out to free it"
      })
    )
  }
  const started = SessionMachine.start(session, now)
  return Either.right([info(started), { ...state, sessions: new Map(state.sessions).set(sessionId, started) }] as const)
}

/** A status check; it counts towards the automatic scan. */
export const sessionStatus = (sessionId: string): Rule<SessionInfo> =>
  onSession(sessionId, (session, now, settings) => answered(SessionMachine.poll(session, now, settings)))

export const sessionQr = (sessionId: string): Rule<SessionInfo> =>
  onSession(sessionId, (session, now) =>
    session.state === "qr_ready"
      ? answered(SessionMachine.showQr(session, now))
      : Either.right([{ ...info(session), message: `No QR code: the session is ${session.state}` }, session] as const))

export const logoutSession = (sessionId: string): Rule<SessionInfo> =>
  onSession(sessionId, (session) => answered(SessionMachine.logout(session)))

/** Sandbox only: the phone scans the QR now (the session must be qr_ready). */
export const scan = (sessionId: string): Rule<SessionInfo> =>
  onSession(sessionId, (session, now) =>
    session.state === "qr_ready"
      ? answered(SessionMachine.scan(session, now))
      : Either.left(
        new Refusal({ status: 409, message: `Session "${sessionId}" has no QR code to scan (it is ${session.state})` })
      ))

/** Sandbox only: the connection drops (the session must be connecting, qr_ready or connected). */
export const disconnect = (sessionId: string): Rule<SessionInfo> =>
  onSession(sessionId, (session) =>
    SessionMachine.isActive(session)
      ? answered(SessionMachine.disconnect(session))
      : Either.left(
        new Refusal({ status: 409, message: `Session "${sessionId}" is not active (it is ${session.state})` })
      ))

/**
 * A message is accepted from a connected session to a well-formed number; `refusal` applies only
 * once those passed (a failed download).
 */
const accept = (
  sessionId: string,
  to: string,
  message: (messageId: string, acceptedAt: string) => AcceptedMessage,
  refusal?: Refusal
): Rule<Receipt> =>
(state, now) => {
  const session = state.sessions.get(sessionId)
  if (session === undefined) return Either.left(unknownSession(sessionId))
  if (session.state !== "connected") {
    return Either.left(
      new Refusal({
        status: 400,
        message: `Session "${sessionId}" is not connected (it is ${session.state}); messages can only be ` +
          "sent from a connected session"
      })
    )
  }
  if (!RECIPIENT.test(to)) {
    return Either.left(new Refusal({ status: 400, message: `"to" must be an international number, digits only, got "${to}"` }))
  }
  if (refusal !== undefined) return Either.left(refusal)
  const messageId = `sandbox-${state.messages.length + 1}`
  return Either.right(
    [
      { messageId, status: "sent", sandbox: true },
      { ...state, messages: [...state.messages, message(messageId, new Date(now).toISOString())] }
    ] as const
  )
}

export const sendText = (message: TextMessage): Rule<Receipt> =>
  accept(message.sessionId, message.to, (messageId, acceptedAt) => ({ messageId, acceptedAt, kind: "text", ...message }))

export const sendMedia = (message: MediaMessage): Rule<Receipt> =>
  accept(
    message.sessionId,
    message.to,
    (messageId, acceptedAt) => ({
      messageId,
      acceptedAt,
      kind: "media",
      ...message,
      mimetype: message.mimetype ?? guessMimetype(message.url)
    }),
    isEmptyMediaUrl(message.url)
      ? new Refusal({ status: 400, message: `Failed to download media from ${message.url}: the file is empty (0 bytes)` })
      : undefined
  )

/** Every session as it is by `now`, had time passed with nobody looking. */
export const catchUp = (state: SimulatorState, now: number, settings: SandboxSettings): SimulatorState => ({
  ...state,
  sessions: new Map([...state.sessions].map(([id, session]) => [id, SessionMachine.advance(session, now, settings)]))
})

export interface SimulatorApi {
  readonly settings: SandboxSettings
  /** Applies one rule to the account as of now; a refusal changes nothing. */
  readonly apply: <A>(rule: Rule<A>) => Effect.Effect<A, Refusal>
  /** Sandbox only: every message accepted so far, oldest first. */
  readonly messages: Effect.Effect<ReadonlyArray<AcceptedMessage>>
  /** Sandbox only: an incoming message arrives, as ChatKazi would post it to the webhook (any JSON). */
  readonly inject: (payload: unknown) => Effect.Effect<void>
  /** Sandbox only: every incoming payload so far, oldest first. */
  readonly inbound: Effect.Effect<ReadonlyArray<unknown>>
  /** Calls `listener` with each incoming payload from now on, until the scope closes. */
  readonly watchInbound: (listener: (payload: unknown) => void) => Effect.Effect<void, never, Scope.Scope>
  /** Calls `listener` with each message accepted from now on, until the scope closes. */
  readonly watchSent: (listener: (message: AcceptedMessage) => void) => Effect.Effect<void, never, Scope.Scope>
}

export class Simulator extends Context.Tag("chatkazi-mcp/Simulator")<Simulator, SimulatorApi>() {
  static readonly layer: Layer.Layer<Simulator, never, SandboxConfig> = Layer.effect(
    Simulator,
    Effect.flatMap(SandboxConfig, makeSimulator)
  )
}

export function makeSimulator(settings: SandboxSettings): Effect.Effect<SimulatorApi> {
  return Effect.map(Ref.make(initialState(settings)), (ref) => {
    const inbound: Array<unknown> = []
    const inboundListeners = new Set<(payload: unknown) => void>()
    const sentListeners = new Set<(message: AcceptedMessage) => void>()
    const watch = <A>(listeners: Set<(value: A) => void>, listener: (value: A) => void) =>
      Effect.acquireRelease(
        Effect.sync(() => void listeners.add(listener)),
        () => Effect.sync(() => void listeners.delete(listener))
      )
    return Simulator.of({
      settings,
      apply: <A>(rule: Rule<A>) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Effect.flatten(Ref.modify(ref, (state): readonly [Either.Either<A, Refusal>, SimulatorState] => {
            const caughtUp = catchUp(state, now, settings)
            return Either.match(rule(caughtUp, now, settings), {
              onLeft: (refusal) => [Either.left(refusal), caughtUp] as const,
              onRight: ([answer, next]) => {
                // The messages this rule accepted, for the watchers of sends (the simulated contacts).
                next.messages.slice(caughtUp.messages.length).forEach((message) =>
                  sentListeners.forEach((listener) => listener(message))
                )
                return [Either.right(answer), next] as const
              }
            })
          }))),
      messages: Effect.map(Ref.get(ref), (state) => state.messages),
      inject: (payload) =>
        Effect.sync(() => {
          inbound.push(payload)
          inboundListeners.forEach((listener) => listener(payload))
        }),
      inbound: Effect.sync(() => [...inbound]),
      watchInbound: (listener) => watch(inboundListeners, listener),
      watchSent: (listener) => watch(sentListeners, listener)
    })
  })
}
