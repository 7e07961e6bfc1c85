/**
 * End to end, issue 14 wired into http mode: the built `chatkazi-mcp http` as a subprocess with
 * CHATKAZI_PUBLIC_URL and CHATKAZI_SECRET, a connector signing in through the SDK's own Streamable
 * HTTP client and OAuth orchestration, and ScriptedGateway as ChatKazi (so the key each call
 * reached ChatKazi with can be checked, and that no token of ours ever went there).
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { auth, type OAuthClientProvider, UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import type { OAuthClientInformationMixed, OAuthTokens } from "@modelcontextprotocol/sdk/shared/auth.js"
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js"
import { request } from "node:http"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { HttpServerProcess } from "../support/HttpServerProcess.js"
import { textOf } from "../support/McpHarness.js"
import { KEY_A, KEY_B, scriptAccounts, SECRET } from "../support/OAuthApp.js"
import { discover, openLoginPage, redeem, signIn, submitLogin } from "../support/OAuthClient.js"
import { ScriptedGateway } from "../support/ScriptedGateway.js"

let gateway: ScriptedGateway
const servers: Array<HttpServerProcess> = []
const clients: Array<Client> = []

const start = async (env: Record<string, string> = {}, publicUrl?: string) => {
  const server = await HttpServerProcess.startPublic({
    CHATKAZI_BASE_URL: gateway.baseUrl,
    CHATKAZI_RETRY_BASE_DELAY_MS: "0",
    CHATKAZI_SECRET: SECRET,
    ...env
  }, publicUrl === undefined ? {} : { publicUrl })
  servers.push(server)
  return server
}

/** A connector's OAuth memory, as a host keeps it; `opened` is the login page it would show the user. */
const connectorProvider = () => {
  const state: { client?: OAuthClientInformationMixed; tokens?: OAuthTokens; verifier: string; opened?: URL } = { verifier: "" }
  const redirectUrl = "http://127.0.0.1/callback"
  const provider: OAuthClientProvider = {
    redirectUrl,
    clientMetadata: { client_name: "Connector", redirect_uris: [redirectUrl], token_endpoint_auth_method: "none" },
    clientInformation: () => state.client,
    saveClientInformation: (info) => void (state.client = info),
    tokens: () => state.tokens,
    saveTokens: (tokens) => void (state.tokens = tokens),
    redirectToAuthorization: (url) => void (state.opened = url),
    saveCodeVerifier: (verifier) => void (state.verifier = verifier),
    codeVerifier: () => state.verifier
  }
  return { provider, state }
}

const mcpClient = async (url: string, init: { authProvider?: OAuthClientProvider; bearer?: string }) => {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    ...(init.authProvider ? { authProvider: init.authProvider } : {}),
    ...(init.bearer ? { requestInit: { headers: { Authorization: `Bearer ${init.bearer}` } } } : {})
  })
  const client = new Client({ name: "chatkazi-oauth-e2e", version: "0.0.0" })
  clients.push(client)
  await client.connect(transport)
  return { client, transport }
}

const listSessions = async (client: Client) =>
  textOf(CallToolResultSchema.parse(await client.callTool({ name: "list_sessions", arguments: {} })))

/** A raw POST to /mcp, as a client that has not signed in (or holds a bad token) sends it. */
const postMcp = async (url: string, bearer?: string) => {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` })
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" })
  })
  return { status: response.status, challenge: response.headers.get("www-authenticate"), body: await response.text() }
}

/** Every header, body and URL that reached the gateway. */
const everythingSent = () => JSON.stringify(gateway.requests.map((r) => ({ h: r.headers, b: r.body, u: r.rawUrl })))

beforeAll(async () => {
  gateway = await ScriptedGateway.start()
})
afterEach(() => {
  gateway.reset()
})
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close().catch(() => undefined)))
  for (const server of servers) {
    for (const secret of [KEY_A, KEY_B, SECRET, "ckmcp_"]) expect(server.stderr).not.toContain(secret)
    await server.kill()
  }
  await gateway?.close()
})

describe("OAuth login in http mode", () => {
  let server: HttpServerProcess
  let origin: string
  let url: string

  beforeAll(async () => {
    server = await start()
    url = await server.url()
    origin = new URL(url).origin
  })

  it("a connector discovers from the 401, signs in with the pasted key, calls a tool with it, and refreshes", async () => {
    scriptAccounts(gateway)
    const refused = await postMcp(url)
    expect(refused.status).toBe(401)
    expect(refused.challenge).toBe(`Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource"`)

    // The SDK client meets the 401, discovers, registers, and sends the user to the login page.
    const { provider, state } = connectorProvider()
    const first = await mcpClient(url, { authProvider: provider }).then(() => "connected", (error: unknown) => error)
    expect(first).toBeInstanceOf(UnauthorizedError)
    expect(state.opened?.origin).toBe(origin)
    expect(state.opened?.searchParams.get("resource")).toBe(url)
    expect(gateway.apiRequests).toHaveLength(0)

    // The user pastes their key on the page; the page checks it with ChatKazi before a code is issued.
    const answer = await submitLogin(origin, await openLoginPage(state.opened!), KEY_A)
    expect(answer.status).toBe(303)
    const code = new URL(answer.headers.get("location")!).searchParams.get("code")!
    expect(gateway.received("GET", "/sessions").map((r) => r.headers["x-api-key"])).toEqual([KEY_A])

    const finishing = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider })
    await finishing.finishAuth(code)
    expect(state.tokens?.access_token).toMatch(/^ckmcp_/)

    gateway.reset()
    scriptAccounts(gateway)
    const { client } = await mcpClient(url, { authProvider: provider })
    expect(await listSessions(client)).toContain("shop-a")
    // The access token stood for the pasted key: that key, and only it, reached ChatKazi.
    expect(gateway.received("GET", "/sessions").map((r) => r.headers["x-api-key"])).toEqual([KEY_A])
    expect(everythingSent()).not.toContain("ckmcp_")

    // With tokens saved, the SDK refreshes instead of sending the user to the page again.
    const before = state.tokens!
    expect(await auth(provider, { serverUrl: url })).toBe("AUTHORIZED")
    expect(state.tokens!.access_token).not.toBe(before.access_token)
    expect(state.tokens!.refresh_token).not.toBe(before.refresh_token)
    const refreshed = await mcpClient(url, { bearer: state.tokens!.access_token })
    expect(await listSessions(refreshed.client)).toContain("shop-a")

    // A plain ChatKazi key as the bearer keeps working beside OAuth.
    const byKey = await mcpClient(url, { bearer: KEY_B })
    expect(await listSessions(byKey.client)).toContain("shop-b")
    expect(everythingSent()).not.toContain("ckmcp_")
  })

  it("refuses an unknown or tampered token with the resource_metadata challenge, sending nothing upstream", async () => {
    scriptAccounts(gateway)
    const d = await discover(origin)
    const tokens = await redeem(d, await signIn(origin, d, KEY_A))
    gateway.reset()
    scriptAccounts(gateway)

    const token = tokens.access_token
    // One character changed: the one it replaces decides the new one, so the token always differs.
    const flipped = token.slice(0, -4) + (token.at(-4) === "A" ? "B" : "A") + token.slice(-3)
    expect(flipped).not.toBe(token)
    for (const bad of ["ckmcp_at_not-a-token-at-all", flipped, tokens.refresh_token!]) {
      const refused = await postMcp(url, bad)
      expect(refused.status).toBe(401)
      expect(refused.challenge).toMatch(
        new RegExp(`^Bearer resource_metadata="${origin}/\\.well-known/oauth-protected-resource", error="invalid_token"`)
      )
      expect(JSON.parse(refused.body)).toMatchObject({ jsonrpc: "2.0", error: { code: -32001 } })
    }
    expect(gateway.requests).toHaveLength(0)
    // The real one still works.
    expect((await postMcp(url, token)).status).toBe(200)
  })
})

describe("an access token past its lifetime (CHATKAZI_OAUTH_ACCESS_TOKEN_SECONDS=1)", () => {
  it("is refused with the challenge, and nothing reaches ChatKazi", async () => {
    const server = await start({ CHATKAZI_OAUTH_ACCESS_TOKEN_SECONDS: "1" })
    const url = await server.url()
    const origin = new URL(url).origin
    scriptAccounts(gateway)
    const d = await discover(origin)
    const tokens = await redeem(d, await signIn(origin, d, KEY_A))
    expect(tokens.expires_in).toBe(1)
    gateway.reset()

    await expect.poll(async () => (await postMcp(url, tokens.access_token)).status, { timeout: 5_000, interval: 200 }).toBe(401)
    const refused = await postMcp(url, tokens.access_token)
    expect(refused.challenge).toContain(`resource_metadata="${origin}/.well-known/oauth-protected-resource"`)
    expect(refused.challenge).toContain("expired")
    expect(gateway.requests).toHaveLength(0)
  })
})

/** A request as a reverse proxy on this machine forwards it: the public Host, and the client's address. */
const viaProxy = (url: string, init: { method?: string; host: string; forwardedFor?: string; body?: string }) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(url, {
      method: init.method ?? "GET",
      headers: {
        host: init.host,
        ...(init.forwardedFor === undefined ? {} : { "x-forwarded-for": init.forwardedFor }),
        ...(init.body === undefined ? {} : { "content-type": "application/json" })
      }
    }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (chunk: Buffer) => chunks.push(chunk))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }))
    })
    req.on("error", reject)
    req.end(init.body)
  })

describe("behind a reverse proxy on this machine (CHATKAZI_PUBLIC_URL=https://mcp.example.com, listening on 127.0.0.1)", () => {
  let origin: string

  beforeAll(async () => {
    const server = await start({}, "https://mcp.example.com")
    origin = await server.origin()
  })

  it("accepts the public Host name beside localhost, and still refuses any other (DNS rebinding)", async () => {
    const metadata = await viaProxy(`${origin}/.well-known/oauth-protected-resource`, { host: "mcp.example.com" })
    expect(metadata.status).toBe(200)
    expect(JSON.parse(metadata.body)).toMatchObject({ resource: "https://mcp.example.com/mcp" })
    expect((await viaProxy(`${origin}/healthz`, { host: "evil.example" })).status).toBe(403)
  })

  it("counts the OAuth rate limits per forwarded client, not for everyone behind the proxy at once", async () => {
    const register = (client: string) =>
      viaProxy(`${origin}/register`, {
        method: "POST",
        host: "mcp.example.com",
        forwardedFor: client,
        body: JSON.stringify({ redirect_uris: ["https://app.example.com/cb"], token_endpoint_auth_method: "none" })
      })
    // The SDK allows 20 registrations an hour per client address.
    const statuses: Array<number> = []
    for (let i = 0; i < 21; i++) statuses.push((await register("203.0.113.7")).status)
    expect(statuses.slice(0, 20).every((status) => status === 201)).toBe(true)
    expect(statuses[20]).toBe(429)
    expect((await register("198.51.100.9")).status).toBe(201)
  })
})
