/**
 * What the linking card shows, worked out from tool results without touching the page: which
 * session, its state in plain words, the QR to draw, the pairing code, and when the QR will
 * probably change. Plain functions, so they are tested in Node and the browser code only draws.
 */

/** The parts of an MCP `CallToolResult` the card reads. */
export interface ToolResultLike {
  readonly content?: ReadonlyArray<{ readonly type: string; readonly text?: string; readonly data?: string; readonly mimeType?: string }>
  readonly structuredContent?: Readonly<Record<string, unknown>> | undefined
  readonly isError?: boolean | undefined
}

export type LinkQr =
  | { readonly kind: "payload"; readonly value: string }
  | { readonly kind: "image"; readonly value: string }
  | { readonly kind: "link"; readonly value: string }

export interface LinkSnapshot {
  readonly sessionId: string
  readonly state: string | undefined
  readonly linked: boolean
  readonly qr: LinkQr | undefined
  readonly pairingCode: string | undefined
}

export type Reading =
  | { readonly _tag: "Snapshot"; readonly snapshot: LinkSnapshot }
  | { readonly _tag: "Failed"; readonly message: string }

/**
 * Reads a result of get_session_qr, wait_for_session or link_card_state. A QR image counts only
 * when it is whole: get_session_qr shortens a data: URL in its structured content, so the image
 * attached to its content is used instead.
 */
export const readResult = (result: ToolResultLike, fallbackSessionId: string | undefined): Reading => {
  const text = (result.content ?? []).filter((block) => block.type === "text").map((block) => block.text ?? "").join("\n")
  const data = result.structuredContent
  if (result.isError || data === undefined) {
    return { _tag: "Failed", message: text || "The server returned no session details." }
  }
  const sessionId = stringField(data, "sessionId") ?? fallbackSessionId ?? "default"
  const state = stringField(data, "state")
  const kind = stringField(data, "qrKind") ?? stringField(data, "format")
  const raw = stringField(data, "qr")
  const attached = (result.content ?? []).find((block) => block.type === "image" && block.data)
  const qr: LinkQr | undefined = kind === "payload" && raw
    ? { kind: "payload", value: raw }
    : kind === "image" && raw && /^data:image\/[\w.+-]+;base64,[A-Za-z0-9+/=\s]+$/.test(raw)
    ? { kind: "image", value: raw }
    : kind === "image" && attached
    ? { kind: "image", value: `data:${attached.mimeType ?? "image/png"};base64,${attached.data}` }
    : kind === "link" && raw
    ? { kind: "link", value: raw }
    : undefined
  return {
    _tag: "Snapshot",
    snapshot: {
      sessionId,
      state,
      linked: state === "connected",
      qr: state === "connected" ? undefined : qr,
      pairingCode: stringField(data, "pairingCode")
    }
  }
}

const stringField = (data: Readonly<Record<string, unknown>>, key: string): string | undefined => {
  const value = data[key]
  return typeof value === "string" && value.length > 0 ? value : undefined
}

/** The state as the user reads it. */
export const stateWords = (state: string | undefined): string => {
  switch (state) {
    case undefined:
      return "Checking the session…"
    case "not_started":
      return "Not started"
    case "connecting":
      return "Getting a code ready…"
    case "qr_ready":
      return "Waiting for you to scan the code"
    case "pairing_code_ready":
      return "Waiting for you to enter the pairing code"
    case "connected":
      return "Connected"
    case "disconnected":
      return "Disconnected"
    case "logged_out":
      return "Logged out"
    default:
      return `State: ${state}`
  }
}

/** States in which the phone is being waited for, with a QR or a pairing code. */
export const isAwaitingPhone = (state: string | undefined): boolean =>
  state === "qr_ready" || state === "pairing_code_ready"

/** States in which waiting longer cannot link the phone: the assistant must start the session again. */
export const isDeadEnd = (state: string | undefined): boolean =>
  state === "not_started" || state === "disconnected" || state === "logged_out"

/**
 * When the current QR was first seen, and how often codes have been changing. WhatsApp replaces a
 * linking code every 20 s or so; the first QR seen may be of any age, so only a change the card saw
 * happen starts a countdown, and two changes measure the period.
 */
export interface QrClock {
  readonly value: string
  /** When the card saw this value replace another one; undefined for the first value seen. */
  readonly changedAt: number | undefined
  readonly periodMs: number | undefined
}

export const TYPICAL_QR_PERIOD_MS = 20_000

export const observeQr = (clock: QrClock | undefined, value: string, now: number): QrClock =>
  clock === undefined
    ? { value, changedAt: undefined, periodMs: undefined }
    : clock.value === value
    ? clock
    : { value, changedAt: now, periodMs: clock.changedAt === undefined ? clock.periodMs : now - clock.changedAt }

/** The line under the QR: a countdown when the card can estimate one, else how often codes change. */
export const rotationText = (clock: QrClock, now: number): string => {
  const period = clock.periodMs ?? TYPICAL_QR_PERIOD_MS
  if (clock.changedAt === undefined) {
    return `WhatsApp refreshes this code about every ${Math.round(period / 1000)} s; this card shows each new one.`
  }
  const left = Math.ceil((clock.changedAt + period - now) / 1000)
  return left > 0 ? `New code in about ${left} s.` : "A new code is due any moment."
}

/** What the model is told once the phone is linked. */
export const linkedContext = (sessionId: string): string =>
  `The linking card saw WhatsApp session "${sessionId}" become connected: the phone is linked and messages can ` +
  "be sent from this session."
