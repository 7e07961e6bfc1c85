/**
 * Environment maps for the config layers: each test states the variables a user would set.
 */
import { ConfigProvider, Effect, Layer } from "effect"
import { ChatKaziConfig } from "../../src/services/ChatKaziConfig.js"
import { SafetyConfig } from "../../src/services/SafetyConfig.js"

export const withEnv = (env: Readonly<Record<string, string>>) =>
  Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

/** The settings `ChatKaziConfig.layer` reads from `env`, or the error it fails with. */
export const loadChatKaziConfig = (env: Readonly<Record<string, string>>) =>
  Effect.provide(ChatKaziConfig, ChatKaziConfig.layer.pipe(Layer.provide(withEnv(env))))

/** The settings `SafetyConfig.layer` reads from `env`, or the error it fails with. */
export const loadSafetyConfig = (env: Readonly<Record<string, string>>) =>
  Effect.provide(SafetyConfig, SafetyConfig.layer.pipe(Layer.provide(withEnv(env))))
