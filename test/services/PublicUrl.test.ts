/**
 * CHATKAZI_PUBLIC_URL has one reading: the webhook URL and the OAuth issuer accept and refuse the
 * same values, with the same words.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Layer, Option } from "effect"
import { loadOAuthSettings } from "../../src/server/oauth/OAuthConfig.js"
import { WebhookConfig } from "../../src/services/WebhookConfig.js"
import { withEnv } from "../support/config.js"

const SECRET = "s".repeat(40)

const asWebhook = (url: string) =>
  Effect.provide(WebhookConfig, WebhookConfig.layer.pipe(Layer.provide(withEnv({ CHATKAZI_PUBLIC_URL: url, CHATKAZI_SECRET: SECRET })))).pipe(
    Effect.map((settings) => Option.getOrThrow(settings.publicUrl)),
    Effect.either,
    Effect.map(Either.mapLeft((error) => error.problem))
  )

const asOAuth = (url: string) =>
  loadOAuthSettings.pipe(
    Effect.provide(withEnv({ CHATKAZI_PUBLIC_URL: url, CHATKAZI_SECRET: SECRET })),
    Effect.map((settings) => Option.getOrThrow(settings).publicUrl),
    Effect.either,
    Effect.map(Either.mapLeft((error) => error.problem))
  )

describe("CHATKAZI_PUBLIC_URL", () => {
  it.effect("reads the same for the webhook URL and for OAuth", () =>
    Effect.gen(function*() {
      const cases = [
        "https://mcp.example.com/",
        " https://mcp.example.com:8443 ",
        "http://127.0.0.1:8080",
        "http://localhost:8080",
        "http://mcp.example.com",
        "https://mcp.example.com/base",
        "https://mcp.example.com/?x=1",
        "not a url"
      ]
      for (const url of cases) expect(yield* asWebhook(url), url).toEqual(yield* asOAuth(url))
      expect(yield* asWebhook("https://mcp.example.com/")).toEqual(Either.right("https://mcp.example.com"))
      expect(yield* asWebhook("https://mcp.example.com/base")).toEqual(Either.left(expect.stringMatching(/origin only/)))
      expect(yield* asWebhook("http://mcp.example.com")).toEqual(Either.left(expect.stringMatching(/https/)))
    }))
})

describe("CHATKAZI_SECRET", () => {
  it.effect("has one minimum, 32 bytes, for the webhook ids and for OAuth", () =>
    Effect.gen(function*() {
      const env = (secret: string) => withEnv({ CHATKAZI_PUBLIC_URL: "https://mcp.example.com", CHATKAZI_SECRET: secret })
      const webhook = (secret: string) =>
        Effect.either(Effect.provide(WebhookConfig, WebhookConfig.layer.pipe(Layer.provide(env(secret)))))
      const oauth = (secret: string) => Effect.either(Effect.provide(loadOAuthSettings, env(secret)))
      for (const secret of ["s".repeat(31), "0123456789abcdef0123"]) {
        expect(Either.isLeft(yield* webhook(secret)), secret).toBe(true)
        expect(Either.isLeft(yield* oauth(secret)), secret).toBe(true)
      }
      expect(Either.isRight(yield* webhook("s".repeat(32)))).toBe(true)
      expect(Either.isRight(yield* oauth("s".repeat(32)))).toBe(true)
    }))
})
