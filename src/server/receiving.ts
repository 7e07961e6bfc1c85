/**
 * Receiving, wired for a transport: the webhook settings, hook ids, the Inbox over the given
 * StateStore and, in stdio mode, the listener (which provides the address get_webhook_url shows).
 */
import { Layer } from "effect"
import type { InvalidConfig } from "../errors/ChatKaziError.js"
import { Inbox } from "../services/Inbox.js"
import type { StateStore } from "../services/StateStore.js"
import { HookIds, type WebhookAddress, WebhookConfig } from "../services/WebhookConfig.js"
import { WebhookListener } from "./webhookListener.js"

/** Stdio live mode: everything receiving needs, with the listener when CHATKAZI_WEBHOOK_PORT is set. */
export const stdioReceiving: Layer.Layer<Inbox | HookIds | WebhookConfig | WebhookAddress, InvalidConfig, StateStore> =
  WebhookListener.pipe(
    Layer.provideMerge(Layer.mergeAll(Inbox.layer, HookIds.layer)),
    Layer.provideMerge(WebhookConfig.layer)
  )
