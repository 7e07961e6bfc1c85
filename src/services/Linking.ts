/**
 * What this server remembers while a phone is being linked, per account and session: that it just
 * started the session, and which QR code or pairing code it already handed to the model. With it,
 * get_session_qr waits for the QR of a session that is starting instead of answering "no QR", and
 * wait_for_session returns at once with a code the user has not been shown yet.
 *
 * Kept in the StateStore under the calling account's id (its `Account`, read per call), so replicas
 * sharing a store agree and accounts never see each other's. Only a hash of
 * a code is stored. The memory is a convenience: if the store cannot be reached, a code counts as
 * not shown (showing it twice is harmless) and a session as not recently started.
 */
import { Context, Effect, Layer } from "effect"
import { createHash } from "node:crypto"
import type { InvalidConfig } from "../errors/ChatKaziError.js"
import { Account } from "./Account.js"
import { nonNegativeInt } from "./ChatKaziConfig.js"
import { makeMemoryStore, StateStore } from "./StateStore.js"

export interface LinkingSettings {
  /** How long get_session_qr waits for the QR of a session that is starting (CHATKAZI_QR_WAIT_SECONDS). */
  readonly qrWaitSeconds: number
}

export const DEFAULT_LINKING_SETTINGS: LinkingSettings = { qrWaitSeconds: 20 }

export interface LinkingApi {
  readonly settings: LinkingSettings
  /** This server just started the session (its QR may take a few seconds to appear). */
  readonly started: (sessionId: string) => Effect.Effect<void>
  /** Whether this server started the session within the last couple of minutes. */
  readonly recentlyStarted: (sessionId: string) => Effect.Effect<boolean>
  /** The model was given this QR code or pairing code of the session. */
  readonly markShown: (sessionId: string, code: string) => Effect.Effect<void>
  /** Whether `code` is the code the model was last given for the session. */
  readonly wasShown: (sessionId: string, code: string) => Effect.Effect<boolean>
}

const STARTED_TTL_MS = 2 * 60_000
// WhatsApp rotates a QR within a minute or so; a code shown long ago is worth showing again.
const SHOWN_TTL_MS = 10 * 60_000

const digest = (code: string) => createHash("sha256").update(code).digest("hex")

export const makeLinking = (settings: LinkingSettings, store: StateStore["Type"]): LinkingApi => {
  // The account is the caller's, read per call: one Linking serves every account of an HTTP server.
  const key = (sessionId: string, what: "started" | "shown") =>
    Effect.map(
      Effect.serviceOption(Account),
      (account) => `linking:${account._tag === "Some" ? account.value.id : "local"}:${sessionId}:${what}`
    )
  return {
    settings,
    started: (sessionId) => key(sessionId, "started").pipe(Effect.flatMap((k) => store.set(k, "1", STARTED_TTL_MS)), Effect.ignore),
    recentlyStarted: (sessionId) =>
      key(sessionId, "started").pipe(
        Effect.flatMap(store.get),
        Effect.map((value) => value !== undefined),
        Effect.orElseSucceed(() => false)
      ),
    markShown: (sessionId, code) =>
      key(sessionId, "shown").pipe(Effect.flatMap((k) => store.set(k, digest(code), SHOWN_TTL_MS)), Effect.ignore),
    wasShown: (sessionId, code) =>
      key(sessionId, "shown").pipe(
        Effect.flatMap(store.get),
        Effect.map((value) => value === digest(code)),
        Effect.orElseSucceed(() => false)
      )
  }
}

/**
 * Without a layer of its own (an app that serves the tools with its own layer), a process-wide memory
 * in this process is used, as for a single account; the server's own wiring provides one per account.
 */
export class Linking extends Context.Reference<Linking>()("chatkazi-mcp/Linking", {
  defaultValue: (): LinkingApi => makeLinking(DEFAULT_LINKING_SETTINGS, makeMemoryStore())
}) {
  static readonly layer = (settings: Partial<LinkingSettings> = {}): Layer.Layer<Linking, never, StateStore> =>
    Layer.effect(Linking, Effect.map(StateStore, (store) => makeLinking({ ...DEFAULT_LINKING_SETTINGS, ...settings }, store)))

  /** Reads `CHATKAZI_QR_WAIT_SECONDS` (default 20; 0 answers at once). */
  static readonly layerConfig: Layer.Layer<Linking, InvalidConfig, StateStore> = Layer.unwrapEffect(
    Effect.map(
      nonNegativeInt("CHATKAZI_QR_WAIT_SECONDS", DEFAULT_LINKING_SETTINGS.qrWaitSeconds),
      (qrWaitSeconds) => Linking.layer({ qrWaitSeconds })
    )
  )

  /** A fresh memory of its own, for tests. */
  static readonly layerTest = (settings: Partial<LinkingSettings> = {}): Layer.Layer<Linking> =>
    Linking.layer(settings).pipe(Layer.provide(StateStore.layerMemory))
}
