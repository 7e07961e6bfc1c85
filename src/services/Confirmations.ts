/**
 * The user's approval before a message goes out (CHATKAZI_CONFIRM_SENDS). Given what a send would
 * do, it decides: go ahead, or send nothing, because the user did not approve or because nobody
 * can be asked and the caller must first come back with a one-time code.
 *
 * A code is a random token stored in the StateStore (per account, for 10 minutes) with a digest of
 * exactly what it confirms, so any replica sharing the store can check it, and `claim` makes it
 * work once even when two replicas see it at the same moment. (A signed code would need a shared
 * secret on top of the shared store that single use needs anyway; a stored one also tells a code
 * for other arguments from an expired or an unknown one.)
 */
import { Clock, Context, Effect, Layer } from "effect"
import { createHash, randomBytes } from "node:crypto"
import { ConfirmationFailed, ConfirmationRefused } from "../errors/ChatKaziError.js"
import { Account } from "./Account.js"
import { type Answer, Elicitation } from "./Elicitation.js"
import { type ConfirmSends, SafetyConfig } from "./SafetyConfig.js"
import { StateStore, type StateStoreApi, type StoreUnavailable } from "./StateStore.js"

export type MessageContent =
  | { readonly kind: "text"; readonly text: string }
  | {
    readonly kind: "media"
    readonly type: string
    readonly url: string
    readonly caption?: string | undefined
    readonly fileName?: string | undefined
    readonly mimetype?: string | undefined
  }

/** A send that has passed every other check and waits for approval. */
export interface PendingSend {
  readonly sessionId: string
  readonly to: string
  readonly content: MessageContent
}

export type Verdict =
  /** Send it; `approvedBy` says who approved, when anyone had to. */
  | { readonly _tag: "Proceed"; readonly approvedBy?: "user" | "code" }
  /** The user was asked and did not approve: send nothing. */
  | { readonly _tag: "Withheld"; readonly answer: Exclude<Answer, "approved"> }
  /** Nobody can be asked: send nothing now; the same call with `code` (until `expiresAt`) sends it. */
  | { readonly _tag: "CodeIssued"; readonly code: string; readonly expiresAt: number }

export interface ConfirmationSettings {
  readonly mode: ConfirmSends
  readonly timeoutSeconds: number
}

export interface ConfirmationsApi {
  readonly settings: ConfirmationSettings
  /**
   * Decides about `send`, given the `confirmationCode` the caller passed (if any). Fails when a code
   * is refused, or when approval was needed and could not be completed: never sends by default.
   */
  readonly confirm: (
    send: PendingSend,
    code: string | undefined
  ) => Effect.Effect<Verdict, ConfirmationRefused | ConfirmationFailed, Account>
}

export const CODE_VALIDITY_MS = 10 * 60_000
/** Codes are remembered past their expiry, to tell the caller "expired" rather than "unknown". */
const REMEMBER_MS = CODE_VALIDITY_MS + 60 * 60_000

export class Confirmations extends Context.Tag("chatkazi-mcp/Confirmations")<Confirmations, ConfirmationsApi>() {
  static readonly layer: Layer.Layer<Confirmations, never, SafetyConfig | StateStore> = Layer.effect(
    Confirmations,
    Effect.gen(function*() {
      const safety = yield* SafetyConfig
      return makeConfirmations(
        { mode: safety.confirmSends, timeoutSeconds: safety.confirmTimeoutSeconds },
        yield* StateStore
      )
    })
  )
}

export const makeConfirmations = (settings: ConfirmationSettings, store: StateStoreApi): ConfirmationsApi => {
  const timeoutMs = settings.timeoutSeconds * 1000

  const ask = (send: PendingSend) =>
    Effect.gen(function*() {
      const elicitation = yield* Elicitation
      const answer = yield* elicitation.ask({ message: question(send), yesLabel: "Yes, send it", timeoutMs }).pipe(
        Effect.timeoutTo({ duration: timeoutMs, onSuccess: (answer) => answer, onTimeout: () => "unanswered" as const }),
        Effect.mapError((failed) =>
          new ConfirmationFailed({ reason: `the question could not be put to the user: ${failed.reason}` })
        )
      )
      return answer === "approved"
        ? { _tag: "Proceed", approvedBy: "user" } as const
        : { _tag: "Withheld", answer } as const
    })

  const issue = (send: PendingSend) =>
    Effect.gen(function*() {
      const account = yield* Account
      const code = newCode()
      const expiresAt = (yield* Clock.currentTimeMillis) + CODE_VALIDITY_MS
      const record: CodeRecord = { digest: digestOf(send), expiresAt }
      yield* store.set(codeKey(account.id, code), JSON.stringify(record), REMEMBER_MS).pipe(
        Effect.mapError(storeFailed)
      )
      return { _tag: "CodeIssued", code, expiresAt } as const
    })

  const redeem = (send: PendingSend, given: string) =>
    Effect.gen(function*() {
      const account = yield* Account
      const code = given.trim().toLowerCase()
      if (!CODE_SHAPE.test(code)) return yield* new ConfirmationRefused({ reason: "unknown" })
      const stored = yield* store.get(codeKey(account.id, code)).pipe(Effect.mapError(storeFailed))
      const record = stored === undefined ? undefined : parseRecord(stored)
      if (record === undefined) return yield* new ConfirmationRefused({ reason: "unknown" })
      if (record.digest !== digestOf(send)) return yield* new ConfirmationRefused({ reason: "mismatch" })
      if ((yield* Clock.currentTimeMillis) >= record.expiresAt) return yield* new ConfirmationRefused({ reason: "expired" })
      const first = yield* store.claim(usedKey(account.id, code), "used", REMEMBER_MS).pipe(Effect.mapError(storeFailed))
      if (!first) return yield* new ConfirmationRefused({ reason: "used" })
      return { _tag: "Proceed", approvedBy: "code" } as const
    })

  // For the operator: what was decided, never what the message says or who it is for.
  const logged = (decision: Effect.Effect<Verdict, ConfirmationRefused | ConfirmationFailed, Account>) =>
    decision.pipe(
      Effect.tap((verdict) =>
        Effect.logInfo(
          verdict._tag === "Proceed"
            ? `Send approved by ${verdict.approvedBy === "user" ? "the user" : "a confirmation code"}`
            : verdict._tag === "Withheld"
            ? `Send not approved: ${verdict.answer}`
            : "Send held back: a confirmation code was issued"
        )
      ),
      Effect.tapError((error) =>
        Effect.logWarning(
          error._tag === "ConfirmationRefused" ? `Confirmation code refused: ${error.reason}` : `Confirmation failed: ${error.reason}`
        )
      )
    )

  return {
    settings,
    confirm: (send, code) =>
      Effect.flatMap(Elicitation, (elicitation) => {
        // Nobody needs to approve (the common case, on every send): decided here, with nothing to log.
        if (settings.mode === "never" || (settings.mode === "auto" && !elicitation.available)) return proceed
        if (elicitation.available) return logged(ask(send))
        return logged(code === undefined ? issue(send) : redeem(send, code))
      })
  }
}

const proceed: Effect.Effect<Verdict> = Effect.succeed({ _tag: "Proceed" })

/**
 * The send in plain words, for the user: where from, to whom, and exactly what. Every value the
 * caller chose is quoted (one-line values as JSON strings, texts as "> " lines), so none can pass
 * for a line of this description, such as a second "To:".
 */
export const describePending = (send: PendingSend): string => {
  const lines = [`From session: ${JSON.stringify(send.sessionId)}`, `To: +${send.to}`]
  const { content } = send
  if (content.kind === "text") {
    lines.push(`Text:\n${quoted(content.text)}`)
  } else {
    lines.push(`File (${content.type}): ${JSON.stringify(content.url)}`)
    if (content.fileName !== undefined) lines.push(`File name: ${JSON.stringify(content.fileName)}`)
    if (content.mimetype !== undefined) lines.push(`Type: ${JSON.stringify(content.mimetype)}`)
    if (content.caption !== undefined) lines.push(`Caption:\n${quoted(content.caption)}`)
  }
  return lines.join("\n")
}

/** Every line of `text` behind "> ", whatever a renderer takes for a line break. */
const quoted = (text: string) => text.split(/\r\n|[\n\r\v\f\u0085\u2028\u2029]/).map((line) => `> ${line}`).join("\n")

/** What a send is called in a sentence: "text message", "image", "document". */
export const messageKind = (content: MessageContent): string => content.kind === "text" ? "text message" : content.type

const question = (send: PendingSend) =>
  `Send this WhatsApp ${messageKind(send.content)} in your name? It cannot be taken back.\n\n${describePending(send)}`

interface CodeRecord {
  readonly digest: string
  readonly expiresAt: number
}

const parseRecord = (raw: string): CodeRecord | undefined => {
  try {
    const value = JSON.parse(raw) as Partial<CodeRecord>
    return typeof value.digest === "string" && typeof value.expiresAt === "number"
      ? { digest: value.digest, expiresAt: value.expiresAt }
      : undefined
  } catch {
    return undefined
  }
}

/** Exactly what the code confirms; keys sorted so the order they were written in does not matter. */
const digestOf = (send: PendingSend) => {
  const content = send.content as Readonly<Record<string, unknown>>
  return createHash("sha256")
    .update(JSON.stringify([send.sessionId, send.to, JSON.stringify(content, Object.keys(content).sort())]))
    .digest("hex")
}

const codeKey = (account: string, code: string) => `confirm:${account}:${code}`
const usedKey = (account: string, code: string) => `confirm-used:${account}:${code}`

// 32 letters and digits without i, l, o, u (Crockford's base32): 16 of them carry 80 random bits.
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
const CODE_SHAPE = /^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}$/

const newCode = () => {
  const chars = [...randomBytes(16)].map((byte) => ALPHABET[byte % 32])
  return [0, 4, 8, 12].map((start) => chars.slice(start, start + 4).join("")).join("-")
}

const storeFailed = (error: StoreUnavailable) =>
  new ConfirmationFailed({ reason: `the shared state store cannot be reached (${error.reason})` })
