/**
 * One rule for what a credential may look like, and one for reading a bearer: every place that
 * takes a key or a token agrees on each sample (the key from the environment, the login page, a
 * bearer in both HTTP access modes), and CHATKAZI_SECRET reads the same for receiving and OAuth.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Option, Redacted } from "effect"
import { admit } from "../../src/server/httpAccess.js"
import { makeOAuthSettings } from "../../src/server/oauth/OAuthConfig.js"
import { checkKey } from "../../src/server/oauth/KeyCheck.js"
import { makeResolveBearer } from "../../src/server/oauth/bearer.js"
import type { Grants } from "../../src/server/oauth/Grants.js"
import { bearerToken } from "../../src/services/Credentials.js"
import { parseSecret } from "../../src/services/WebhookConfig.js"
import { loadChatKaziConfig } from "../support/config.js"

const SAMPLES: ReadonlyArray<readonly [key: string, wellFormed: boolean]> = [
  ["ck_live_abc-123.XYZ", true],
  ["ck_live_abc 123", false],
  ["ck_live_abc\t123", false],
  ["ck_live_abcé", false],
  ["ck_live_abc\u0000", false]
]

const noGrants = {} as Grants
const resolveBearer = makeResolveBearer(noGrants, () => "Bearer")

describe("one rule for keys and tokens", () => {
  it.effect.each(SAMPLES)("%j: every entry point agrees it is well formed: %s", ([key, wellFormed]) =>
    Effect.gen(function*() {
      const fromEnv = yield* Effect.either(loadChatKaziConfig({ CHATKAZI_API_KEY: key }))
      expect(Either.isRight(fromEnv)).toBe(wellFormed)
      // A well-formed key goes on to ChatKazi (not part of this test); a malformed one is refused before.
      if (!wellFormed) {
        const atLogin = yield* Effect.flip(checkKey({} as never, Redacted.make(key)).pipe(Effect.provide(FetchHttpClient.layer)))
        expect(atLogin).toMatchObject({ invalidKey: true, reason: expect.stringContaining("Copy it again") })
      }
      const asBearer = yield* Effect.either(resolveBearer(key))
      expect(Either.isRight(asBearer)).toBe(wellFormed)
      expect(admit({ _tag: "OwnKey" }, `Bearer ${key}`)._tag === "Admitted").toBe(wellFormed && !/\s/.test(key))
    }))

  it.each([
    ["Bearer ck_live_abc", "ck_live_abc"],
    ["bearer  ck_live_abc", "ck_live_abc"],
    ["Bearer\tck_live_abc", "ck_live_abc"],
    ["Bearer ck_live_abc  ", "ck_live_abc"],
    ["Basic ck_live_abc", undefined],
    ["Bearer", undefined],
    ["Bearer a b", undefined]
  ])("%j carries the bearer %j, for plain HTTP access and OAuth alike", (header, token) => {
    expect(bearerToken(header)).toBe(token)
    const shared = { _tag: "SharedKey", apiKey: Redacted.make("ck_server"), tokenDigests: [] } as const
    expect(admit(shared, header)._tag).toBe("Admitted")
    const own = admit({ _tag: "OwnKey" }, header)
    expect(own._tag === "Admitted" ? Redacted.value(own.apiKey) : undefined).toBe(token)
  })
})

describe("one rule for CHATKAZI_SECRET", () => {
  const secret = "s".repeat(32)
  it.effect.each([
    [`  ${secret}\n`, true],
    [`${secret.slice(0, 16)} ${secret.slice(16)}`, false],
    ["s".repeat(31), false]
  ] as const)("%j: receiving and OAuth agree (usable: %s), and read it the same", ([raw, usable]) =>
    Effect.gen(function*() {
      const forReceiving = yield* Effect.either(parseSecret(raw))
      const forOAuth = yield* Effect.either(makeOAuthSettings({ publicUrl: "https://mcp.example.com", secret: raw }))
      expect(Either.isRight(forReceiving)).toBe(usable)
      expect(Either.isRight(forOAuth)).toBe(usable)
      if (Either.isRight(forReceiving) && Either.isRight(forOAuth)) {
        expect(Redacted.value(Option.getOrThrow(forReceiving.right))).toBe(Redacted.value(forOAuth.right.secret))
      }
    }))
})
