/**
 * Whose ChatKazi account a call acts for. State that is kept per account (dedupe, pace, incoming
 * messages, confirmation codes) is keyed by `id`, a hash of the API key: the key itself is never
 * used as a key, stored or logged.
 */
import { Context, Effect, Layer, Redacted } from "effect"
import { createHash } from "node:crypto"
import { ChatKaziConfig } from "./ChatKaziConfig.js"

export interface AccountInfo {
  /** Hex SHA-256 of the API key: stable, unguessable from outside, safe to log a prefix of. */
  readonly id: string
}

export class Account extends Context.Tag("chatkazi-mcp/Account")<Account, AccountInfo>() {
  static readonly fromKey = (apiKey: Redacted.Redacted<string> | string): AccountInfo => ({
    id: createHash("sha256").update(typeof apiKey === "string" ? apiKey : Redacted.value(apiKey)).digest("hex")
  })

  static readonly layerKey = (apiKey: Redacted.Redacted<string> | string): Layer.Layer<Account> =>
    Layer.succeed(Account, Account.fromKey(apiKey))

  /** What logs show of an account: the first 8 hex digits of its id, enough to tell accounts apart. */
  static readonly logId = (id: string): string => id.slice(0, 8)

  /** The account of the configured key (`CHATKAZI_API_KEY`): one account for the whole server. */
  static readonly layer: Layer.Layer<Account, never, ChatKaziConfig> = Layer.effect(
    Account,
    Effect.map(ChatKaziConfig, (config) => Account.fromKey(config.apiKey))
  )
}
