/**
 * How this server receives ChatKazi's webhook, read from the environment: the secret hook ids are
 * sealed with, the local listener for stdio mode, and the public origin in http mode.
 */
import { Config, Context, Effect, Layer, Option, Redacted } from "effect"
import { InvalidConfig } from "../errors/ChatKaziError.js"
import { setting } from "./ChatKaziConfig.js"
import { type HookKeys, hookKeys, openHookId, sealHookId } from "./internal/hookId.js"
import { readPublicUrl } from "./PublicUrl.js"

export const WEBHOOK_PATH = "/webhooks/chatkazi/"

export interface WebhookSettings {
  /** CHATKAZI_SECRET: without it no hook id exists, and nothing is received. */
  readonly secret: Option.Option<Redacted.Redacted<string>>
  /** CHATKAZI_WEBHOOK_PORT: the stdio-mode listener's port (0 picks a free one); none: no listener. */
  readonly listenPort: Option.Option<number>
  /** CHATKAZI_WEBHOOK_HOST, default 127.0.0.1. */
  readonly listenHost: string
  /** CHATKAZI_PUBLIC_URL: the origin the http-mode server is reached at from outside (see PublicUrl.ts). */
  readonly publicUrl: Option.Option<string>
}

/** CHATKAZI_SECRET derives hook ids here and, in http mode, OAuth's keys: one rule for both. */
export const MIN_SECRET_BYTES = 32

const text = (name: string) =>
  setting(name, Config.string(name).pipe(Config.withDefault(""))).pipe(Effect.map((raw) => raw.trim()))

/**
 * CHATKAZI_SECRET as given (surrounding whitespace ignored): none when blank; else at least
 * MIN_SECRET_BYTES without whitespace inside. The problem never quotes the secret.
 */
export const parseSecret = (raw: string): Effect.Effect<Option.Option<Redacted.Redacted<string>>, InvalidConfig> => {
  const secret = raw.trim()
  if (secret === "") return Effect.succeedNone
  if (Buffer.byteLength(secret, "utf8") < MIN_SECRET_BYTES || /\s/.test(secret)) {
    return Effect.fail(
      new InvalidConfig({
        setting: "CHATKAZI_SECRET",
        problem: `it must be at least ${MIN_SECRET_BYTES} bytes without spaces or line breaks; generate one with ` +
          "`openssl rand -hex 32`"
      })
    )
  }
  return Effect.succeed(Option.some(Redacted.make(secret)))
}

/** Each receiving setting by its variable's name, read on its own (as `check` shows them). */
export const webhookSettings = {
  CHATKAZI_SECRET: setting("CHATKAZI_SECRET", Config.redacted("CHATKAZI_SECRET").pipe(Config.withDefault(Redacted.make(""))))
    .pipe(Effect.flatMap((raw) => parseSecret(Redacted.value(raw)))),
  CHATKAZI_WEBHOOK_PORT: text("CHATKAZI_WEBHOOK_PORT").pipe(
    Effect.filterOrFail(
      (port) => port === "" || (/^\d+$/.test(port) && Number(port) <= 65_535),
      (port) => new InvalidConfig({ setting: "CHATKAZI_WEBHOOK_PORT", problem: `expected a port from 0 to 65535, got "${port}"` })
    ),
    Effect.map((port) => port === "" ? Option.none<number>() : Option.some(Number(port)))
  ),
  CHATKAZI_WEBHOOK_HOST: Effect.map(text("CHATKAZI_WEBHOOK_HOST"), (host) => host || "127.0.0.1"),
  CHATKAZI_PUBLIC_URL: readPublicUrl
}

export class WebhookConfig extends Context.Tag("chatkazi-mcp/WebhookConfig")<WebhookConfig, WebhookSettings>() {
  static readonly layer: Layer.Layer<WebhookConfig, InvalidConfig> = Layer.effect(
    WebhookConfig,
    Effect.map(Effect.all(webhookSettings), (read) => ({
      secret: read.CHATKAZI_SECRET,
      listenPort: read.CHATKAZI_WEBHOOK_PORT,
      listenHost: read.CHATKAZI_WEBHOOK_HOST,
      publicUrl: read.CHATKAZI_PUBLIC_URL
    }))
  )

  static readonly make = (settings: Partial<Omit<WebhookSettings, "secret">> & { readonly secret?: string }) =>
    WebhookConfig.of({
      listenPort: Option.none(),
      listenHost: "127.0.0.1",
      publicUrl: Option.none(),
      ...settings,
      secret: settings.secret === undefined ? Option.none() : Option.some(Redacted.make(settings.secret))
    })
}

export interface HookIdsApi {
  /** Whether CHATKAZI_SECRET is set, so that hook ids exist. */
  readonly enabled: boolean
  /** The account's hook id; none without a secret. */
  readonly forAccount: (accountId: string) => Option.Option<string>
  /** The account a hook id belongs to; none for an unknown id (or without a secret). */
  readonly accountOf: (hookId: string) => Option.Option<string>
}

/** Hook ids from the secret: see internal/hookId.ts for why they are sealed account ids. */
export class HookIds extends Context.Tag("chatkazi-mcp/HookIds")<HookIds, HookIdsApi>() {
  static readonly make = (secret: Option.Option<Redacted.Redacted<string>>): HookIdsApi => {
    const keys: Option.Option<HookKeys> = Option.map(secret, (s) => hookKeys(Redacted.value(s)))
    return {
      enabled: Option.isSome(keys),
      forAccount: (accountId) => Option.map(keys, (k) => sealHookId(k, accountId)),
      accountOf: (hookId) => Option.flatMap(keys, (k) => Option.fromNullable(openHookId(k, hookId)))
    }
  }

  static readonly layer: Layer.Layer<HookIds, never, WebhookConfig> = Layer.effect(
    HookIds,
    Effect.map(WebhookConfig, (settings) => HookIds.make(settings.secret))
  )
}

/**
 * Where the webhook route can be reached, as the transport knows it: provided by the stdio listener
 * or the http server; by default nowhere.
 */
export type WebhookOrigin =
  | { readonly _tag: "None"; readonly problem?: string }
  /** The http-mode server, at CHATKAZI_PUBLIC_URL. */
  | { readonly _tag: "Public"; readonly origin: string }
  /** The stdio-mode listener, on this machine only unless the user exposes it. */
  | { readonly _tag: "Listener"; readonly origin: string }
  /** The sandbox: simulated contacts' replies go straight into the Inbox, no webhook involved. */
  | { readonly _tag: "Sandbox" }

/**
 * Why receiving is off when its settings are unusable: stdio mode then serves everything else, and
 * the receiving tools answer with this instead. None when receiving is set up (or simply off).
 */
export class ReceivingProblem extends Context.Reference<ReceivingProblem>()("chatkazi-mcp/ReceivingProblem", {
  defaultValue: (): Option.Option<InvalidConfig> => Option.none()
}) {}

export class WebhookAddress extends Context.Reference<WebhookAddress>()("chatkazi-mcp/WebhookAddress", {
  defaultValue: (): WebhookOrigin => ({ _tag: "None" })
}) {}
