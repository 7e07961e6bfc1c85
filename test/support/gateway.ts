/**
 * The real ChatKazi service wired to a fake HttpClient, with test settings.
 */
import { Effect, Layer } from "effect"
import { ChatKazi, type ChatKaziApi } from "../../src/services/ChatKazi.js"
import { ChatKaziConfig, type ChatKaziSettings } from "../../src/services/ChatKaziConfig.js"
import type { FakeHttp } from "./FakeHttpClient.js"

export const API_KEY = "ck_test_secret_123"
/** A base URL with a path and a trailing slash, as a user might paste it. */
export const BASE_URL = "https://gw.example.test/api/v1/"
/** The path prefix every request must carry (once, with no `//`). */
export const API = "/api/v1"

export type TestSettings = Partial<Omit<ChatKaziSettings, "apiKey">> & { readonly apiKey?: string }

/** No backoff by default, so retries run without moving the test clock. */
export const configLayer = (settings: TestSettings = {}) =>
  Layer.succeed(ChatKaziConfig, ChatKaziConfig.make({ apiKey: API_KEY, baseUrl: BASE_URL, retryBaseDelayMs: 0, ...settings }))

export const chatKaziLayer = (fake: FakeHttp, settings: TestSettings = {}) =>
  ChatKazi.layer.pipe(Layer.provide(fake.layer), Layer.provide(configLayer(settings)))

/** The live ChatKazi service talking to `fake`. */
export const liveChatKazi = (fake: FakeHttp, settings: TestSettings = {}): Effect.Effect<ChatKaziApi> =>
  Effect.provide(ChatKazi, chatKaziLayer(fake, settings))
