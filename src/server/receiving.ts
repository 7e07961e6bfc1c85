/**
 * Receiving, wired for a transport: the webhook settings, hook ids, the Inbox over the given
 * StateStore and, in stdio mode, the listener (which provides the address get_webhook_url shows).
 */
import { Effect, Layer } from "effect"
import type { InvalidConfig } from "../errors/ChatKaziError.js"
import { Account } from "../services/Account.js"
import { ChatKaziConfig } from "../services/ChatKaziConfig.js"
import { Inbox, type InboxRetention, MEMORY_RETENTION } from "../services/Inbox.js"
import type { StateStore } from "../services/StateStore.js"
import { HookIds, type WebhookAddress, WebhookConfig } from "../services/WebhookConfig.js"
import { WebhookListener } from "./webhookListener.js"

/** The account of the configured API key. */
export const AccountFromConfig: Layer.Layer<Account, never, ChatKaziConfig> = Layer.effect(
  Account,
  Effect.map(ChatKaziConfig, (config) => Account.fromKey(config.apiKey))
)

/** Stdio live mode: everything receiving needs, with the listener when CHATKAZI_WEBHOOK_PORT is set. */
export const stdioReceiving = (
  retention: InboxRetention = MEMORY_RETENTION
): Layer.Layer<Inbox | HookIds | WebhookConfig | WebhookAddress, InvalidConfig, StateStore> =>
  WebhookListener.pipe(
    Layer.provideMerge(Layer.mergeAll(Inbox.layer(retention), HookIds.layer)),
    Layer.provideMerge(WebhookConfig.layer)
  )
