/**
 * A real express app on 127.0.0.1 that mounts the OAuth router beside a stand-in for /mcp, with a
 * ScriptedGateway as ChatKazi. The stand-in does what the HTTP transport does with a request:
 * `admitBearer` (the transport's own) decides who it is for (a refusal is a 401 with its
 * WWW-Authenticate header), then it lists the account's sessions with the key the bearer stands
 * for (so the gateway shows which key arrived).
 *
 * Time is real time plus an offset that tests move forward (`advance`), shared by the memory
 * store's expiry and the OAuth code's `Clock`.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { Clock, Duration, Effect, Layer, Logger } from "effect"
import express from "express"
import { once } from "node:events"
import { createServer, type Server } from "node:http"
import type { AddressInfo, Socket } from "node:net"
import { admitBearer } from "../../src/server/httpOAuth.js"
import { bearerToken, isOAuthToken, makeOAuth, makeOAuthSettings, type OAuthApi, type OAuthSettings } from "../../src/server/oauth/index.js"
import type { GatewaySettings } from "../../src/server/oauth/KeyCheck.js"
import { ChatKazi } from "../../src/services/ChatKazi.js"
import { ChatKaziConfig } from "../../src/services/ChatKaziConfig.js"
import { makeMemoryStore, StateStore, type StateStoreApi } from "../../src/services/StateStore.js"
import { ScriptedGateway } from "./ScriptedGateway.js"

export const SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
export const KEY_A = "ck_live_ACCOUNT-A-7d1f0e2b9c"
export const KEY_B = "ck_live_ACCOUNT-B-51aa3c8e04"
/** The sessions each account has, so a response shows whose key was used. */
export const SESSIONS: Readonly<Record<string, string>> = { [KEY_A]: "shop-a", [KEY_B]: "shop-b" }

/** A clock that reads real time plus an offset the test moves forward. */
export const offsetClock = () => {
  let offset = 0
  const now = () => Date.now() + offset
  const base = Clock.make()
  const clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: now,
    currentTimeMillis: Effect.sync(now),
    unsafeCurrentTimeNanos: () => BigInt(now()) * 1_000_000n,
    currentTimeNanos: Effect.sync(() => BigInt(now()) * 1_000_000n),
    sleep: (duration: Duration.DurationInput) => base.sleep(Duration.decode(duration))
  }
  return { clock, now, advance: (ms: number) => void (offset += ms) }
}

export const gatewaySettings = (gateway: ScriptedGateway): GatewaySettings => ({
  baseUrl: gateway.baseUrl,
  timeoutMs: 5_000,
  maxRetries: 0,
  retryBaseDelayMs: 0,
  maxRetryAfterMs: 0,
  maxConcurrency: 4,
  mediaCheckTimeoutMs: 5_000
})

/** The gateway knows KEY_A and KEY_B and refuses every other key with 401. */
export const scriptAccounts = (gateway: ScriptedGateway) =>
  gateway.setDefault("GET", "/sessions", (request) => {
    const session = SESSIONS[String(request.headers["x-api-key"])]
    return session === undefined
      ? { status: 401, json: { success: false, message: "Invalid API key" } }
      : { json: { success: true, data: [{ sessionId: session, status: "connected" }] } }
  })

export interface OAuthApp {
  readonly origin: string
  readonly oauth: OAuthApi
  readonly store: StateStoreApi
  readonly settings: OAuthSettings
  /** Every line the OAuth code logged (logfmt), to check that no key or token ever appears. */
  readonly logs: ReadonlyArray<string>
  readonly advance: (ms: number) => void
  /** A second replica: another OAuth instance with the same settings and store. */
  readonly replica: () => Promise<OAuthApi>
  readonly close: () => Promise<void>
}

export const startOAuthApp = async (
  gateway: ScriptedGateway,
  overrides: Partial<Omit<OAuthSettings, "publicUrl" | "secret">> = {},
  /** Another store (e.g. Redis) instead of the in-memory one on the test's clock. */
  sharedStore?: StateStoreApi
): Promise<OAuthApp> => {
  const server: Server = createServer()
  const sockets = new Set<Socket>()
  server.on("connection", (socket) => {
    sockets.add(socket)
    socket.once("close", () => sockets.delete(socket))
  })
  server.listen(0, "127.0.0.1")
  await once(server, "listening")
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  const time = offsetClock()
  const store = sharedStore ?? makeMemoryStore(time.now)
  const settings = await Effect.runPromise(makeOAuthSettings({ publicUrl: origin, secret: SECRET, ...overrides }))
  const gatewayConfig = gatewaySettings(gateway)
  const logs: Array<string> = []
  const collect = Logger.replace(
    Logger.defaultLogger,
    Logger.map(Logger.logfmtLogger, (line) => void logs.push(line))
  )
  const build = () =>
    Effect.runPromise(
      makeOAuth({ settings, gateway: gatewayConfig, rateLimit: false }).pipe(
        Effect.provideService(StateStore, store),
        Effect.provide(FetchHttpClient.layer),
        Effect.provide(collect),
        Effect.withClock(time.clock)
      )
    )
  const oauth = await build()

  const app = express()
  app.use(oauth.router)
  app.post("/mcp", async (req, res) => {
    const admission = await Effect.runPromise(admitBearer(oauth, req.headers.authorization))
    if (admission._tag === "Refused") {
      res.status(401).set("WWW-Authenticate", admission.challenge ?? "Bearer").json({ error: admission.reason })
      return
    }
    if (admission._tag === "Unavailable") return void res.status(503).json({ error: admission.reason })
    // What the caller sent, for the test to read back: one of our tokens, or a ChatKazi key as it is.
    const via = isOAuthToken(bearerToken(req.headers.authorization) ?? "") ? "oauth" : "key"
    const outcome = await Effect.runPromise(
      ChatKazi.pipe(
        Effect.flatMap((chatKazi) => chatKazi.listSessions),
        Effect.provide(
          ChatKazi.layer.pipe(
            Layer.provide(Layer.succeed(ChatKaziConfig, { ...gatewayConfig, apiKey: admission.apiKey })),
            Layer.provide(FetchHttpClient.layer)
          )
        ),
        Effect.map((sessions) => ({ status: 200, body: { via, sessions: sessions.map((s) => s.sessionId) } })),
        Effect.catchAll((error) => Effect.succeed({ status: 502, body: { via, gatewayError: error._tag } }))
      )
    )
    res.status(outcome.status).json(outcome.body)
  })
  // Where the browser lands after signing in; the test reads the code from the URL.
  app.get("/callback", (_req, res) => {
    res.type("html").send("<!doctype html><title>Signed in</title><p>Signed in</p>")
  })
  server.on("request", app)

  return {
    origin,
    oauth,
    store,
    settings,
    logs,
    advance: time.advance,
    replica: build,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
