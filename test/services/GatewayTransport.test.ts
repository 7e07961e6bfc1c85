/**
 * The server's transport to the gateway (`fetchTransport`), over real sockets on 127.0.0.1: what it
 * reads from an answer, and that a request it gives up on (timeout, interruption) is really aborted,
 * so no socket stays open behind a call that has already been answered.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { Effect, Either, Fiber, Layer, Option } from "effect"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ChatKazi } from "../../src/services/ChatKazi.js"
import { ChatKaziConfig } from "../../src/services/ChatKaziConfig.js"
import { fetchTransport } from "../../src/services/GatewayTransport.js"
import { errorCode } from "../../src/services/internal/errorCode.js"

type Handler = (request: IncomingMessage, response: ServerResponse) => void

describe("fetchTransport", () => {
  let handle: Handler = (_, response) => response.end()
  const received: Array<{ method: string; url: string; headers: IncomingMessage["headers"]; body: string }> = []
  const closedEarly: Array<string> = []
  const server: Server = createServer((request, response) => {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => {
      received.push({ method: request.method!, url: request.url!, headers: request.headers, body: Buffer.concat(chunks).toString() })
      response.on("close", () => {
        if (!response.writableFinished) closedEarly.push(request.url!)
      })
      handle(request, response)
    })
  })
  let origin = ""
  beforeAll(() =>
    new Promise<void>((ready) =>
      server.listen(0, "127.0.0.1", () => {
        origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
        ready()
      })
    )
  )
  afterAll(() => {
    server.closeAllConnections()
    server.close()
  })

  const closed = (url: string) =>
    new Promise<void>((done) => {
      const check = () => closedEarly.includes(url) ? done() : setTimeout(check, 5)
      check()
    })

  it("sends the method, headers and body as given, and reads status, body, Retry-After and Location", async () => {
    handle = (_, response) => {
      response.statusCode = 429
      response.setHeader("retry-after", "7")
      response.setHeader("location", "/elsewhere")
      response.end("{\"success\":false}")
    }
    const answer = await Effect.runPromise(
      fetchTransport(5_000)({
        method: "POST",
        url: `${origin}/messages/text`,
        headers: { "x-api-key": "k", "content-type": "application/json" },
        body: "{\"to\":\"254700000001\"}"
      })
    )
    expect(answer).toEqual({ status: 429, body: "{\"success\":false}", retryAfter: "7", location: "/elsewhere" })
    expect(received.at(-1)).toMatchObject({
      method: "POST",
      url: "/messages/text",
      headers: { "x-api-key": "k", "content-type": "application/json" },
      body: "{\"to\":\"254700000001\"}"
    })
  })

  it("hands a redirect back instead of following it", async () => {
    handle = (request, response) => {
      if (request.url === "/moved") {
        response.statusCode = 302
        response.setHeader("location", `${origin}/target`)
      }
      response.end()
    }
    const answer = await Effect.runPromise(fetchTransport(5_000)({ method: "GET", url: `${origin}/moved`, headers: {} }))
    expect(answer).toMatchObject({ status: 302, location: `${origin}/target` })
    expect(received.map((request) => request.url)).not.toContain("/target")
  })

  it("gives up after timeoutMs with Timeout, and closes the request", async () => {
    handle = () => {}
    const outcome = await Effect.runPromise(
      Effect.either(fetchTransport(150, Option.none())({ method: "GET", url: `${origin}/slow`, headers: {} }))
    )
    expect(Either.getLeft(outcome)).toEqual(Option.some(expect.objectContaining({ _tag: "Timeout", timeoutMs: 150 })))
    await closed("/slow")
  })

  it("a timeout longer than a Node timer can hold means no timeout, not one of 1 ms", async () => {
    handle = (_, response) => setTimeout(() => response.end("late"), 50)
    const answer = await Effect.runPromise(fetchTransport(3_000_000_000)({ method: "GET", url: `${origin}/patient`, headers: {} }))
    expect(answer).toMatchObject({ status: 200, body: "late" })
  })

  it("aborts the request when the call is interrupted", async () => {
    handle = () => {}
    const fiber = Effect.runFork(fetchTransport(60_000)({ method: "GET", url: `${origin}/interrupted`, headers: {} }))
    while (!received.some((request) => request.url === "/interrupted")) await new Promise((tick) => setTimeout(tick, 5))
    await Effect.runPromise(Fiber.interrupt(fiber))
    await closed("/interrupted")
  })

  it("a refused connection fails while sending, with the socket's code in the cause", async () => {
    const unused = createServer()
    const url = await new Promise<string>((ready) =>
      unused.listen(0, "127.0.0.1", () => ready(`http://127.0.0.1:${(unused.address() as AddressInfo).port}/x`))
    )
    await new Promise((done) => unused.close(done))
    const failure = await Effect.runPromise(Effect.flip(fetchTransport(5_000)({ method: "GET", url, headers: {} })))
    expect(failure).toMatchObject({ stage: "request", reason: "Transport" })
    expect(errorCode("cause" in failure ? failure.cause : undefined)).toBe("ECONNREFUSED")
  })

  it("a body cut off half-way fails while reading the answer", async () => {
    handle = (_, response) => {
      response.writeHead(200, { "content-length": "100" })
      response.write("{\"partial\":")
      setTimeout(() => response.destroy(), 20)
    }
    const failure = await Effect.runPromise(Effect.flip(fetchTransport(5_000)({ method: "GET", url: `${origin}/cut`, headers: {} })))
    expect(failure).toMatchObject({ stage: "response", reason: "Decode" })
  })
})

describe("ChatKazi.layerFetch", () => {
  it("sends through a FetchHttpClient.Fetch in the context, as the platform's client would", async () => {
    const seen: Array<{ url: string; headers: Headers; redirect: globalThis.RequestInit["redirect"] }> = []
    const recording: typeof globalThis.fetch = async (input, init) => {
      seen.push({ url: String(input), headers: new Headers(init?.headers), redirect: init?.redirect })
      return new Response(JSON.stringify({ success: true, data: { sessionId: "s1", status: "connected" } }), {
        headers: { "content-type": "application/json" }
      })
    }
    const session = await Effect.runPromise(
      Effect.flatMap(ChatKazi, (chatKazi) => chatKazi.sessionStatus("s1")).pipe(
        Effect.provide(ChatKazi.layerFetch.pipe(
          Layer.provide(Layer.succeed(ChatKaziConfig, ChatKaziConfig.make({ apiKey: "ck_test", baseUrl: "https://gateway.invalid/api/v1" }))),
          Layer.provide(Layer.succeed(FetchHttpClient.Fetch, recording))
        ))
      )
    )
    expect(session.state).toBe("connected")
    expect(seen).toHaveLength(1)
    expect(seen[0]!.url).toBe("https://gateway.invalid/api/v1/session/status?sessionId=s1")
    expect(seen[0]!.headers.get("x-api-key")).toBe("ck_test")
    expect(seen[0]!.redirect).toBe("manual")
  })
})
