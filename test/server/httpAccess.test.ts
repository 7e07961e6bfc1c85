/**
 * Who may call the HTTP server, as units: the mode read from the environment (and the settings it
 * refuses to start with), what each Authorization header is admitted as, and the `http` command line.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Redacted } from "effect"
import { parseCommand } from "../../src/cli.js"
import { admit, describeAccess, type HttpAccess, isLoopback, readHttpAccess } from "../../src/server/httpAccess.js"
import { withEnv } from "../support/config.js"

const read = (env: Record<string, string>, host = "127.0.0.1") =>
  Effect.either(Effect.provide(readHttpAccess(host), withEnv(env)))

const TOKEN = "0123456789abcdef0123"
const OTHER = "fedcba9876543210fedc"

describe("readHttpAccess", () => {
  it.effect("without a server key, each caller brings their own", () =>
    Effect.gen(function*() {
      expect(yield* read({})).toEqual(Either.right({ _tag: "OwnKey" }))
      expect(yield* read({ CHATKAZI_API_KEY: "  " }, "0.0.0.0")).toEqual(Either.right({ _tag: "OwnKey" }))
    }))

  it.effect("with a server key and tokens, keeps only digests of the tokens", () =>
    Effect.gen(function*() {
      const access = Either.getOrThrow(yield* read({ CHATKAZI_API_KEY: "ck_k", CHATKAZI_HTTP_TOKENS: ` ${TOKEN} ,, ${OTHER}` }, "0.0.0.0"))
      expect(access._tag).toBe("SharedKey")
      expect(describeAccess(access)).toBe("shared key, 2 access token(s)")
      expect(JSON.stringify(access)).not.toContain(TOKEN)
      expect(JSON.stringify(access)).not.toContain("ck_k")
    }))

  it.effect("refuses a shared key without tokens unless on loopback", () =>
    Effect.gen(function*() {
      const exposed = yield* read({ CHATKAZI_API_KEY: "ck_k" }, "0.0.0.0")
      expect(Either.isLeft(exposed) && exposed.left.setting).toBe("CHATKAZI_HTTP_TOKENS")
      for (const host of ["127.0.0.1", "localhost", "::1", "127.0.0.2"]) {
        expect(Either.isRight(yield* read({ CHATKAZI_API_KEY: "ck_k" }, host))).toBe(true)
      }
    }))

  it.effect("refuses tokens without a key, and short tokens", () =>
    Effect.gen(function*() {
      const orphan = yield* read({ CHATKAZI_HTTP_TOKENS: TOKEN })
      expect(Either.isLeft(orphan) && orphan.left.problem).toContain("CHATKAZI_API_KEY is not")
      const short = yield* read({ CHATKAZI_API_KEY: "ck_k", CHATKAZI_HTTP_TOKENS: `${TOKEN},letmein` })
      expect(Either.isLeft(short) && short.left.problem).toMatch(/^token 2 is shorter than 16/)
      expect(Either.isLeft(short) && short.left.problem).not.toContain("letmein")
    }))
})

describe("admit", () => {
  const own: HttpAccess = { _tag: "OwnKey" }
  const shared = Effect.runSync(Effect.provide(readHttpAccess("0.0.0.0"), withEnv({ CHATKAZI_API_KEY: "ck_server", CHATKAZI_HTTP_TOKENS: `${TOKEN},${OTHER}` })))
  const keyOf = (admission: ReturnType<typeof admit>) => admission._tag === "Admitted" ? Redacted.value(admission.apiKey) : admission._tag

  it("takes the bearer token as the caller's key in bring-your-own-key mode", () => {
    expect(keyOf(admit(own, "Bearer ck_caller"))).toBe("ck_caller")
    expect(keyOf(admit(own, "bearer   ck_caller "))).toBe("ck_caller")
    for (const header of [undefined, "", "Bearer", "Bearer ", "Basic ck_caller", "Bearer two words", "ck_caller"]) {
      expect(keyOf(admit(own, header))).toBe("Refused")
    }
  })

  it("never takes an OAuth token for a ChatKazi key when OAuth login is off", () => {
    expect(keyOf(admit(own, "Bearer ckmcp_at_left-from-when-login-was-on"))).toBe("Refused")
  })

  it("admits any listed token with the server's key, and nothing else", () => {
    expect(keyOf(admit(shared, `Bearer ${TOKEN}`))).toBe("ck_server")
    expect(keyOf(admit(shared, `Bearer ${OTHER}`))).toBe("ck_server")
    for (const header of [undefined, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, "Bearer ck_server", TOKEN]) {
      expect(keyOf(admit(shared, header))).toBe("Refused")
    }
  })

  it("lets anyone in on an open loopback server with a shared key", () => {
    const open = Effect.runSync(Effect.provide(readHttpAccess("127.0.0.1"), withEnv({ CHATKAZI_API_KEY: "ck_server" })))
    expect(keyOf(admit(open, undefined))).toBe("ck_server")
  })

  it("knows loopback addresses", () => {
    expect(["127.0.0.1", "localhost", "::1", "[::1]", "127.1.2.3"].every(isLoopback)).toBe(true)
    expect(["0.0.0.0", "::", "192.168.1.2", "example.com", "127.example.com"].some(isLoopback)).toBe(false)
  })
})

describe("the http command", () => {
  it("reads --port and --host, leaving the port to PORT when absent", () => {
    expect(parseCommand(["http"])).toEqual({ _tag: "ServeHttp", port: undefined, host: "127.0.0.1" })
    expect(parseCommand(["http", "--port", "0", "--host", "0.0.0.0"])).toEqual({ _tag: "ServeHttp", port: 0, host: "0.0.0.0" })
  })

  it("refuses options that do not apply", () => {
    expect(parseCommand(["http", "--port", "99999"])).toMatchObject({ _tag: "Invalid", problem: expect.stringContaining("--port") })
    expect(parseCommand(["http", "--sandbox"])).toMatchObject({ _tag: "Invalid" })
    expect(parseCommand(["--host", "0.0.0.0"])).toMatchObject({ _tag: "Invalid", problem: expect.stringContaining("--host") })
  })
})
