/**
 * Receiving, wired for a transport: the webhook settings, hook ids, the Inbox over the given
 * StateStore, and the address get_webhook_url shows: in stdio mode the listener's, in http mode
 * CHATKAZI_PUBLIC_URL (the http server itself serves the route there).
 */
import { Effect, Layer, Option } from "effect"
import type { InvalidConfig } from "../errors/ChatKaziError.js"
import { Inbox } from "../services/Inbox.js"
import type { StateStore } from "../services/StateStore.js"
import {
  HookIds,
  ReceivingProblem,
  WebhookAddress,
  WebhookConfig,
  type WebhookOrigin
} from "../services/WebhookConfig.js"
import { WebhookListener } from "./webhookListener.js"

type Receiving = Inbox | HookIds | WebhookConfig | WebhookAddress

/**
 * Stdio live mode: everything receiving needs, with the listener when CHATKAZI_WEBHOOK_PORT is set.
 * Receiving is optional there: with an unusable setting it is off (one warning says which), and
 * the other tools still work; the receiving tools name the setting through `ReceivingProblem`.
 */
export const stdioReceiving: Layer.Layer<Receiving | ReceivingProblem, never, StateStore> = WebhookListener.pipe(
  Layer.provideMerge(Layer.mergeAll(Inbox.layer, HookIds.layer)),
  Layer.provideMerge(WebhookConfig.layer),
  Layer.merge(Layer.succeed(ReceivingProblem, Option.none())),
  Layer.catchAll((problem) => receivingOff(problem))
)

/** Receiving off because of `problem`: no hook ids, no listener, an inbox nothing arrives in. */
export const receivingOff = (problem: InvalidConfig): Layer.Layer<Receiving | ReceivingProblem, never, StateStore> =>
  Layer.mergeAll(
    Inbox.layer,
    Layer.succeed(HookIds, HookIds.make(Option.none())),
    Layer.succeed(WebhookConfig, WebhookConfig.make({})),
    Layer.succeed(WebhookAddress, { _tag: "None", problem: `${problem.setting} is invalid: ${problem.problem}` }),
    Layer.succeed(ReceivingProblem, Option.some(problem)),
    Layer.effectDiscard(
      Effect.logWarning(
        `Receiving incoming messages is off: ${problem.setting} is invalid (${problem.problem}). ` +
          "Everything else works; fix it and restart to receive messages."
      )
    )
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
