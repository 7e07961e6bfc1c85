import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, Redacted } from "effect"
import { DEFAULT_BASE_URL } from "../../src/services/ChatKaziConfig.js"
import { isAllowedRecipient } from "../../src/services/SafetyConfig.js"
import { loadChatKaziConfig, loadSafetyConfig } from "../support/config.js"

const KEY = { CHATKAZI_API_KEY: "ck_live_abc" }

describe("ChatKaziConfig.layer", () => {
  it.effect("a key alone gives the documented defaults, and the key stays redacted", () =>
    Effect.gen(function*() {
      const settings = yield* loadChatKaziConfig(KEY)
      expect(Redacted.value(settings.apiKey)).toBe("ck_live_abc")
      expect(String(settings.apiKey)).not.toContain("ck_live_abc")
      expect(JSON.stringify(settings)).not.toContain("ck_live_abc")
      expect(settings).toMatchObject({
        baseUrl: DEFAULT_BASE_URL,
        timeoutMs: 30_000,
        maxRetries: 2,
        retryBaseDelayMs: 250,
        maxRetryAfterMs: 10_000,
        maxConcurrency: 8,
        mediaCheckTimeoutMs: 5_000
      })
    }))

  it.effect.each([
    ["missing", {}],
    ["empty", { CHATKAZI_API_KEY: "" }],
    ["blank", { CHATKAZI_API_KEY: "   " }]
  ] as const)("a %s API key is MissingApiKey, whose guidance says where to set it", ([, env]) =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(loadChatKaziConfig(env))
      expect(error._tag).toBe("MissingApiKey")
      expect(error.message).toContain("CHATKAZI_API_KEY")
      expect(error.message).toContain("nothing was sent")
    }))

  it.effect.each([
    ["https://gw.example.test/api/v1/", "https://gw.example.test/api/v1"],
    ["https://gw.example.test/api/v1///", "https://gw.example.test/api/v1"],
    ["  http://127.0.0.1:8787/  ", "http://127.0.0.1:8787"],
    ["https://gw.example.test", "https://gw.example.test"]
  ] as const)("CHATKAZI_BASE_URL %j becomes %j", ([raw, expected]) =>
    Effect.gen(function*() {
      const settings = yield* loadChatKaziConfig({ ...KEY, CHATKAZI_BASE_URL: raw })
      expect(settings.baseUrl).toBe(expected)
    }))

  it.effect.each([
    ["not a url", "is not a URL"],
    ["api.chatkazi.app/api/v1", "is not a URL"],
    ["ftp://api.chatkazi.app/api/v1", "http(s)"],
    ["https://api.chatkazi.app/api/v1?key=1", "query"]
  ] as const)("CHATKAZI_BASE_URL %j is InvalidConfig naming the setting", ([raw, problem]) =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(loadChatKaziConfig({ ...KEY, CHATKAZI_BASE_URL: raw }))
      expect(error).toMatchObject({ _tag: "InvalidConfig", setting: "CHATKAZI_BASE_URL" })
      expect(error._tag === "InvalidConfig" && error.problem).toContain(problem)
      expect(error.message).toContain("CHATKAZI_BASE_URL")
    }))

  it.effect.each([
    "https://ops:hunter2secret@gw.example.test/api/v1",
    "https://hunter2secret@gw.example.test/api/v1",
    "https://:hunter2secret@gw.example.test",
    "https://ops:hunter2secret@gw example.test/api/v1"
  ])("CHATKAZI_BASE_URL with credentials (%s) is refused without quoting them", (raw) =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(loadChatKaziConfig({ ...KEY, CHATKAZI_BASE_URL: raw }))
      expect(error).toMatchObject({ _tag: "InvalidConfig", setting: "CHATKAZI_BASE_URL" })
      expect(JSON.stringify(error) + error.message).not.toContain("hunter2secret")
    }))

  it.effect.each([
    ["CHATKAZI_TIMEOUT_MS", "soon"],
    ["CHATKAZI_TIMEOUT_MS", "0"],
    ["CHATKAZI_TIMEOUT_MS", "2.5"],
    ["CHATKAZI_MAX_RETRIES", "-1"],
    ["CHATKAZI_MAX_RETRIES", "three"],
    ["CHATKAZI_RETRY_BASE_DELAY_MS", "-5"],
    ["CHATKAZI_MAX_RETRY_AFTER_MS", "1e"],
    ["CHATKAZI_MAX_CONCURRENCY", "0"],
    ["CHATKAZI_MEDIA_CHECK_TIMEOUT_MS", "fast"]
  ] as const)("%s=%j is InvalidConfig naming that setting", ([name, value]) =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(loadChatKaziConfig({ ...KEY, [name]: value }))
      expect(error).toMatchObject({ _tag: "InvalidConfig", setting: name })
      expect(error.message).toContain(name)
      expect(error.message).not.toContain("ck_live_abc")
    }))

  it.effect("a key pasted with a trailing newline is trimmed", () =>
    Effect.gen(function*() {
      const settings = yield* loadChatKaziConfig({ CHATKAZI_API_KEY: "  ck_live_abc\n" })
      expect(Redacted.value(settings.apiKey)).toBe("ck_live_abc")
    }))

  it.effect.each(["ck_SECRET\ntail", "ck SECRET", "ck\u0000SECRET"])(
    "a key with an inner space, line break or control character (%j) is InvalidConfig that does not quote it",
    (key) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(loadChatKaziConfig({ CHATKAZI_API_KEY: key }))
        expect(error).toMatchObject({ _tag: "InvalidConfig", setting: "CHATKAZI_API_KEY" })
        expect(error.message).not.toContain("SECRET")
      })
  )

  it.effect("valid numbers are read, and 0 retries or 0 backoff are allowed", () =>
    Effect.gen(function*() {
      const settings = yield* loadChatKaziConfig({
        ...KEY,
        CHATKAZI_TIMEOUT_MS: "1500",
        CHATKAZI_MAX_RETRIES: "0",
        CHATKAZI_RETRY_BASE_DELAY_MS: "0",
        CHATKAZI_MAX_CONCURRENCY: "1"
      })
      expect(settings).toMatchObject({ timeoutMs: 1500, maxRetries: 0, retryBaseDelayMs: 0, maxConcurrency: 1 })
    }))

  it.effect("a number setting left blank in the host config means its default, not 0", () =>
    Effect.gen(function*() {
      const settings = yield* loadChatKaziConfig({
        ...KEY,
        CHATKAZI_TIMEOUT_MS: "",
        CHATKAZI_MAX_RETRIES: " ",
        CHATKAZI_RETRY_BASE_DELAY_MS: ""
      })
      expect(settings).toMatchObject({ timeoutMs: 30_000, maxRetries: 2, retryBaseDelayMs: 250 })
    }))
})

describe("SafetyConfig.layer", () => {
  it.effect("defaults: 30 s dedupe, 20 sends a minute, anyone may be messaged, not read-only, confirm when possible", () =>
    Effect.gen(function*() {
      const settings = yield* loadSafetyConfig({})
      expect(settings).toStrictEqual({
        dedupeWindowSeconds: 30,
        maxSendsPerMinute: 20,
        allowedRecipients: Option.none(),
        readOnly: false,
        confirmSends: "auto",
        confirmTimeoutSeconds: 120
      })
    }))

  it.effect.each([
    ["always", "always"],
    [" NEVER ", "never"],
    ["Auto", "auto"],
    ["", "auto"]
  ] as const)("CHATKAZI_CONFIRM_SENDS %j is %s", ([raw, expected]) =>
    Effect.gen(function*() {
      const settings = yield* loadSafetyConfig({ CHATKAZI_CONFIRM_SENDS: raw, CHATKAZI_CONFIRM_TIMEOUT_SECONDS: "5" })
      expect(settings.confirmSends).toBe(expected)
      expect(settings.confirmTimeoutSeconds).toBe(5)
    }))

  it.effect.each([
    [{ CHATKAZI_CONFIRM_SENDS: "sometimes" }, "CHATKAZI_CONFIRM_SENDS", 'expected auto, always or never, got "sometimes"'],
    [{ CHATKAZI_CONFIRM_SENDS: "true" }, "CHATKAZI_CONFIRM_SENDS", 'expected auto, always or never, got "true"'],
    [{ CHATKAZI_CONFIRM_TIMEOUT_SECONDS: "0" }, "CHATKAZI_CONFIRM_TIMEOUT_SECONDS", "at least 1"],
    [{ CHATKAZI_CONFIRM_TIMEOUT_SECONDS: "two minutes" }, "CHATKAZI_CONFIRM_TIMEOUT_SECONDS", ""]
  ] as const)("%j is an InvalidConfig naming %s", ([env, name, problem]) =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(loadSafetyConfig(env))
      expect(error._tag).toBe("InvalidConfig")
      expect(error.setting).toBe(name)
      expect(error.problem).toContain(problem)
      expect(error.message).toContain("Nothing was sent")
    }))

  it.effect("numbers written with + and spaces, and prefixes ending in *, make the allowlist", () =>
    Effect.gen(function*() {
      const settings = yield* loadSafetyConfig({
        CHATKAZI_ALLOWED_RECIPIENTS: "+254 712 345 678, 2547-11*,+44 (20) *, ,"
      })
      expect(settings.allowedRecipients).toStrictEqual(Option.some(["254712345678", "254711*", "4420*"]))
    }))

  it.effect.each(["none", "my-number", "254712345678, my wife", "2547*, x*"])(
    "an allowlist with an entry that is not a number (%j) is InvalidConfig, never \"anyone\"",
    (raw) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(loadSafetyConfig({ CHATKAZI_ALLOWED_RECIPIENTS: raw }))
        expect(error).toMatchObject({ _tag: "InvalidConfig", setting: "CHATKAZI_ALLOWED_RECIPIENTS" })
      })
  )

  it.effect.each(["", " ", " , ,", "*"])("an allowlist of %j allows anyone", (raw) =>
    Effect.gen(function*() {
      const settings = yield* loadSafetyConfig({ CHATKAZI_ALLOWED_RECIPIENTS: raw })
      expect(settings.allowedRecipients).toStrictEqual(Option.none())
    }))

  it.effect.each([
    ["true", true],
    ["false", false],
    ["1", true],
    ["0", false]
  ] as const)("CHATKAZI_READ_ONLY=%s reads as %s", ([raw, expected]) =>
    Effect.gen(function*() {
      expect((yield* loadSafetyConfig({ CHATKAZI_READ_ONLY: raw })).readOnly).toBe(expected)
    }))

  it.effect.each([
    ["CHATKAZI_READ_ONLY", "maybe"],
    ["CHATKAZI_DEDUPE_WINDOW_SECONDS", "half a minute"],
    ["CHATKAZI_DEDUPE_WINDOW_SECONDS", "-1"],
    ["CHATKAZI_MAX_SENDS_PER_MINUTE", "0"],
    ["CHATKAZI_MAX_SENDS_PER_MINUTE", "lots"]
  ] as const)("%s=%j is InvalidConfig naming that setting", ([name, value]) =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(loadSafetyConfig({ [name]: value }))
      expect(error).toMatchObject({ _tag: "InvalidConfig", setting: name })
      expect(error.message).toContain(name)
    }))

  it.effect("blank guard settings keep their protective defaults (a blank dedupe window must not turn it off)", () =>
    Effect.gen(function*() {
      const settings = yield* loadSafetyConfig({ CHATKAZI_DEDUPE_WINDOW_SECONDS: "", CHATKAZI_MAX_SENDS_PER_MINUTE: " " })
      expect(settings).toMatchObject({ dedupeWindowSeconds: 30, maxSendsPerMinute: 20 })
    }))

  it.effect("a dedupe window of 0 (off) is accepted", () =>
    Effect.gen(function*() {
      expect((yield* loadSafetyConfig({ CHATKAZI_DEDUPE_WINDOW_SECONDS: "0" })).dedupeWindowSeconds).toBe(0)
    }))
})

describe("isAllowedRecipient", () => {
  const allowlist = ["254712345678", "254711*"]
  it.each([
    ["254712345678", true],
    ["254711000000", true],
    ["254711", true],
    ["254712345679", false],
    ["2547123456780", false],
    ["25471", false],
    ["447700900000", false]
  ])("%s → %s", (to, expected) => {
    expect(isAllowedRecipient(allowlist, to)).toBe(expected)
  })
})
