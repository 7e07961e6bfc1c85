/**
 * The whole OAuth login, run by a scripted client (the SDK's client functions and a fetch-driven
 * form) against a real listening app, with a real local ChatKazi stand-in checking the keys.
 */
import { Account } from "../../../src/services/Account.js"
import {
  auth,
  extractWWWAuthenticateParams,
  type OAuthClientProvider,
  refreshAuthorization,
  startAuthorization
} from "@modelcontextprotocol/sdk/client/auth.js"
import type { OAuthClientInformationMixed, OAuthTokens } from "@modelcontextprotocol/sdk/shared/auth.js"
import { Effect, Redacted } from "effect"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { STYLE_HASH } from "../../../src/server/oauth/AuthorizePage.js"
import { ScriptedGateway } from "../../support/ScriptedGateway.js"
import {
  callMcp,
  type Discovered,
  discover,
  openLoginPage,
  postForm,
  redeem,
  register,
  signIn,
  submitLogin
} from "../../support/OAuthClient.js"
import { KEY_A, KEY_B, type OAuthApp, scriptAccounts, SECRET, startOAuthApp } from "../../support/OAuthApp.js"

let gateway: ScriptedGateway
let app: OAuthApp
let d: Discovered

beforeAll(async () => {
  gateway = await ScriptedGateway.start()
  app = await startOAuthApp(gateway)
  d = await discover(app.origin)
})
afterAll(async () => {
  await app?.close()
  await gateway?.close()
})
afterEach(() => {
  gateway.reset()
})

const keysSeen = () => gateway.apiRequests.map((r) => r.headers["x-api-key"])

/** Every header and body that reached the gateway, to check no token of ours ever went there. */
const everythingSent = () => JSON.stringify(gateway.requests.map((r) => ({ h: r.headers, b: r.body, u: r.rawUrl })))

describe("OAuth login, end to end", () => {
  it("discovers from the 401, registers, signs in with the key, calls, refreshes and revokes", async () => {
    scriptAccounts(gateway)

    // Discovery starts from the 401 of /mcp.
    const refused = await fetch(`${app.origin}/mcp`, { method: "POST" })
    expect(refused.status).toBe(401)
    expect(refused.headers.get("www-authenticate")).toBe(
      `Bearer resource_metadata="${app.origin}/.well-known/oauth-protected-resource"`
    )
    const { resourceMetadataUrl } = extractWWWAuthenticateParams(refused)
    const prm = await (await fetch(resourceMetadataUrl!)).json()
    expect(prm).toMatchObject({ resource: `${app.origin}/mcp`, authorization_servers: [`${app.origin}/`] })
    expect(await (await fetch(`${app.origin}/.well-known/oauth-protected-resource/mcp`)).json()).toEqual(prm)

    const metadata = await (await fetch(`${app.origin}/.well-known/oauth-authorization-server`)).json()
    expect(metadata).toMatchObject({
      issuer: `${app.origin}/`,
      authorization_endpoint: `${app.origin}/authorize`,
      token_endpoint: `${app.origin}/token`,
      registration_endpoint: `${app.origin}/register`,
      revocation_endpoint: `${app.origin}/revoke`,
      response_types_supported: ["code"],
      code_challenge_methods_supported: ["S256"],
      grant_types_supported: ["authorization_code", "refresh_token"]
    })

    // Registration, the login page, the code.
    const signedIn = await signIn(app.origin, d, KEY_A, { state: "xyz-state" })
    expect(signedIn.location.origin + signedIn.location.pathname).toBe(`${app.origin}/callback`)
    expect(signedIn.location.searchParams.get("state")).toBe("xyz-state")
    expect(signedIn.location.searchParams.get("iss")).toBe(`${app.origin}/`)
    expect(signedIn.code).toMatch(/^ckmcp_ac_[A-Za-z0-9_-]{43}$/)
    // The key was checked once, by listing sessions with it.
    expect(gateway.apiRequests.map((r) => `${r.method} ${r.path}`)).toEqual(["GET /api/v1/sessions"])
    expect(keysSeen()).toEqual([KEY_A])

    // Token.
    const tokens = await redeem(d, signedIn)
    expect(tokens.token_type).toBe("Bearer")
    expect(tokens.expires_in).toBe(3600)
    expect(tokens.access_token).toMatch(/^ckmcp_at_[A-Za-z0-9_-]{43}$/)
    expect(tokens.refresh_token).toMatch(/^ckmcp_rt_[A-Za-z0-9_-]{43}$/)

    // A call with the token reaches ChatKazi with the pasted key, and never with the token.
    gateway.reset()
    scriptAccounts(gateway)
    const call = await callMcp(app.origin, tokens.access_token)
    expect(call).toMatchObject({ status: 200, body: { via: "oauth", sessions: ["shop-a"] } })
    expect(keysSeen()).toEqual([KEY_A])
    expect(everythingSent()).not.toContain("ckmcp_")
    expect(gateway.apiRequests[0]!.headers["authorization"]).toBeUndefined()

    // Refresh rotates both tokens; the new access token works.
    const refreshed = await refreshAuthorization(d.authorizationServer, {
      metadata: d.metadata,
      clientInformation: signedIn.client,
      refreshToken: tokens.refresh_token!,
      resource: d.resource
    })
    expect(refreshed.access_token).not.toBe(tokens.access_token)
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token)
    expect((await callMcp(app.origin, refreshed.access_token)).status).toBe(200)

    // Revoking the refresh token ends the sign-in: every token of it stops working.
    const revoked = await postForm(`${app.origin}/revoke`, {
      client_id: signedIn.client.client_id,
      token: refreshed.refresh_token!
    })
    expect(revoked.status).toBe(200)
    const after = await callMcp(app.origin, refreshed.access_token)
    expect(after.status).toBe(401)
    expect(after.wwwAuthenticate).toContain("error=\"invalid_token\"")
    expect(after.wwwAuthenticate).toContain(`resource_metadata="${app.origin}/.well-known/oauth-protected-resource"`)
    const again = await postForm(`${app.origin}/token`, {
      grant_type: "refresh_token",
      client_id: signedIn.client.client_id,
      refresh_token: refreshed.refresh_token!
    })
    expect(again).toMatchObject({ status: 400, body: { error: "invalid_grant" } })

    // The sign-in was logged, with neither the key nor any token in the log.
    const logged = app.logs.join("\n")
    expect(logged).toContain("OAuth: signed in")
    // The same 8-character account prefix as every other log line.
    expect(logged).toContain(`account=${Account.fromKey(KEY_A).id.slice(0, 8)} `)
    expect(logged).not.toContain(Account.fromKey(KEY_A).id.slice(0, 9))
    for (const secret of [KEY_A, signedIn.code, tokens.access_token, tokens.refresh_token!, refreshed.access_token]) {
      expect(logged).not.toContain(secret)
    }
  })

  it("the SDK client's own auth() orchestration signs in and refreshes as a host would", async () => {
    scriptAccounts(gateway)
    let client: OAuthClientInformationMixed | undefined
    let tokens: OAuthTokens | undefined
    let verifier = ""
    let opened: URL | undefined
    const provider: OAuthClientProvider = {
      redirectUrl: `${app.origin}/callback`,
      clientMetadata: { client_name: "SDK host", redirect_uris: [`${app.origin}/callback`], token_endpoint_auth_method: "none" },
      clientInformation: () => client,
      saveClientInformation: (info) => void (client = info),
      tokens: () => tokens,
      saveTokens: (t) => void (tokens = t),
      redirectToAuthorization: (url) => void (opened = url),
      saveCodeVerifier: (v) => void (verifier = v),
      codeVerifier: () => verifier
    }
    expect(await auth(provider, { serverUrl: `${app.origin}/mcp` })).toBe("REDIRECT")
    expect(opened!.searchParams.get("resource")).toBe(`${app.origin}/mcp`)
    const answer = await submitLogin(app.origin, await openLoginPage(opened!), KEY_B)
    const code = new URL(answer.headers.get("location")!).searchParams.get("code")!
    expect(await auth(provider, { serverUrl: `${app.origin}/mcp`, authorizationCode: code })).toBe("AUTHORIZED")
    expect((await callMcp(app.origin, tokens!.access_token)).body).toMatchObject({ sessions: ["shop-b"] })
    // With tokens saved, auth() refreshes instead of sending the user to the page again.
    const first = tokens!.access_token
    expect(await auth(provider, { serverUrl: `${app.origin}/mcp` })).toBe("AUTHORIZED")
    expect(tokens!.access_token).not.toBe(first)
  })

  it("revoking an access token stops that token only", async () => {
    scriptAccounts(gateway)
    const signedIn = await signIn(app.origin, d, KEY_A)
    const tokens = await redeem(d, signedIn)
    expect((await postForm(`${app.origin}/revoke`, { client_id: signedIn.client.client_id, token: tokens.access_token })).status)
      .toBe(200)
    expect((await callMcp(app.origin, tokens.access_token)).status).toBe(401)
    const refreshed = await postForm(`${app.origin}/token`, {
      grant_type: "refresh_token",
      client_id: signedIn.client.client_id,
      refresh_token: tokens.refresh_token!
    })
    expect(refreshed.status).toBe(200)
  })

  it("a token of account A yields A's key and B's token yields B's key, side by side", async () => {
    scriptAccounts(gateway)
    const a = await redeem(d, await signIn(app.origin, d, KEY_A))
    const b = await redeem(d, await signIn(app.origin, d, KEY_B))
    gateway.reset()
    scriptAccounts(gateway)
    expect((await callMcp(app.origin, b.access_token)).body).toMatchObject({ sessions: ["shop-b"] })
    expect((await callMcp(app.origin, a.access_token)).body).toMatchObject({ sessions: ["shop-a"] })
    expect(keysSeen()).toEqual([KEY_B, KEY_A])
  })

  it("a second replica with the same secret and store accepts the token", async () => {
    scriptAccounts(gateway)
    const tokens = await redeem(d, await signIn(app.origin, d, KEY_B))
    const replica = await app.replica()
    const bearer = await Effect.runPromise(replica.resolveBearer(tokens.access_token))
    expect(Redacted.value(bearer.apiKey)).toBe(KEY_B)
  })

  it("a confidential client's secret is stored sealed, and the client still authenticates with it", async () => {
    scriptAccounts(gateway)
    const client = await register(d, `${app.origin}/callback`, { token_endpoint_auth_method: "client_secret_post" })
    expect(client.client_secret).toMatch(/^[0-9a-f]{64}$/)
    const stored = await Effect.runPromise(app.store.get(`oauth:client:${client.client_id}`))
    expect(stored).toContain(client.client_id)
    expect(stored).not.toContain(client.client_secret)

    const signedIn = await signIn(app.origin, d, KEY_A, { client })
    await expect(redeem(d, { ...signedIn, client: { ...client, client_secret: "f".repeat(64) } })).rejects.toThrow()
    const tokens = await redeem(d, signedIn)
    expect((await callMcp(app.origin, tokens.access_token)).body).toMatchObject({ sessions: ["shop-a"] })
  })
})

describe("OAuth login refuses", () => {
  it("a wrong PKCE verifier", async () => {
    scriptAccounts(gateway)
    const signedIn = await signIn(app.origin, d, KEY_A)
    await expect(redeem(d, signedIn, { codeVerifier: "x".repeat(64) })).rejects.toThrow(/code_verifier does not match/)
  })

  it("a code used twice, and then revokes the tokens the first use gave", async () => {
    scriptAccounts(gateway)
    const signedIn = await signIn(app.origin, d, KEY_A)
    const tokens = await redeem(d, signedIn)
    expect((await callMcp(app.origin, tokens.access_token)).status).toBe(200)
    await expect(redeem(d, signedIn)).rejects.toThrow(/already used/)
    expect((await callMcp(app.origin, tokens.access_token)).status).toBe(401)
  })

  it("a code older than 60 seconds", async () => {
    scriptAccounts(gateway)
    const signedIn = await signIn(app.origin, d, KEY_A)
    app.advance(61_000)
    await expect(redeem(d, signedIn)).rejects.toThrow(/unknown or expired/)
  })

  it("an unregistered redirect URI at /authorize, and a different one at /token", async () => {
    scriptAccounts(gateway)
    const client = await register(d, `${app.origin}/callback`)
    const { authorizationUrl } = await startAuthorization(d.authorizationServer, {
      metadata: d.metadata,
      clientInformation: client,
      redirectUrl: "https://evil.example/steal"
    })
    const page = await fetch(authorizationUrl, { redirect: "manual" })
    expect(page.status).toBe(400)
    expect(page.headers.get("location")).toBeNull()
    expect(await page.json()).toMatchObject({ error: "invalid_request", error_description: "Unregistered redirect_uri" })

    const signedIn = await signIn(app.origin, d, KEY_A, { client })
    await expect(redeem(d, signedIn, { redirectUri: `${app.origin}/callback?other=1` })).rejects.toThrow(/redirect_uri differs/)
  })

  it("a wrong key: the page comes back with the reason, and no code", async () => {
    scriptAccounts(gateway)
    const client = await register(d, `${app.origin}/callback`)
    const { authorizationUrl } = await startAuthorization(d.authorizationServer, {
      metadata: d.metadata,
      clientInformation: client,
      redirectUrl: `${app.origin}/callback`,
      state: "keep-me"
    })
    const page = await openLoginPage(authorizationUrl)
    expect(page.headers.get("content-security-policy")).toBe(
      `default-src 'none'; style-src '${STYLE_HASH}'; form-action 'self' ${app.origin}; frame-ancestors 'none'; base-uri 'none'`
    )
    expect(page.headers.get("x-frame-options")).toBe("DENY")
    expect(page.headers.get("cache-control")).toBe("no-store")
    expect(page.html).not.toMatch(/<script|<link|src=/i)
    expect(page.html).toMatch(/<label for="api_key">ChatKazi API key<\/label>/)
    expect(page.html).toMatch(/<input type="password" id="api_key" name="api_key" required/)
    const answer = await submitLogin(app.origin, page, "ck_live_WRONG")
    expect(answer.status).toBe(400)
    expect(answer.headers.get("location")).toBeNull()
    const html = await answer.text()
    expect(html).toContain("ChatKazi did not accept this key (HTTP 401)")
    expect(html).toContain("role=\"alert\"")
    expect(html).toContain("name=\"state\" value=\"keep-me\"")
    expect(html).not.toContain("ck_live_WRONG")
    expect(keysSeen()).toEqual(["ck_live_WRONG"])
  })

  it("to issue a code when ChatKazi cannot be reached to check the key", async () => {
    gateway.setDefault("GET", "/sessions", { status: 503, body: "<html>bad gateway</html>" })
    const client = await register(d, `${app.origin}/callback`)
    const { authorizationUrl } = await startAuthorization(d.authorizationServer, {
      metadata: d.metadata,
      clientInformation: client,
      redirectUrl: `${app.origin}/callback`
    })
    const answer = await submitLogin(app.origin, await openLoginPage(authorizationUrl), KEY_A)
    expect(answer.status).toBe(503)
    expect(answer.headers.get("location")).toBeNull()
    expect(await answer.text()).toContain("ChatKazi could not be reached to check the key")
  })

  it("a code challenge that is not S256-shaped", async () => {
    const client = await register(d, `${app.origin}/callback`)
    const url = new URL(`${app.origin}/authorize`)
    url.search = new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: `${app.origin}/callback`,
      response_type: "code",
      code_challenge: "short",
      code_challenge_method: "S256",
      state: "st"
    }).toString()
    const answer = await fetch(url, { redirect: "manual" })
    const location = new URL(answer.headers.get("location")!)
    expect(location.searchParams.get("error")).toBe("invalid_request")
    expect(location.searchParams.get("state")).toBe("st")
    url.searchParams.set("code_challenge", "A".repeat(43))
    url.searchParams.set("code_challenge_method", "plain")
    const plain = await fetch(url, { redirect: "manual" })
    expect(new URL(plain.headers.get("location")!).searchParams.get("error")).toBe("invalid_request")
  })

  it("a form without the page's cookie, or with its request parameters changed (CSRF)", async () => {
    scriptAccounts(gateway)
    const client = await register(d, `${app.origin}/callback`)
    const { authorizationUrl } = await startAuthorization(d.authorizationServer, {
      metadata: d.metadata,
      clientInformation: client,
      redirectUrl: `${app.origin}/callback`
    })
    const page = await openLoginPage(authorizationUrl)
    expect(page.cookie).toMatch(/^ckmcp_csrf=/)
    const noCookie = await submitLogin(app.origin, page, KEY_A, { cookie: "" })
    expect(noCookie.status).toBe(403)
    expect(await noCookie.text()).toContain("This form expired or was not sent from this page")
    const swapped = await submitLogin(app.origin, page, KEY_A, { fields: { code_challenge: "A".repeat(43) } })
    expect(swapped.status).toBe(403)
    expect(gateway.apiRequests).toHaveLength(0)
  })

  it("Cancel sends the user back with access_denied and the state", async () => {
    const client = await register(d, `${app.origin}/callback`)
    const { authorizationUrl } = await startAuthorization(d.authorizationServer, {
      metadata: d.metadata,
      clientInformation: client,
      redirectUrl: `${app.origin}/callback`,
      state: "s-1"
    })
    const page = await openLoginPage(authorizationUrl)
    const answer = await submitLogin(app.origin, page, "", { action: "deny" })
    const location = new URL(answer.headers.get("location")!)
    expect(location.searchParams.get("error")).toBe("access_denied")
    expect(location.searchParams.get("state")).toBe("s-1")
    expect(location.searchParams.get("code")).toBeNull()
  })

  it("a tampered token, and an expired one, without asking ChatKazi", async () => {
    scriptAccounts(gateway)
    const tokens = await redeem(d, await signIn(app.origin, d, KEY_A))
    gateway.reset()
    const last = tokens.access_token.at(-1) === "A" ? "B" : "A"
    const tampered = await callMcp(app.origin, tokens.access_token.slice(0, -1) + last)
    expect(tampered.status).toBe(401)
    expect(tampered.wwwAuthenticate).toContain('error="invalid_token"')
    app.advance(3_601_000)
    const expired = await callMcp(app.origin, tokens.access_token)
    expect(expired.status).toBe(401)
    expect(gateway.requests).toHaveLength(0)
  })

  it("a refresh token used twice, and then revokes the whole sign-in", async () => {
    scriptAccounts(gateway)
    const signedIn = await signIn(app.origin, d, KEY_A)
    const tokens = await redeem(d, signedIn)
    const form = { grant_type: "refresh_token", client_id: signedIn.client.client_id, refresh_token: tokens.refresh_token! }
    const first = await postForm(`${app.origin}/token`, form)
    expect(first.status).toBe(200)
    const replay = await postForm(`${app.origin}/token`, form)
    expect(replay).toMatchObject({ status: 400, body: { error: "invalid_grant" } })
    expect(String(replay.body["error_description"])).toContain("already used")
    // The thief's or the owner's rotated tokens die with the family.
    expect((await callMcp(app.origin, String(first.body["access_token"]))).status).toBe(401)
    const next = await postForm(`${app.origin}/token`, { ...form, refresh_token: String(first.body["refresh_token"]) })
    expect(next.status).toBe(400)
  })

  it("a refresh token presented by another client", async () => {
    scriptAccounts(gateway)
    const tokens = await redeem(d, await signIn(app.origin, d, KEY_A))
    const other = await register(d, `${app.origin}/callback`)
    const stolen = await postForm(`${app.origin}/token`, {
      grant_type: "refresh_token",
      client_id: other.client_id,
      refresh_token: tokens.refresh_token!
    })
    expect(stolen).toMatchObject({ status: 400, body: { error: "invalid_grant" } })
  })

  it("an unknown ckmcp_ token is refused without reaching ChatKazi; an unprefixed one is a key, never looked up", async () => {
    scriptAccounts(gateway)
    const forged = await callMcp(app.origin, "ckmcp_at_" + "Q".repeat(43))
    expect(forged.status).toBe(401)
    const refresh = await callMcp(app.origin, "ckmcp_rt_" + "Q".repeat(43))
    expect(refresh.status).toBe(401)
    expect(gateway.requests).toHaveLength(0)

    const random = "a1b2c3d4e5f6a7b8c9d0"
    const byok = await callMcp(app.origin, random)
    expect(byok.body).toMatchObject({ via: "key", gatewayError: "Unauthorized" })
    expect(keysSeen()).toEqual([random])
    const byokA = await callMcp(app.origin, KEY_A)
    expect(byokA).toMatchObject({ status: 200, body: { via: "key", sessions: ["shop-a"] } })
  })

  it("a redirect URI that is not https (except on loopback) at registration", async () => {
    const bad = await fetch(`${app.origin}/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ redirect_uris: ["http://assistant.example/callback"], token_endpoint_auth_method: "none" })
    })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ error: "invalid_client_metadata" })
    for (const ok of ["https://assistant.example/callback", "http://localhost:3000/cb", "http://127.0.0.1/cb"]) {
      const response = await fetch(`${app.origin}/register`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ redirect_uris: [ok], token_endpoint_auth_method: "none" })
      })
      expect(response.status).toBe(201)
    }
  })

  it("a request for another resource", async () => {
    const client = await register(d, `${app.origin}/callback`)
    const { authorizationUrl } = await startAuthorization(d.authorizationServer, {
      metadata: d.metadata,
      clientInformation: client,
      redirectUrl: `${app.origin}/callback`,
      resource: "https://other.example/mcp"
    })
    const answer = await fetch(authorizationUrl, { redirect: "manual" })
    expect(answer.status).toBe(302)
    expect(new URL(answer.headers.get("location")!).searchParams.get("error")).toBe("invalid_target")
  })
})

describe("what is stored", () => {
  it("holds no token and no key in plain text", async () => {
    scriptAccounts(gateway)
    const signedIn = await signIn(app.origin, d, KEY_A)
    const tokens = await redeem(d, signedIn)
    // The memory store is a Map behind closures; read every key we know the layout of instead.
    const { createHash } = await import("node:crypto")
    const hash = (t: string) => createHash("sha256").update(t).digest("hex")
    const access = await Effect.runPromise(app.store.get(`oauth:at:${hash(tokens.access_token)}`))
    expect(access).toBeDefined()
    const family = JSON.parse(access!).familyId as string
    const familyRecord = await Effect.runPromise(app.store.get(`oauth:family:${family}`))
    for (const text of [access!, familyRecord!]) {
      expect(text).not.toContain(KEY_A)
      expect(text).not.toContain(tokens.access_token)
      expect(text).not.toContain(tokens.refresh_token)
      expect(text).not.toContain(SECRET)
    }
    expect(JSON.parse(familyRecord!).sealedKey).toMatch(/^v1\./)
  })
})
