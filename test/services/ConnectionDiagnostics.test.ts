/**
 * What a user reads when the gateway cannot be reached or is the wrong address: the base URL and
 * the cause, in words. Real sockets and the real fetch client.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { Effect, Layer } from "effect"
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { createServer, type Server } from "node:http"
import { createServer as createHttpsServer } from "node:https"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ChatKazi } from "../../src/services/ChatKazi.js"
import { ChatKaziConfig } from "../../src/services/ChatKaziConfig.js"
import { loadChatKaziConfig } from "../support/config.js"

const listen = (server: Server | ReturnType<typeof createHttpsServer>, scheme = "http") =>
  new Promise<string>((ready) =>
    server.listen(0, "127.0.0.1", () => ready(`${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`))
  )

const listSessionsOn = (gateway: Layer.Layer<ChatKazi, never, ChatKaziConfig>, baseUrl: string) =>
  Effect.runPromise(
    Effect.flip(Effect.flatMap(ChatKazi, (chatKazi) => chatKazi.listSessions)).pipe(
      Effect.provide(gateway.pipe(
        Layer.provide(Layer.succeed(ChatKaziConfig, ChatKaziConfig.make({ apiKey: "k", baseUrl, maxRetries: 0 })))
      ))
    )
  )

/** The server's transport (fetch itself) and the platform's fetch HttpClient must read a failure alike. */
const listSessionsAt = async (baseUrl: string) => {
  const onFetch = await listSessionsOn(ChatKazi.layerFetch, baseUrl)
  const onHttpClient = await listSessionsOn(ChatKazi.layer.pipe(Layer.provide(FetchHttpClient.layer)), baseUrl)
  expect(onHttpClient).toEqual(onFetch)
  expect(onHttpClient.message).toEqual(onFetch.message)
  return onFetch
}

describe("an unreachable gateway", () => {
  it("https to a plain-HTTP server says it does not speak TLS, not that a certificate was refused", async () => {
    const plain = createServer((_, response) => response.end("{}"))
    const url = `${(await listen(plain)).replace(/^http:/, "https:")}/api/v1`
    try {
      const error = await listSessionsAt(url)
      expect(error._tag).toBe("Transport")
      expect(error.message).toContain("ERR_SSL_WRONG_VERSION_NUMBER, the server at that address does not speak TLS")
      expect(error.message).not.toContain("certificate")
    } finally {
      await new Promise((done) => plain.close(done))
    }
  })

  it("a port fetch refuses is named as such, not as a bare \"fetch failed\"", async () => {
    const error = await listSessionsAt("http://127.0.0.1:6000/api/v1")
    expect(error._tag).toBe("Transport")
    expect(error.message).toContain("fetch refuses to connect to that port")
  })

  it("a refused connection names the base URL and says nothing is listening there", async () => {
    const closed = createServer()
    const url = `${await listen(closed)}/api/v1`
    await new Promise((done) => closed.close(done))
    const error = await listSessionsAt(url)
    expect(error._tag).toBe("Transport")
    expect(error.message).toContain(`at ${url}`)
    expect(error.message).toContain("ECONNREFUSED")
    expect(error.message).toContain("nothing is listening")
  })

  describe("a certificate the client does not trust", () => {
    const dir = mkdtempSync(join(tmpdir(), "chatkazi-cert-"))
    let server: ReturnType<typeof createHttpsServer>
    let url = ""
    beforeAll(async () => {
      execFileSync("openssl", [
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
        "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")
      ], { stdio: "ignore" })
      server = createHttpsServer(
        { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) },
        (_, response) => response.end("{}")
      )
      url = `${await listen(server, "https")}/api/v1`
    })
    afterAll(() => {
      server.close()
      rmSync(dir, { recursive: true, force: true })
    })

    it("names the base URL and says the certificate was not accepted", async () => {
      const error = await listSessionsAt(url)
      expect(error._tag).toBe("Transport")
      expect(error.message).toContain(`at ${url}`)
      expect(error.message).toMatch(/SELF_SIGNED|CERT/)
      expect(error.message).toContain("TLS certificate was not accepted")
    })
  })
})

describe("a base URL that is not the ChatKazi API", () => {
  let server: Server
  let origin = ""
  beforeAll(async () => {
    server = createServer((_, response) => {
      response.statusCode = 404
      response.setHeader("content-type", "application/json")
      response.end(JSON.stringify({ success: false, message: "Cannot GET /sessions" }))
    })
    origin = await listen(server)
  })
  afterAll(() => void server.close())

  it("a 404 on list_sessions points at CHATKAZI_BASE_URL, not at a session", async () => {
    const error = await listSessionsAt(origin)
    expect(error).toMatchObject({ _tag: "InvalidConfig", setting: "CHATKAZI_BASE_URL" })
    expect(error.message).toContain(`${origin}/sessions answered HTTP 404`)
    expect(error.message).toContain("/api/v1")
    expect(error.message).not.toContain("list_sessions to see")
  })
})

describe("no API key", () => {
  it("the guidance offers --sandbox to try it without an account", async () => {
    const error = await Effect.runPromise(Effect.flip(loadChatKaziConfig({})))
    expect(error._tag).toBe("MissingApiKey")
    expect(error.message).toContain("--sandbox")
  })
})
