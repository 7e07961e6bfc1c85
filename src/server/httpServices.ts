/**
 * The services of the HTTP server, split by lifetime: what the whole process shares (the state
 * store, the guards and their settings, the inbox and webhook settings, the HTTP client, the gateway
 * settings and its bound on requests in flight), and what belongs to one caller (their ChatKazi key
 * and account).
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { HttpClient as HttpClientTag } from "@effect/platform/HttpClient"
import type { HttpClient } from "@effect/platform/HttpClient"
import { Context, Effect, Layer, type Redacted } from "effect"
import type { InvalidConfig } from "../errors/ChatKaziError.js"
import { Account } from "../services/Account.js"
import { ChatKazi } from "../services/ChatKazi.js"
import { ChatKaziConfig, type ChatKaziSettings } from "../services/ChatKaziConfig.js"
import { fetchTransport, type GatewayTransport } from "../services/GatewayTransport.js"
import { Confirmations } from "../services/Confirmations.js"
import { Linking } from "../services/Linking.js"
import { MediaProbe } from "../services/MediaProbe.js"
import { SafetyConfig } from "../services/SafetyConfig.js"
import { SendGuard } from "../services/SendGuard.js"
import type { Inbox } from "../services/Inbox.js"
import type { StateStore } from "../services/StateStore.js"
import type { HookIds, WebhookAddress, WebhookConfig } from "../services/WebhookConfig.js"
import { httpReceiving } from "./receiving.js"

/**
 * The gateway settings every caller shares, one bound on requests in flight for the whole process,
 * and the transport requests go out on (`fetch`, as in stdio mode).
 */
export class SharedGateway extends Context.Tag("chatkazi-mcp/SharedGateway")<SharedGateway, {
  readonly settings: Omit<ChatKaziSettings, "apiKey">
  readonly inFlight: Effect.Semaphore
  readonly transport: GatewayTransport
}>() {
  static readonly layer: Layer.Layer<SharedGateway, InvalidConfig> = Layer.effect(
    SharedGateway,
    Effect.gen(function*() {
      const settings = yield* ChatKaziConfig.sharedSettings
      return {
        settings,
        inFlight: yield* Effect.makeSemaphore(settings.maxConcurrency),
        transport: fetchTransport(settings.timeoutMs, yield* Effect.serviceOption(FetchHttpClient.RequestInit))
      }
    })
  )
}

export type ProcessServices =
  | SharedGateway
  | HttpClient
  | SafetyConfig
  | SendGuard
  | Confirmations
  | Linking
  | StateStore
  | Inbox
  | HookIds
  | WebhookConfig
  | WebhookAddress

/** Built once per process: everything callers share, dedupe, pace and inbox state included, on one store. */
export const processServices = (options: {
  readonly stateStore: Layer.Layer<StateStore, InvalidConfig>
  readonly httpClient: Layer.Layer<HttpClient>
}): Layer.Layer<ProcessServices, InvalidConfig> =>
  Layer.mergeAll(
    Layer.mergeAll(SendGuard.layer, Confirmations.layer, Linking.layerConfig, httpReceiving).pipe(
      Layer.provideMerge(Layer.mergeAll(SafetyConfig.layer, options.stateStore))
    ),
    SharedGateway.layer,
    options.httpClient
  )

export type CallerServices = ChatKazi | MediaProbe | ChatKaziConfig | Account

/** A caller's services as a plain Context, made from the process's: no Layer, no Scope, nothing to release. */
export const callerContext = (
  apiKey: Redacted.Redacted<string>,
  shared: Context.Context<SharedGateway | HttpClient>
): Context.Context<CallerServices> => {
  const { inFlight, settings, transport } = Context.get(shared, SharedGateway)
  const client = Context.get(shared, HttpClientTag)
  const config = ChatKaziConfig.of({ ...settings, apiKey })
  return Context.make(ChatKaziConfig, config).pipe(
    Context.add(
      ChatKazi,
      ChatKazi.make(config, transport, inFlight)
    ),
    Context.add(MediaProbe, MediaProbe.make(config, client)),
    Context.add(Account, Account.fromKey(apiKey))
  )
}
