/**
 * A scripted OAuth client: the SDK's own client functions for discovery, registration, PKCE and
 * token requests, and a plain-fetch "browser" that reads the login page, keeps its cookie, and
 * submits the form the way a browser would (urlencoded, every hidden field, the pasted key).
 */
import {
  discoverAuthorizationServerMetadata,
  discoverOAuthProtectedResourceMetadata,
  exchangeAuthorization,
  registerClient,
  startAuthorization
} from "@modelcontextprotocol/sdk/client/auth.js"
import type { AuthorizationServerMetadata, OAuthClientInformationFull, OAuthTokens } from "@modelcontextprotocol/sdk/shared/auth.js"

export interface Discovered {
  readonly metadata: AuthorizationServerMetadata
  readonly authorizationServer: string
  readonly resource: string
}

export const discover = async (origin: string): Promise<Discovered> => {
  const prm = await discoverOAuthProtectedResourceMetadata(`${origin}/mcp`)
  const authorizationServer = prm.authorization_servers![0]!
  const metadata = await discoverAuthorizationServerMetadata(authorizationServer)
  if (metadata === undefined) throw new Error("no authorization server metadata")
  return { metadata, authorizationServer, resource: prm.resource }
}

export const register = (d: Discovered, redirectUri: string, extra: Record<string, unknown> = {}) =>
  registerClient(d.authorizationServer, {
    metadata: d.metadata,
    clientMetadata: {
      redirect_uris: [redirectUri],
      client_name: "Scripted Assistant",
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      ...extra
    }
  })

/** The login page as a browser sees it: the HTML, its hidden fields, and the cookie it set. */
export interface LoginPage {
  readonly status: number
  readonly html: string
  readonly headers: Headers
  readonly fields: Record<string, string>
  readonly cookie: string
}

const unescape = (text: string) =>
  text.replace(/&quot;/g, "\"").replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&")

export const readPage = async (response: Response): Promise<LoginPage> => {
  const html = await response.text()
  const fields: Record<string, string> = {}
  for (const match of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    fields[unescape(match[1]!)] = unescape(match[2]!)
  }
  const cookie = (response.headers.getSetCookie()[0] ?? "").split(";")[0] ?? ""
  return { status: response.status, html, headers: response.headers, fields, cookie }
}

export const openLoginPage = async (url: URL | string) => readPage(await fetch(url, { redirect: "manual" }))

/** Submits the page's form like a browser: its hidden fields, the key, the button pressed, the cookie. */
export const submitLogin = (
  origin: string,
  page: LoginPage,
  apiKey: string,
  options: { readonly action?: "allow" | "deny"; readonly cookie?: string; readonly fields?: Record<string, string> } = {}
) =>
  fetch(`${origin}/authorize`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: options.cookie ?? page.cookie },
    body: new URLSearchParams({ ...page.fields, ...options.fields, api_key: apiKey, action: options.action ?? "allow" })
  })

export interface SignedIn {
  readonly client: OAuthClientInformationFull
  readonly code: string
  readonly codeVerifier: string
  readonly redirectUri: string
  readonly location: URL
}

/** Registers (unless given a client), opens the page, pastes `apiKey`, and returns the code from the redirect. */
export const signIn = async (
  origin: string,
  d: Discovered,
  apiKey: string,
  options: { readonly client?: OAuthClientInformationFull; readonly state?: string } = {}
): Promise<SignedIn> => {
  const redirectUri = `${origin}/callback`
  const client = options.client ?? await register(d, redirectUri)
  const { authorizationUrl, codeVerifier } = await startAuthorization(d.authorizationServer, {
    metadata: d.metadata,
    clientInformation: client,
    redirectUrl: redirectUri,
    state: options.state ?? "state-123",
    resource: d.resource
  })
  const page = await openLoginPage(authorizationUrl)
  if (page.status !== 200) throw new Error(`login page answered ${page.status}: ${page.html}`)
  const answer = await submitLogin(origin, page, apiKey)
  const location = answer.headers.get("location")
  if (answer.status !== 303 || location === null) throw new Error(`login answered ${answer.status}: ${await answer.text()}`)
  const url = new URL(location)
  return { client, code: url.searchParams.get("code")!, codeVerifier, redirectUri, location: url }
}

export const redeem = (d: Discovered, s: SignedIn, overrides: { codeVerifier?: string; redirectUri?: string } = {}): Promise<OAuthTokens> =>
  exchangeAuthorization(d.authorizationServer, {
    metadata: d.metadata,
    clientInformation: s.client,
    authorizationCode: s.code,
    codeVerifier: overrides.codeVerifier ?? s.codeVerifier,
    redirectUri: overrides.redirectUri ?? s.redirectUri,
    resource: d.resource
  })

/** A form POST to a token-ish endpoint, answering status and parsed JSON. */
export const postForm = async (url: string, form: Record<string, string>) => {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form)
  })
  return { status: response.status, body: await response.json() as Record<string, unknown> }
}

/** Calls the stand-in /mcp with a bearer token. */
export const callMcp = async (origin: string, token?: string) => {
  const response = await fetch(`${origin}/mcp`, {
    method: "POST",
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` }
  })
  return {
    status: response.status,
    wwwAuthenticate: response.headers.get("www-authenticate"),
    body: await response.json() as Record<string, unknown>
  }
}
