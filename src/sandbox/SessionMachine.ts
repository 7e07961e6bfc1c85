/**
 * A simulated WhatsApp session and how it moves: not_started → connecting → qr_ready → connected
 * once the QR is "scanned", logged_out after a logout. Pure functions of the session and the time,
 * so the simulator needs no background fibers: a session catches up whenever it is looked at.
 */
import type { SandboxSettings } from "./SandboxConfig.js"

export type SimulatedState = "not_started" | "connecting" | "qr_ready" | "connected" | "disconnected" | "logged_out"

export interface SimulatedSession {
  readonly sessionId: string
  readonly state: SimulatedState
  /** When it was last started (ms). */
  readonly startedAt?: number | undefined
  /** When its current QR became ready (ms). */
  readonly qrReadyAt?: number | undefined
  /** Status checks seen while the QR was ready. */
  readonly pollsWhileQrReady: number
  readonly qr?: string | undefined
  readonly connectedAt?: number | undefined
}

export const notStarted = (sessionId: string): SimulatedSession => ({ sessionId, state: "not_started", pollsWhileQrReady: 0 })

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
  pollsWhileQrReady: 0
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
  pollsWhileQrReady: 0
})

/** Where the session is by `now`, had time passed with nobody looking. */
export const advance = (session: SimulatedSession, now: number, settings: SandboxSettings): SimulatedSession => {
  let current = session
  if (current.state === "connecting" && current.startedAt !== undefined) {
    const readyAt = current.startedAt + settings.connectingMs
    if (now >= readyAt) {
      current = { ...current, state: "qr_ready", qrReadyAt: readyAt, qr: qrPayload(current.sessionId, readyAt) }
    }
  }
  if (current.state === "qr_ready" && current.qrReadyAt !== undefined && settings.scanAfterMs !== undefined) {
    const scannedAt = current.qrReadyAt + settings.scanAfterMs
    if (now >= scannedAt) current = scan(current, scannedAt)
  }
  return current
}

/** A status check: it counts towards the scan by polls. */
export const poll = (session: SimulatedSession, now: number, settings: SandboxSettings): SimulatedSession => {
  const current = advance(session, now, settings)
  if (current.state !== "qr_ready") return current
  const polls = current.pollsWhileQrReady + 1
  return settings.scanAfterPolls !== undefined && polls >= settings.scanAfterPolls
    ? scan(current, now)
    : { ...current, pollsWhileQrReady: polls }
}
