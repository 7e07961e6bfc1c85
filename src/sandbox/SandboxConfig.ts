/**
 * The sandbox's rules, as settings: which key it accepts, its plan limit, and when the simulated
 * phone "scans" the QR code. Plain data, so the command line can fill it in without loading Effect.
 */
import { Context, Layer } from "effect"

export interface SandboxSettings {
  /** The only `x-api-key` accepted; when unset, any non-empty key is. */
  readonly apiKey?: string | undefined
  /** The plan limit: sessions that may be in use (not `not_started`, not `logged_out`) at once. */
  readonly maxSessions: number
  /** How long a started session stays `connecting` before its QR is ready. */
  readonly connectingMs: number
  /** The QR counts as scanned this long after it was first fetched; `undefined`: never by time. */
  readonly scanAfterMs: number | undefined
  /** The QR counts as scanned on this status check since it was first fetched; `undefined`: never by polls. */
  readonly scanAfterPolls: number | undefined
  /** Sessions that exist, `not_started`, before anyone starts one. */
  readonly initialSessions: ReadonlyArray<string>
  /** A contact answers a text this long after it was sent; `undefined`: contacts never answer. */
  readonly replyAfterMs: number | undefined
}

export const DEFAULT_SANDBOX_SETTINGS: SandboxSettings = {
  apiKey: undefined,
  maxSessions: 2,
  connectingMs: 1_000,
  scanAfterMs: 5_000,
  scanAfterPolls: 3,
  initialSessions: ["default"],
  replyAfterMs: 3_000
}

export class SandboxConfig extends Context.Tag("chatkazi-mcp/SandboxConfig")<SandboxConfig, SandboxSettings>() {
  /** The default rules with any of them overridden. */
  static readonly make = (overrides: Partial<SandboxSettings> = {}): SandboxSettings => ({
    ...DEFAULT_SANDBOX_SETTINGS,
    ...overrides
  })

  static readonly layer = (overrides: Partial<SandboxSettings> = {}): Layer.Layer<SandboxConfig> =>
    Layer.succeed(SandboxConfig, SandboxConfig.make(overrides))
}
