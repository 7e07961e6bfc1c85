/**
 * The states a WhatsApp session moves through, what each means, and what to do about it.
 */
export const SESSION_STATES = [
  "not_started",
  "connecting",
  "qr_ready",
  "pairing_code_ready",
  "connected",
  "disconnected",
  "logged_out"
] as const

export type SessionState = (typeof SESSION_STATES)[number]

/** The states in which the phone is waited for: the user links it by scanning the QR or typing the code. */
export const WAITING_FOR_PHONE: ReadonlyArray<SessionState> = ["qr_ready", "pairing_code_ready"]

export const isWaitingForPhone = (state: string | undefined): boolean =>
  WAITING_FOR_PHONE.some((waiting) => waiting === state)

export interface StateGuide {
  readonly meaning: string
  readonly nextStep: string
}

const GUIDE: Record<SessionState, StateGuide> = {
  not_started: {
    meaning: "the session exists but has not been started",
    nextStep: "call start_session"
  },
  connecting: {
    meaning: "ChatKazi is preparing the connection",
    nextStep: "wait a few seconds, then check again with get_session_status (or wait_for_session)"
  },
  qr_ready: {
    meaning: "a QR code is ready to link the phone",
    nextStep:
      "retrieve the QR with get_session_qr and have the user scan it in WhatsApp > Settings > Linked devices > Link a device"
  },
  pairing_code_ready: {
    meaning: "a pairing code is ready to link the phone",
    nextStep:
      "give the user the pairing code to enter in WhatsApp > Settings > Linked devices > Link with phone number instead"
  },
  connected: {
    meaning: "the session is online",
    nextStep: "messages can be sent from this session"
  },
  disconnected: {
    meaning: "the connection dropped or failed",
    nextStep: "call start_session to reconnect; if that reports a conflict, call logout_session first and start again"
  },
  logged_out: {
    meaning: "the session was logged out and its link to the phone removed",
    nextStep: "call start_session and link the phone again with a new QR"
  }
}

export const isSessionState = (state: string): state is SessionState =>
  (SESSION_STATES as ReadonlyArray<string>).includes(state)

/** Guidance for a state; unknown states are shown as they are, never refused. */
export const guideFor = (state: string | undefined): StateGuide =>
  state === undefined
    ? { meaning: "ChatKazi did not say which state it is in", nextStep: "call get_session_status" }
    : isSessionState(state)
    ? GUIDE[state]
    : { meaning: `ChatKazi reports the state "${state}", which this server does not know`, nextStep: "call get_session_status again shortly" }
