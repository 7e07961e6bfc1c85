/**
 * A simulated WhatsApp session and how it moves: not_started → connecting → qr_ready → connected
 * once the QR is "scanned", logged_out after a logout. Like a real phone, the simulated one can
 * only scan a QR that was shown: the automatic scan counts from the first fetch of the QR. Pure functions of the session and the time,
 * so the simulator needs no background fibers: a session catches up whenever it is looked at.
 */
import type { SandboxSettings } from "./SandboxConfig.js"

export type SimulatedState = "not_started" | "connecting" | "qr_ready" | "connected" | "disconnected" | "logged_out"

export interface SimulatedSession {
  readonly sessionId: string
  readonly state: SimulatedState
  /** When it was last started (ms). */
  readonly startedAt?: number | undefined
  /** When its current QR was first fetched, i.e. shown to the "user" (ms). */
  readonly qrShownAt?: number | undefined
  /** Status checks since the QR was shown. */
  readonly pollsSinceShown: number
  readonly qr?: string | undefined
  readonly connectedAt?: number | undefined
}

export const notStarted = (sessionId: string): SimulatedSession => ({ sessionId, state: "not_started", pollsSinceShown: 0 })

/** A session that holds one of the plan's instances. */
export const usesInstance = (session: SimulatedSession): boolean =>
  session.state !== "not_started" && session.state !== "logged_out"

/** Starting it again would be a conflict (HTTP 409). */
export const isActive = (session: SimulatedSession): boolean =>
  session.state === "connecting" || session.state === "qr_ready" || session.state === "connected"

/** The QR payload a real phone would scan; this one says plainly what it is. */
const qrPayload = (sessionId: string, at: number) => `2@chatkazi-sandbox,not-a-real-whatsapp-qr,${sessionId},${at}`

export const start = (session: SimulatedSession, now: number): SimulatedSession => ({
  sessionId: session.sessionId,
  state: "connecting",
  startedAt: now,
  pollsSinceShown: 0
})

export const scan = (session: SimulatedSession, now: number): SimulatedSession => ({
  ...session,
  state: "connected",
  qr: undefined,
  connectedAt: now
})

export const logout = (session: SimulatedSession): SimulatedSession => reset(session, "logged_out")

export const disconnect = (session: SimulatedSession): SimulatedSession => reset(session, "disconnected")

const reset = (session: SimulatedSession, state: SimulatedState): SimulatedSession => ({
  sessionId: session.sessionId,
  state,
  pollsSinceShown: 0
})

/** Where the session is by `now`, had time passed with nobody looking. */
export const advance = (session: SimulatedSession, now: number, settings: SandboxSettings): SimulatedSession => {
  let current = session
  if (current.state === "connecting" && current.startedAt !== undefined) {
    const readyAt = current.startedAt + settings.connectingMs
    if (now >= readyAt) {
      current = { ...current, state: "qr_ready", qr: qrPayload(current.sessionId, readyAt) }
    }
  }
  if (current.state === "qr_ready" && current.qrShownAt !== undefined && settings.scanAfterMs !== undefined) {
    const scannedAt = current.qrShownAt + settings.scanAfterMs
    if (now >= scannedAt) current = scan(current, scannedAt)
  }
  return current
}

/** The QR is fetched: from now on the phone may scan it. */
export const showQr = (session: SimulatedSession, now: number): SimulatedSession =>
  session.state === "qr_ready" && session.qrShownAt === undefined ? { ...session, qrShownAt: now } : session

/** A status check: once the QR was shown, it counts towards the scan by polls. */
export const poll = (session: SimulatedSession, now: number, settings: SandboxSettings): SimulatedSession => {
  const current = advance(session, now, settings)
  if (current.state !== "qr_ready" || current.qrShownAt === undefined) return current
  const polls = current.pollsSinceShown + 1
  return settings.scanAfterPolls !== undefined && polls >= settings.scanAfterPolls
    ? scan(current, now)
    : { ...current, pollsSinceShown: polls }
}
