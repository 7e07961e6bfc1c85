/**
 * The simulated ChatKazi account: its sessions and the messages it accepted, kept in a `Ref`.
 * Each method is one endpoint's rule; a refusal carries the HTTP status the real gateway uses.
 * Nothing here speaks HTTP: `SimulatorApp` serves it.
 */
import { Clock, Context, Data, Effect, Either, Layer, Ref, type Scope } from "effect"
import type { MediaType } from "../services/ChatKazi.js"
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

export interface TextSend {
  readonly sessionId: string
  readonly to: string
  readonly text: string
}

export interface MediaSend {
  readonly sessionId: string
  readonly to: string
  readonly url: string
  readonly type: MediaType
  readonly caption?: string | undefined
  readonly mimetype?: string | undefined
  readonly fileName?: string | undefined
}

/** A message the sandbox accepted (and, being the sandbox, did not deliver). */
export type AcceptedMessage =
  & { readonly messageId: string; readonly acceptedAt: string }
  & ({ readonly kind: "text" } & TextSend | { readonly kind: "media" } & MediaSend)

export interface Receipt {
  readonly messageId: string
  readonly status: "sent"
  readonly sandbox: true
}

interface SimulatorState {
  readonly sessions: ReadonlyMap<string, SimulatedSession>
  readonly messages: ReadonlyArray<AcceptedMessage>
}

export interface SimulatorApi {
  readonly settings: SandboxSettings
  readonly listSessions: Effect.Effect<ReadonlyArray<SessionInfo>>
  readonly startSession: (sessionId: string) => Effect.Effect<SessionInfo, Refusal>
  /** A status check; it counts towards the automatic scan. */
  readonly sessionStatus: (sessionId: string) => Effect.Effect<SessionInfo, Refusal>
  readonly sessionQr: (sessionId: string) => Effect.Effect<SessionInfo, Refusal>
  readonly logoutSession: (sessionId: string) => Effect.Effect<SessionInfo, Refusal>
  readonly sendText: (message: TextSend) => Effect.Effect<Receipt, Refusal>
  readonly sendMedia: (message: MediaSend) => Effect.Effect<Receipt, Refusal>
  /** Sandbox only: the phone scans the QR now (the session must be qr_ready). */
  readonly scan: (sessionId: string) => Effect.Effect<SessionInfo, Refusal>
  /** Sandbox only: the connection drops (the session must be connecting, qr_ready or connected). */
  readonly disconnect: (sessionId: string) => Effect.Effect<SessionInfo, Refusal>
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

const info = (session: SimulatedSession): SessionInfo => ({
  sessionId: session.sessionId,
  status: session.state,
  ...(session.state === "qr_ready" && session.qr !== undefined ? { qr: session.qr } : {})
})

const unknownSession = (sessionId: string) =>
  new Refusal({ status: 404, message: `Session "${sessionId}" not found` })

const RECIPIENT = /^\d{8,15}$/

export function makeSimulator(settings: SandboxSettings): Effect.Effect<SimulatorApi> {
  return Effect.map(
    Ref.make<SimulatorState>({
      sessions: new Map(settings.initialSessions.map((id) => [id, SessionMachine.notStarted(id)])),
      messages: []
    }),
    (ref) => {
      const inbound: Array<unknown> = []
      const inboundListeners = new Set<(payload: unknown) => void>()
      const sentListeners = new Set<(message: AcceptedMessage) => void>()
      const watch = <A>(listeners: Set<(value: A) => void>, listener: (value: A) => void) =>
        Effect.acquireRelease(
          Effect.sync(() => void listeners.add(listener)),
          () => Effect.sync(() => void listeners.delete(listener))
        )
      /** Tells the watchers of sends about the message a receipt is for. */
      const announce = (receipt: Receipt) =>
        Effect.map(Ref.get(ref), (state) => {
          const message = state.messages.find((m) => m.messageId === receipt.messageId)
          if (message !== undefined) sentListeners.forEach((listener) => listener(message))
        })

      /** Runs one rule against the state as of now; the rule sees every session caught up first. */
      const transact = <A>(
        rule: (state: SimulatorState, now: number) => Either.Either<readonly [A, SimulatorState], Refusal>
      ): Effect.Effect<A, Refusal> =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Effect.flatten(Ref.modify(ref, (state): readonly [Either.Either<A, Refusal>, SimulatorState] => {
            const caughtUp: SimulatorState = {
              ...state,
              sessions: new Map(
                [...state.sessions].map(([id, session]) => [id, SessionMachine.advance(session, now, settings)])
              )
            }
            const result = rule(caughtUp, now)
            return Either.isRight(result)
              ? [Either.right(result.right[0]), result.right[1]] as const
              : [Either.left(result.left), caughtUp] as const
          })))

      const withSession = <A>(
        sessionId: string,
        rule: (session: SimulatedSession, state: SimulatorState, now: number) => Either.Either<readonly [A, SimulatedSession], Refusal>
      ) =>
        transact((state, now) => {
          const session = state.sessions.get(sessionId)
          if (session === undefined) return Either.left(unknownSession(sessionId))
          return Either.map(rule(session, state, now), ([answer, changed]) =>
            [answer, { ...state, sessions: new Map(state.sessions).set(sessionId, changed) }] as const)
        })

      const unchanged = (session: SimulatedSession) => Either.right([info(session), session] as const)

      const accept = (
        sessionId: string,
        to: string,
        message: (messageId: string, acceptedAt: string) => AcceptedMessage,
        /** A refusal that only applies once the session and recipient passed (the download). */
        refusal?: Refusal
      ) =>
        transact<Receipt>((state, now) => {
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
            return Either.left(
              new Refusal({ status: 400, message: `"to" must be an international number, digits only, got "${to}"` })
            )
          }
          if (refusal !== undefined) return Either.left(refusal)
          const messageId = `sandbox-${state.messages.length + 1}`
          return Either.right(
            [
              { messageId, status: "sent", sandbox: true },
              { ...state, messages: [...state.messages, message(messageId, new Date(now).toISOString())] }
            ] as const
          )
        })

      return Simulator.of({
        settings,
        listSessions: Effect.orDie(
          transact((state) => Either.right([[...state.sessions.values()].map(info), state] as const))
        ),

        startSession: (sessionId) =>
          transact((state, now) => {
            const session = state.sessions.get(sessionId) ?? SessionMachine.notStarted(sessionId)
            if (SessionMachine.isActive(session)) {
              return Either.left(
                new Refusal({ status: 409, message: `Session "${sessionId}" is already active (${session.state})` })
              )
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
            return Either.right([info(started), { ...state, sessions: new Map(state.sessions).set(sessionId, started) }])
          }),

        sessionStatus: (sessionId) =>
          withSession(sessionId, (session, _, now) => {
            const polled = SessionMachine.poll(session, now, settings)
            return Either.right([info(polled), polled] as const)
          }),

        sessionQr: (sessionId) =>
          withSession(sessionId, (session, _, now) =>
            session.state === "qr_ready"
              ? unchanged(SessionMachine.showQr(session, now))
              : Either.right([
                { ...info(session), message: `No QR code: the session is ${session.state}` },
                session
              ] as const)),

        logoutSession: (sessionId) =>
          withSession(sessionId, (session) => {
            const loggedOut = SessionMachine.logout(session)
            return Either.right([info(loggedOut), loggedOut] as const)
          }),

        sendText: (message) =>
          accept(message.sessionId, message.to, (messageId, acceptedAt) => ({ messageId, acceptedAt, kind: "text", ...message }))
            .pipe(Effect.tap(announce)),

        sendMedia: (message) =>
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
              ? new Refusal({
                status: 400,
                message: `Failed to download media from ${message.url}: the file is empty (0 bytes)`
              })
              : undefined
          ),

        scan: (sessionId) =>
          withSession(sessionId, (session, _, now) => {
            if (session.state !== "qr_ready") {
              return Either.left(
                new Refusal({
                  status: 409,
                  message: `Session "${sessionId}" has no QR code to scan (it is ${session.state})`
                })
              )
            }
            const scanned = SessionMachine.scan(session, now)
            return Either.right([info(scanned), scanned] as const)
          }),

        disconnect: (sessionId) =>
          withSession(sessionId, (session) => {
            if (!SessionMachine.isActive(session)) {
              return Either.left(
                new Refusal({ status: 409, message: `Session "${sessionId}" is not active (it is ${session.state})` })
              )
            }
            const dropped = SessionMachine.disconnect(session)
            return Either.right([info(dropped), dropped] as const)
          }),

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
    }
  )
}
