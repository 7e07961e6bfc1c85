/**
 * The gateway's address redirecting elsewhere must not carry the API key along: fetch keeps custom
 * headers such as x-api-key on a cross-origin redirect. Real sockets and the real fetch client.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { Effect, Layer } from "effect"
import { createServer, type IncomingHttpHeaders, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ChatKazi } from "../../src/services/ChatKazi.js"
import { ChatKaziConfig } from "../../src/services/ChatKaziConfig.js"

const listen = (server: Server) =>
  new Promise<string>((ready) =>
    server.listen(0, "127.0.0.1", () => ready(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))
  )

describe("a gateway address that redirects", () => {
  const elsewhere: Array<IncomingHttpHeaders> = []
  const thief = createServer((request, response) => {
    elsewhere.push(request.headers)
    response.setHeader("content-type", "application/json")
    response.end(JSON.stringify({ success: true, data: [] }))
  })
  let thiefUrl = ""
  const gateway = createServer((request, response) => {
    response.statusCode = 302
    response.setHeader("location", `${thiefUrl}${request.url}`)
    response.end()
  })
  let gatewayUrl = ""

  beforeAll(async () => {
    thiefUrl = await listen(thief)
    gatewayUrl = await listen(gateway)
  })
  afterAll(() => {
    thief.close()
    gateway.close()
  })

  it.each([
    ["on fetch (the server's)", ChatKazi.layerFetch],
    ["on the platform's fetch HttpClient", ChatKazi.layer.pipe(Layer.provide(FetchHttpClient.layer))]
  ])("is not followed %s: the key goes nowhere else, and the model is told to fix CHATKAZI_BASE_URL", async (_, gateway) => {
    elsewhere.length = 0
    const layer = gateway.pipe(
      Layer.provide(Layer.succeed(ChatKaziConfig, ChatKaziConfig.make({ apiKey: "ck_redirect_secret", baseUrl: `${gatewayUrl}/api/v1` })))
    )
    const error = await Effect.runPromise(
      Effect.flip(Effect.flatMap(ChatKazi, (chatKazi) => chatKazi.listSessions)).pipe(Effect.provide(layer))
    )
    expect(elsewhere).toEqual([])
    expect(error).toMatchObject({ _tag: "InvalidConfig", setting: "CHATKAZI_BASE_URL" })
    expect(error.message).toContain(`${thiefUrl}/api/v1/sessions`)
  })
})
