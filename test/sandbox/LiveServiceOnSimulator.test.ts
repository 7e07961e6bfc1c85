/**
 * The live ChatKazi service as the server runs it (ChatKazi.layerFetch) against the simulator served on a
 * real socket on 127.0.0.1: the contract both sides claim, checked end to end over HTTP.
 */
import { FetchHttpClient, HttpClient, HttpClientRequest, HttpServer } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import type { ChatKaziError } from "../../src/errors/ChatKaziError.js"
import * as SandboxServer from "../../src/sandbox/SandboxServer.js"
import { ChatKazi } from "../../src/services/ChatKazi.js"
import { ChatKaziConfig } from "../../src/services/ChatKaziConfig.js"

/** The simulator on a free port, and the live service pointed at it with `apiKey`. */
const onSimulator = (apiKey: string) =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const { address } = yield* HttpServer.HttpServer
    if (address._tag !== "TcpAddress") throw new Error("expected a TCP address")
    const origin = `http://127.0.0.1:${address.port}`
    return Layer.mergeAll(
      ChatKazi.layerFetch.pipe(
        Layer.provide(Layer.succeed(
          ChatKaziConfig,
          ChatKaziConfig.make({ apiKey, baseUrl: `${origin}/api/v1/`, maxRetries: 0 })
        ))
      ),
      Layer.succeed(Origin, origin)
    )
  })).pipe(
    Layer.provideMerge(
      SandboxServer.layer({
        port: 0,
        settings: { apiKey: "secret", maxSessions: 2, connectingMs: 0, scanAfterMs: undefined, scanAfterPolls: undefined }
      })
    ),
    Layer.provideMerge(FetchHttpClient.layer)
  )

class Origin extends Context.Tag("test/Origin")<Origin, string>() {}

/** The phone scans the QR: a sandbox-only endpoint, straight over HTTP. */
const scan = (sessionId: string) =>
  Effect.gen(function*() {
    const origin = yield* Origin
    const response = yield* HttpClient.execute(
      HttpClientRequest.post(`${origin}/sandbox/scan`).pipe(HttpClientRequest.bodyUnsafeJson({ sessionId }))
    )
    expect(response.status).toBe(200)
  }).pipe(Effect.scoped)

const failure = <A>(effect: Effect.Effect<A, ChatKaziError>) => Effect.flip(effect)

describe("ChatKazi.layerFetch against the simulator over 127.0.0.1", () => {
  it.layer(onSimulator("secret"), { timeout: 20_000 })("with the right key", (it) => {
    it.effect("runs the whole flow and decodes every answer", () =>
      Effect.gen(function*() {
        const chatKazi = yield* ChatKazi
        expect(yield* chatKazi.listSessions).toEqual([{ sessionId: "default", state: "not_started", details: {} }])
        expect(yield* chatKazi.startSession("default")).toEqual({ sessionId: "default", state: "connecting", details: {} })
        expect((yield* chatKazi.sessionStatus("default")).state).toBe("qr_ready")
        const qr = yield* chatKazi.sessionQr("default")
        expect(qr).toMatchObject({ sessionId: "default", state: "qr_ready", qr: expect.stringMatching(/^2@/) })
        yield* scan("default")
        expect((yield* chatKazi.sessionStatus("default")).state).toBe("connected")
        expect(yield* chatKazi.sendText({ sessionId: "default", to: "254712345678", text: "Habari" })).toEqual({
          messageId: "sandbox-1",
          status: "sent",
          details: { sandbox: true }
        })
        const media = yield* chatKazi.sendMedia({
          sessionId: "default",
          to: "254712345678",
          url: "https://files.example/menu.pdf",
          type: "document",
          fileName: "menu.pdf"
        })
        expect(media.messageId).toBe("sandbox-2")
      }))
  })

  it.layer(onSimulator("secret"), { timeout: 20_000 })("refusals", (it) => {
    it.effect("turn into their typed errors", () =>
      Effect.gen(function*() {
        const chatKazi = yield* ChatKazi
        yield* chatKazi.startSession("default")
        yield* chatKazi.sessionQr("default")
        yield* scan("default")
        expect(yield* failure(chatKazi.startSession("default"))).toMatchObject({ _tag: "Conflict" })
        yield* chatKazi.startSession("second")
        expect(yield* failure(chatKazi.startSession("third"))).toMatchObject({
          _tag: "LimitReached",
          gatewayMessage: expect.stringContaining("WhatsApp instance limit reached")
        })
        expect(yield* failure(chatKazi.sessionStatus("ghost"))).toMatchObject({ _tag: "NotFound" })
        expect(yield* failure(chatKazi.sendText({ sessionId: "second", to: "254712345678", text: "hi" }))).toMatchObject({
          _tag: "InvalidRequest",
          status: 400,
          gatewayMessage: expect.stringContaining("not connected")
        })
        expect(
          yield* failure(chatKazi.sendMedia({
            sessionId: "default",
            to: "254712345678",
            url: "https://files.example/empty-file.jpg",
            type: "image"
          }))
        ).toMatchObject({ _tag: "EmptyMedia", url: "https://files.example/empty-file.jpg" })
        expect(yield* chatKazi.logoutSession("second")).toMatchObject({ state: "logged_out" })
      }))
  })

  it.layer(onSimulator("wrong"), { timeout: 20_000 })("with a wrong key", (it) => {
    it.effect("fails with Unauthorized", () =>
      Effect.gen(function*() {
        expect(yield* failure((yield* ChatKazi).listSessions)).toMatchObject({
          _tag: "Unauthorized",
          status: 401,
          gatewayMessage: "Invalid API key"
        })
      }))
  })
})
