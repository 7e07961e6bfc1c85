/**
 * OAuth 2.1 login for remote connectors: the server is its own small authorization server whose
 * login page asks for the user's ChatKazi API key. Mount `router` at the root of the HTTP app, and
 * call `resolveBearer` for each /mcp request, answering its `Unauthenticated` with a 401 and its
 * `wwwAuthenticate` header (see httpOAuth.ts).
 */
import type { HttpClient } from "@effect/platform"
import { metadataHandler } from "@modelcontextprotocol/sdk/server/auth/handlers/metadata.js"
import type { OAuthServerProvider } from "@modelcontextprotocol/sdk/server/auth/provider.js"
import { mcpAuthRouter } from "@modelcontextprotocol/sdk/server/auth/router.js"
import type { OAuthProtectedResourceMetadata } from "@modelcontextprotocol/sdk/shared/auth.js"
import { Effect } from "effect"
import express from "express"
import { StateStore, type StoreUnavailable } from "../../services/StateStore.js"
import { type Bearer, makeResolveBearer, makeWwwAuthenticate, type Unauthenticated } from "./bearer.js"
import { makeClientStore } from "./ClientStore.js"
import { makeGrants } from "./Grants.js"
import type { GatewaySettings } from "./KeyCheck.js"
import type { OAuthSettings } from "./OAuthConfig.js"
import { makeProvider, runWith } from "./Provider.js"
import { makeSealing } from "./Sealing.js"

export { type Bearer, bearerToken, Unauthenticated } from "./bearer.js"
export type { GatewaySettings } from "./KeyCheck.js"
export { loadOAuthSettings, makeOAuthSettings, type OAuthSettings } from "./OAuthConfig.js"
export { isOurs as isOAuthToken } from "./tokens.js"

export interface OAuthOptions {
  readonly settings: OAuthSettings
  /** How to reach ChatKazi when checking a pasted key (everything but the key). */
  readonly gateway: GatewaySettings
  /** The SDK's per-IP rate limits on the OAuth endpoints (default on; tests turn them off). */
  readonly rateLimit?: boolean
}

export interface OAuthApi {
  /** The OAuth endpoints and metadata; mount at the root of the app. */
  readonly router: express.Router
  /** The ChatKazi key a request's bearer token stands for, or why it stands for none. */
  readonly resolveBearer: (token: string | undefined) => Effect.Effect<Bearer, Unauthenticated | StoreUnavailable>
  /** The `WWW-Authenticate` header value for a 401 from /mcp. */
  readonly wwwAuthenticate: (problem?: { readonly error: string; readonly description: string }) => string
  /** `<PUBLIC_URL>/mcp`, what tokens are bound to. */
  readonly resourceUrl: string
  /** `<PUBLIC_URL>/.well-known/oauth-protected-resource` */
  readonly resourceMetadataUrl: string
  readonly provider: OAuthServerProvider
}

export const makeOAuth = (options: OAuthOptions): Effect.Effect<OAuthApi, never, StateStore | HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const { settings } = options
    const store = yield* StateStore
    const runtime = yield* Effect.runtime<HttpClient.HttpClient>()
    const issuer = new URL(settings.publicUrl)
    const resourceUrl = `${settings.publicUrl}/mcp`
    const resourceMetadataUrl = `${settings.publicUrl}/.well-known/oauth-protected-resource`

    const sealing = makeSealing(settings.secret)
    const grants = makeGrants(settings, sealing, store)
    const clients = makeClientStore(store, settings.clientTtlMs, runWith(runtime), sealing)
    const provider = makeProvider({
      issuer: issuer.href,
      resource: resourceUrl,
      grants,
      clients,
      sealing,
      gateway: options.gateway,
      runtime
    })

    const limits = options.rateLimit === false ? { rateLimit: false as const } : {}
    const router = express.Router()
    router.use(mcpAuthRouter({
      provider,
      issuerUrl: issuer,
      resourceServerUrl: new URL(resourceUrl),
      resourceName: "ChatKazi WhatsApp (chatkazi-mcp)",
      authorizationOptions: limits,
      tokenOptions: limits,
      clientRegistrationOptions: limits,
      revocationOptions: limits
    }))
    // The SDK serves the metadata at the path-specific URL (…/oauth-protected-resource/mcp); clients
    // that follow the 401's header, or only try the root, read the same document here.
    const protectedResource: OAuthProtectedResourceMetadata = {
      resource: resourceUrl,
      authorization_servers: [issuer.href],
      resource_name: "ChatKazi WhatsApp (chatkazi-mcp)"
    }
    router.use("/.well-known/oauth-protected-resource", metadataHandler(protectedResource))

    const wwwAuthenticate = makeWwwAuthenticate(resourceMetadataUrl)
    const resolveBearer = makeResolveBearer(grants, wwwAuthenticate)
    return {
      router,
      resolveBearer,
      wwwAuthenticate,
      resourceUrl,
      resourceMetadataUrl,
      provider
    }
  })
