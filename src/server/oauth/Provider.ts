/**
 * The SDK's `OAuthServerProvider`, backed by `Grants` and the login page. The SDK's router has
 * already checked what it can before calling in: the client exists, the redirect URI is registered,
 * PKCE is S256, the client authenticated at /token, and (after `challengeForAuthorizationCode`) the
 * code verifier matches. What is left is here: the login page, the key check, and the tokens.
 */
import {
  AccessDeniedError,
  InvalidGrantError,
  InvalidRequestError,
  InvalidTargetError,
  InvalidTokenError,
  ServerError
} from "@modelcontextprotocol/sdk/server/auth/errors.js"
import type { AuthorizationParams, OAuthServerProvider } from "@modelcontextprotocol/sdk/server/auth/provider.js"
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js"
import type { OAuthClientInformationFull } from "@modelcontextprotocol/sdk/shared/auth.js"
import type { HttpClient } from "@effect/platform"
import { Cause, Clock, Effect, Exit, Redacted, Runtime } from "effect"
import type { Request, Response } from "express"
import { pageHeaders, renderAuthorizePage } from "./AuthorizePage.js"
import type { ClientStore } from "./ClientStore.js"
import { csrfCookie, CSRF_COOKIE, CSRF_FIELD, issueCsrf, readCookie, verifyCsrf } from "./Csrf.js"
import type { GrantRejected, Grants } from "./Grants.js"
import { checkKey, type GatewaySettings } from "./KeyCheck.js"
import type { Sealing } from "./Sealing.js"
import type { StoreUnavailable } from "../../services/StateStore.js"

export interface ProviderDeps {
  readonly issuer: string
  readonly resource: string
  readonly grants: Grants
  readonly clients: ClientStore
  readonly sealing: Sealing
  readonly gateway: GatewaySettings
  readonly runtime: Runtime.Runtime<HttpClient.HttpClient>
}

/** Runs an effect at this edge, rejecting with the failure itself (an SDK `OAuthError` becomes its response). */
export const runWith = <R>(runtime: Runtime.Runtime<R>) => <A, E>(effect: Effect.Effect<A, E, R>): Promise<A> =>
  Runtime.runPromiseExit(runtime)(effect).then((exit) => {
    if (Exit.isSuccess(exit)) return exit.value
    throw Cause.squash(exit.cause)
  })

const toOAuthError = (error: GrantRejected | StoreUnavailable) =>
  error._tag === "GrantRejected" ? new InvalidGrantError(error.reason) : new ServerError("token storage is unavailable")

export const makeProvider = (deps: ProviderDeps): OAuthServerProvider => {
  const run = runWith(deps.runtime)
  const { grants } = deps

  const authorize = (client: OAuthClientInformationFull, params: AuthorizationParams, res: Response) =>
    Effect.gen(function*() {
      if (params.resource !== undefined && params.resource.href !== deps.resource) {
        return yield* Effect.fail(new InvalidTargetError(`this server only issues tokens for ${deps.resource}`))
      }
      // An S256 challenge is 32 bytes in base64url; anything else cannot be matched by any verifier.
      if (!/^[A-Za-z0-9_-]{43}$/.test(params.codeChallenge)) {
        return yield* Effect.fail(new InvalidRequestError("code_challenge must be an S256 challenge (43 base64url characters)"))
      }
      const req = res.req as Request
      const scopes = params.scopes ?? []
      const hidden: Record<string, string> = {
        client_id: client.client_id,
        redirect_uri: params.redirectUri,
        response_type: "code",
        code_challenge: params.codeChallenge,
        code_challenge_method: "S256",
        ...(params.state === undefined ? {} : { state: params.state }),
        ...(scopes.length === 0 ? {} : { scope: scopes.join(" ") }),
        ...(params.resource === undefined ? {} : { resource: params.resource.href })
      }
      const binding = JSON.stringify([client.client_id, params.redirectUri, params.codeChallenge, params.state ?? "", scopes, deps.resource])
      const now = yield* Clock.currentTimeMillis

      const showPage = (status: number, error?: string) => {
        const csrf = issueCsrf(deps.sealing, binding, now)
        res.status(status)
          .set(pageHeaders(params.redirectUri))
          .append("Set-Cookie", csrfCookie(csrf.cookieValue, deps.issuer.startsWith("https:")))
          .send(renderAuthorizePage({
            clientName: client.client_name,
            redirectUri: params.redirectUri,
            hidden: { ...hidden, [CSRF_FIELD]: csrf.field },
            error
          }))
      }

      if (req.method !== "POST") return showPage(200)
      const form = (req.body ?? {}) as Record<string, unknown>
      if (!verifyCsrf(deps.sealing, binding, readCookie(req.headers.cookie, CSRF_COOKIE), form[CSRF_FIELD], now)) {
        return showPage(403, "This form expired or was not sent from this page, so nothing was done. Please try again.")
      }
      if (form["action"] === "deny") {
        return yield* Effect.fail(new AccessDeniedError("the user declined to connect their ChatKazi account"))
      }
      const apiKey = Redacted.make(typeof form["api_key"] === "string" ? form["api_key"].trim() : "")
      const checked = yield* Effect.either(checkKey(deps.gateway, apiKey))
      if (checked._tag === "Left") return showPage(checked.left.invalidKey ? 400 : 503, checked.left.reason)

      const code = yield* grants.issueCode({
        clientId: client.client_id,
        redirectUri: params.redirectUri,
        codeChallenge: params.codeChallenge,
        resource: deps.resource,
        scopes,
        apiKey
      }).pipe(Effect.mapError(() => new ServerError("token storage is unavailable")))
      const target = new URL(params.redirectUri)
      target.searchParams.set("code", code)
      if (params.state !== undefined) target.searchParams.set("state", params.state)
      // RFC 9207: tells the client which authorization server answered (mix-up protection).
      target.searchParams.set("iss", deps.issuer)
      res.clearCookie(CSRF_COOKIE, { path: "/authorize" })
      res.redirect(303, target.href)
    })

  return {
    get clientsStore() {
      return deps.clients
    },
    authorize: (client, params, res) => run(authorize(client, params, res)),
    challengeForAuthorizationCode: (client, code) =>
      run(Effect.mapError(grants.challengeFor(client.client_id, code), toOAuthError)),
    exchangeAuthorizationCode: (client, code, _verifier, redirectUri, resource) =>
      run(
        grants.redeemCode(client.client_id, code, redirectUri, resource?.href).pipe(
          Effect.tap(() => deps.clients.touch(client)),
          Effect.mapError(toOAuthError)
        )
      ),
    exchangeRefreshToken: (client, refreshToken, _scopes, resource) =>
      run(Effect.mapError(grants.refresh(client.client_id, refreshToken, resource?.href), toOAuthError)),
    verifyAccessToken: (token) =>
      run(
        grants.resolveAccessToken(token).pipe(
          Effect.map((grant): AuthInfo => ({
            token,
            clientId: grant.clientId,
            scopes: [...grant.scopes],
            expiresAt: Math.floor(grant.expiresAt / 1000),
            resource: new URL(grant.resource),
            extra: { accountId: grant.account.id }
          })),
          Effect.mapError((error) =>
            error._tag === "TokenRejected" ? new InvalidTokenError(error.reason) : new ServerError("token storage is unavailable")
          )
        )
      ),
    revokeToken: (client, request) =>
      run(Effect.mapError(grants.revoke(client.client_id, request.token), () => new ServerError("token storage is unavailable")))
  }
}
