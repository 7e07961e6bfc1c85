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
import { Account } from "../../services/Account.js"
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

  /** What the login form's submission leads to: the page again (with why), or back to the client. */
  type Outcome =
    | { readonly _tag: "Page"; readonly status: number; readonly error?: string }
    | { readonly _tag: "Redirect"; readonly location: string }

  const submit = (
    client: OAuthClientInformationFull,
    params: AuthorizationParams,
    form: Record<string, unknown>,
    csrfValid: boolean
  ): Effect.Effect<Outcome, AccessDeniedError | ServerError, HttpClient.HttpClient> =>
    Effect.gen(function*() {
      if (!csrfValid) {
        return { _tag: "Page", status: 403, error: "This form expired or was not sent from this page, so nothing was done. Please try again." }
      }
      if (form["action"] === "deny") return yield* Effect.fail(new AccessDeniedError("the user declined to connect their ChatKazi account"))
      const apiKey = Redacted.make(typeof form["api_key"] === "string" ? form["api_key"].trim() : "")
      const checked = yield* Effect.either(checkKey(deps.gateway, apiKey))
      if (checked._tag === "Left") return { _tag: "Page", status: checked.left.invalidKey ? 400 : 503, error: checked.left.reason }
      const code = yield* grants.issueCode({
        clientId: client.client_id,
        redirectUri: params.redirectUri,
        codeChallenge: params.codeChallenge,
        resource: deps.resource,
        scopes: params.scopes ?? [],
        apiKey
      }).pipe(Effect.mapError(() => new ServerError("token storage is unavailable")))
      yield* Effect.logInfo("OAuth: signed in").pipe(
        Effect.annotateLogs({ client: client.client_name ?? client.client_id, account: Account.logId(Account.fromKey(apiKey).id) })
      )
      const location = new URL(params.redirectUri)
      location.searchParams.set("code", code)
      if (params.state !== undefined) location.searchParams.set("state", params.state)
      // RFC 9207: tells the client which authorization server answered (mix-up protection).
      location.searchParams.set("iss", deps.issuer)
      return { _tag: "Redirect", location: location.href }
    })

  const authorize = (client: OAuthClientInformationFull, params: AuthorizationParams, res: Response) =>
    Effect.gen(function*() {
      if (params.resource !== undefined && params.resource.href !== deps.resource) {
        return yield* Effect.fail(new InvalidTargetError(`this server only issues tokens for ${deps.resource}`))
      }
      // An S256 challenge is 32 bytes in base64url; anything else cannot be matched by any verifier.
      if (!/^[A-Za-z0-9_-]{43}$/.test(params.codeChallenge)) {
        return yield* Effect.fail(
          new InvalidRequestError("code_challenge must be an S256 challenge (43 base64url characters)")
        )
      }
      const req = res.req as Request
      const scopes = params.scopes ?? []
      // The form is valid only for the request it was served for.
      const binding = JSON.stringify([client.client_id, params.redirectUri, params.codeChallenge, params.state ?? "", scopes])
      const now = yield* Clock.currentTimeMillis
      const form = req.method === "POST" ? (req.body ?? {}) as Record<string, unknown> : undefined
      const outcome: Outcome = form === undefined
        ? { _tag: "Page", status: 200 }
        : yield* submit(
          client,
          params,
          form,
          verifyCsrf(deps.sealing, binding, readCookie(req.headers.cookie, CSRF_COOKIE), form[CSRF_FIELD], now)
        )

      if (outcome._tag === "Redirect") {
        res.clearCookie(CSRF_COOKIE, { path: "/authorize" })
        return res.redirect(303, outcome.location)
      }
      const csrf = issueCsrf(deps.sealing, binding, now)
      const hidden: Record<string, string> = {
        client_id: client.client_id,
        redirect_uri: params.redirectUri,
        response_type: "code",
        code_challenge: params.codeChallenge,
        code_challenge_method: "S256",
        ...(params.state === undefined ? {} : { state: params.state }),
        ...(scopes.length === 0 ? {} : { scope: scopes.join(" ") }),
        ...(params.resource === undefined ? {} : { resource: params.resource.href }),
        [CSRF_FIELD]: csrf.field
      }
      res.status(outcome.status)
        .set(pageHeaders(params.redirectUri))
        .append("Set-Cookie", csrfCookie(csrf.cookieValue, deps.issuer.startsWith("https:")))
        .send(renderAuthorizePage({ clientName: client.client_name, redirectUri: params.redirectUri, hidden, error: outcome.error }))
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
