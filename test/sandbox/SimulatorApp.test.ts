/**
 * The simulator over HTTP, through its in-process web handler: statuses, bodies, key checks and
 * the sandbox-only endpoints, exactly as a client sees them.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { SandboxConfig, type SandboxSettings } from "../../src/sandbox/SandboxConfig.js"
import { simulatorFetch } from "../../src/sandbox/SandboxHttpClient.js"
import { Simulator } from "../../src/sandbox/Simulator.js"

const BASE = "http://sandbox.test"

const makeFetch = (settings: Partial<SandboxSettings> = {}) =>
  simulatorFetch.pipe(Effect.provide(Simulator.layer.pipe(Layer.provide(SandboxConfig.layer(settings)))))

interface Answer {
  readonly status: number
  readonly body: { success: boolean; data?: any; message?: string }
}

const client = (fetch: typeof globalThis.fetch, key: string | null = "test-key") => {
  const request = (method: string, path: string, body?: unknown): Effect.Effect<Answer> =>
    Effect.promise(async () => {
      const response = await fetch(`${BASE}${path}`, {
        method,
        headers: {
          ...(key === null ? {} : { "x-api-key": key }),
          ...(body === undefined ? {} : { "content-type": "application/json" })
        },
        ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) })
      })
      return { status: response.status, body: await response.json() as Answer["body"] }
    })
  return {
    get: (path: string) => request("GET", path),
    post: (path: string, body?: unknown) => request("POST", path, body)
  }
}

describe("SimulatorApp over HTTP", () => {
  it.live("runs a session's whole life with the API's paths and envelope", () =>
    Effect.gen(function*() {
      const api = client(yield* makeFetch({ connectingMs: 0, scanAfterMs: undefined, scanAfterPolls: undefined }))
      expect(yield* api.get("/api/v1/sessions")).toEqual({
        status: 200,
        body: { success: true, data: [{ sessionId: "default", status: "not_started" }] }
      })
      expect(yield* api.post("/api/v1/session/start", { sessionId: "shop 1" })).toEqual({
        status: 200,
        body: { success: true, data: { sessionId: "shop 1", status: "connecting" } }
      })
      const qr = yield* api.get("/api/v1/session/qr?sessionId=shop%201")
      expect(qr.body.data).toMatchObject({ sessionId: "shop 1", status: "qr_ready", qr: expect.stringMatching(/^2@/) })
      expect((yield* api.post("/sandbox/scan", { sessionId: "shop 1" })).body.data.status).toBe("connected")
      expect((yield* api.get("/api/v1/session/status?sessionId=shop%201")).body.data.status).toBe("connected")
      const sent = yield* api.post("/api/v1/messages/text", { sessionId: "shop 1", to: "254712345678", text: "hello" })
      expect(sent).toEqual({ status: 200, body: { success: true, data: { messageId: "sandbox-1", status: "sent", sandbox: true } } })
      const media = yield* api.post("/api/v1/messages/media", {
        sessionId: "shop 1",
        to: "254712345678",
        url: "https://files.example/cat.png",
        caption: "a cat"
      })
      expect(media.status).toBe(200)
      const log = yield* api.get("/sandbox/messages")
      expect(log.body.data).toMatchObject([
        { kind: "text", text: "hello", sessionId: "shop 1" },
        { kind: "media", type: "image", url: "https://files.example/cat.png", caption: "a cat", mimetype: "image/png" }
      ])
      expect((yield* api.post("/api/v1/session/logout", { sessionId: "shop 1" })).body.data.status).toBe("logged_out")
    }))

  it.live("answers 401 without a key, and with a key other than the configured one", () =>
    Effect.gen(function*() {
      const fetch = yield* makeFetch({ apiKey: "right" })
      expect(yield* client(fetch, null).get("/api/v1/sessions")).toEqual({
        status: 401,
        body: { success: false, message: "Missing API key: send it in the x-api-key header" }
      })
      expect((yield* client(fetch, "  ").get("/api/v1/sessions")).status).toBe(401)
      expect(yield* client(fetch, "wrong").post("/api/v1/session/start", { sessionId: "x" })).toEqual({
        status: 401,
        body: { success: false, message: "Invalid API key" }
      })
      expect((yield* client(fetch, "right").get("/api/v1/sessions")).status).toBe(200)
      // The sandbox's own controls need no key.
      expect((yield* client(fetch, null).get("/sandbox/messages")).status).toBe(200)
    }))

  it.live("answers 402, 409 and 404 with a message", () =>
    Effect.gen(function*() {
      const api = client(yield* makeFetch({ maxSessions: 1 }))
      yield* api.post("/api/v1/session/start", { sessionId: "default" })
      const conflict = yield* api.post("/api/v1/session/start", { sessionId: "default" })
      expect(conflict.status).toBe(409)
      expect(conflict.body.message).toContain("already active")
      const limit = yield* api.post("/api/v1/session/start", { sessionId: "second" })
      expect(limit.status).toBe(402)
      expect(limit.body.message).toContain("WhatsApp instance limit reached")
      const unknown = yield* api.get("/api/v1/session/status?sessionId=ghost")
      expect(unknown).toEqual({ status: 404, body: { success: false, message: "Session \"ghost\" not found" } })
      expect((yield* api.get("/api/v1/nowhere")).status).toBe(404)
    }))

  it.live("answers 400 for bodies and queries that break the contract, and for sends from unconnected sessions", () =>
    Effect.gen(function*() {
      const api = client(yield* makeFetch())
      expect((yield* api.post("/api/v1/session/start", {})).body).toEqual({ success: false, message: "sessionId: is missing" })
      expect((yield* api.post("/api/v1/session/start", "{not json")).status).toBe(400)
      expect((yield* api.get("/api/v1/session/status")).status).toBe(400)
      const badType = yield* api.post("/api/v1/messages/media", {
        sessionId: "default",
        to: "254712345678",
        url: "https://files.example/a.gif",
        type: "sticker"
      })
      expect(badType.status).toBe(400)
      expect(badType.body.message).toContain("type")
      const notConnected = yield* api.post("/api/v1/messages/text", { sessionId: "default", to: "254712345678", text: "hi" })
      expect(notConnected.status).toBe(400)
      expect(notConnected.body.message).toContain("not connected (it is not_started)")
    }))
})
