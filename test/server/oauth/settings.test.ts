import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Option, Redacted } from "effect"
import { bearerToken } from "../../../src/server/oauth/bearer.js"
import { loadOAuthSettings } from "../../../src/server/oauth/OAuthConfig.js"
import { makeSealing } from "../../../src/server/oauth/Sealing.js"
import { withEnv } from "../../support/config.js"

const SECRET = "s".repeat(32)
const load = (env: Record<string, string>) => loadOAuthSettings.pipe(Effect.provide(withEnv(env)), Effect.either)

describe("when OAuth login is on", () => {
  it.effect("with a public URL and a secret, and no server key", () =>
    Effect.gen(function*() {
      const settings = yield* load({ CHATKAZI_PUBLIC_URL: "https://mcp.example.com/", CHATKAZI_SECRET: SECRET })
      const value = Option.getOrThrow(Either.getOrThrow(settings))
      expect(value.publicUrl).toBe("https://mcp.example.com")
      expect(value.accessTokenTtlMs).toBe(3_600_000)
      expect(value.codeTtlMs).toBe(60_000)
      expect(String(value.secret)).not.toContain(SECRET)
    }))

  it.effect("off with a server key, or without the URL or the secret", () =>
    Effect.gen(function*() {
      for (
        const env of [
          { CHATKAZI_API_KEY: "ck_1", CHATKAZI_PUBLIC_URL: "https://mcp.example.com", CHATKAZI_SECRET: SECRET },
          { CHATKAZI_SECRET: SECRET },
          { CHATKAZI_PUBLIC_URL: "https://mcp.example.com" }
        ]
      ) {
        expect(yield* load(env)).toEqual(Either.right(Option.none()))
      }
    }))

  it.effect("a secret under 32 bytes is a start-up error that says how to make one", () =>
    Effect.gen(function*() {
      const result = yield* load({ CHATKAZI_PUBLIC_URL: "https://mcp.example.com", CHATKAZI_SECRET: "short" })
      const error = Either.getLeft(result).pipe(Option.getOrThrow)
      expect(error.setting).toBe("CHATKAZI_SECRET")
      expect(error.problem).toContain("at least 32 bytes")
      expect(error.problem).not.toContain("short")
    }))

  it.effect("the public URL must be https, except on localhost and 127.0.0.1, and an origin only", () =>
    Effect.gen(function*() {
      const problem = (url: string) =>
        load({ CHATKAZI_PUBLIC_URL: url, CHATKAZI_SECRET: SECRET }).pipe(
          Effect.map(Either.match({ onLeft: (e) => e.problem, onRight: () => "ok" }))
        )
      expect(yield* problem("http://mcp.example.com")).toMatch(/must be an https URL/)
      expect(yield* problem("https://mcp.example.com/base")).toMatch(/origin only/)
      expect(yield* problem("not a url")).toMatch(/is not a URL/)
      expect(yield* problem("http://127.0.0.1:8080")).toBe("ok")
      expect(yield* problem("http://localhost:8080")).toBe("ok")
    }))
})

describe("sealing the ChatKazi key", () => {
  const sealing = makeSealing(Redacted.make(SECRET))

  it("opens for its own record only, and not after tampering or with another secret", () => {
    const sealed = sealing.seal(Redacted.make("ck_live_key"), "family-1")
    expect(sealed).not.toContain("ck_live_key")
    expect(Redacted.value(sealing.open(sealed, "family-1")!)).toBe("ck_live_key")
    expect(sealing.open(sealed, "family-2")).toBeUndefined()
    const parts = sealed.split(".")
    const body = Buffer.from(parts[3]!, "base64url")
    body[0] = body[0]! ^ 1
    expect(sealing.open([parts[0], parts[1], parts[2], body.toString("base64url")].join("."), "family-1")).toBeUndefined()
    expect(makeSealing(Redacted.make("t".repeat(32))).open(sealed, "family-1")).toBeUndefined()
    expect(sealing.seal(Redacted.make("ck_live_key"), "family-1")).not.toBe(sealed)
  })
})

describe("reading the Authorization header", () => {
  it("takes the token after Bearer, in any case, and nothing else", () => {
    expect(bearerToken("Bearer ckmcp_at_x")).toBe("ckmcp_at_x")
    expect(bearerToken("bearer abc")).toBe("abc")
    expect(bearerToken("Basic abc")).toBeUndefined()
    expect(bearerToken("Bearer a b")).toBeUndefined()
    expect(bearerToken(undefined)).toBeUndefined()
  })
})
