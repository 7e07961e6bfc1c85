/**
 * Receiving, wired for a transport: the webhook settings, hook ids, the Inbox over the given
 * StateStore, and the address get_webhook_url shows: in stdio mode the listener's, in http mode
 * CHATKAZI_PUBLIC_URL (the http server itself serves the route there).
 */
import { Effect, Layer, Option } from "effect"
import type { InvalidConfig } from "../errors/ChatKaziError.js"
import { Inbox } from "../services/Inbox.js"
import type { StateStore } from "../services/StateStore.js"
import { HookIds, WebhookAddress, WebhookConfig, type WebhookOrigin } from "../services/WebhookConfig.js"
import { WebhookListener } from "./webhookListener.js"

/** Stdio live mode: everything receiving needs, with the listener when CHATKAZI_WEBHOOK_PORT is set. */
export const stdioReceiving: Layer.Layer<Inbox | HookIds | WebhookConfig | WebhookAddress, InvalidConfig, StateStore> =
  WebhookListener.pipe(
    Layer.provideMerge(Layer.mergeAll(Inbox.layer, HookIds.layer)),
    Layer.provideMerge(WebhookConfig.layer)
  )

/** Http mode: the webhook is a route of the server, reached at CHATKAZI_PUBLIC_URL. */
export const httpReceiving: Layer.Layer<Inbox | HookIds | WebhookConfig | WebhookAddress, InvalidConfig, StateStore> =
  Layer.effect(
    WebhookAddress,
    Effect.map(WebhookConfig, (settings) =>
      Option.match(settings.publicUrl, {
        onNone: (): WebhookOrigin => ({
          _tag: "None",
          problem: "this server has no CHATKAZI_PUBLIC_URL, so it cannot say where ChatKazi reaches it"
        }),
        onSome: (origin): WebhookOrigin => ({ _tag: "Public", origin })
      }))
  ).pipe(
    Layer.provideMerge(Layer.mergeAll(Inbox.layer, HookIds.layer)),
    Layer.provideMerge(WebhookConfig.layer)
  )
