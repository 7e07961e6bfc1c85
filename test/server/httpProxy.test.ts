import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { parseTrustProxy } from "../../src/server/httpProxy.js"

describe("CHATKAZI_TRUST_PROXY", () => {
  it.effect("unset: a proxy on this machine is believed only when the server listens on loopback", () =>
    Effect.gen(function*() {
      expect(yield* parseTrustProxy("", "127.0.0.1")).toEqual(["loopback"])
      expect(yield* parseTrustProxy("", "0.0.0.0")).toBe(false)
    }))

  it.effect("a hop count, false, or a list of proxy addresses and subnets", () =>
    Effect.gen(function*() {
      expect(yield* parseTrustProxy("1", "0.0.0.0")).toBe(1)
      expect(yield* parseTrustProxy("false", "127.0.0.1")).toBe(false)
      expect(yield* parseTrustProxy("10.0.0.0/8, loopback", "0.0.0.0")).toEqual(["10.0.0.0/8", "loopback"])
    }))

  it.effect("anything else is a start-up error that names the setting", () =>
    Effect.gen(function*() {
      for (const raw of ["true", "proxy.example.com", "10.0.0.0/99"]) {
        const result = yield* Effect.either(parseTrustProxy(raw, "0.0.0.0"))
        expect(Either.getLeft(result).pipe((e) => e._tag === "Some" ? e.value.setting : "accepted"), raw).toBe("CHATKAZI_TRUST_PROXY")
      }
    }))
})
