/**
 * OAuth login for connectors on the HTTP app, when it is on (see oauth/OAuthConfig.ts): its
 * endpoints and metadata at the root, and `/mcp` taking its access tokens beside plain ChatKazi
 * keys. A refused bearer gets a 401 whose `WWW-Authenticate` points at the protected-resource
 * metadata, so a connector can discover where to sign in.
 */
import type { HttpClient } from "@effect/platform/HttpClient"
import { Effect, Option, Runtime } from "effect"
import type { InvalidConfig } from "../errors/ChatKaziError.js"
import type { StateStore } from "../services/StateStore.js"
import type { HttpExtension } from "./http.js"
import type { Admission } from "./httpAccess.js"
import { SharedGateway } from "./httpServices.js"
import { bearerToken, loadOAuthSettings, makeOAuth, type OAuthApi } from "./oauth/index.js"

/** The OAuth part of the app, or none when OAuth login is off. */
export const httpOAuth: Effect.Effect<
  Option.Option<HttpExtension<never>>,
  InvalidConfig,
  SharedGateway | StateStore | HttpClient
> = Effect.gen(function*() {
  const settings = yield* loadOAuthSettings
  if (Option.isNone(settings)) return Option.none()
  const { settings: gateway } = yield* SharedGateway
  const oauth = yield* makeOAuth({ settings: settings.value, gateway })
  const run = Runtime.runPromise(yield* Effect.runtime<never>())
  const authorize = (req: { readonly headers: { readonly authorization?: string | undefined } }) =>
    run(admitBearer(oauth, req.headers.authorization))

  yield* Effect.logInfo(`OAuth login for connectors: add ${oauth.resourceUrl} as a connector by URL`)
  return Option.some<HttpExtension<never>>({
    routes: (app) => void app.use(oauth.router),
    authorize,
    challenge: oauth.wwwAuthenticate()
  })
})

/** Who a `/mcp` request's `Authorization` header admits, when OAuth login is on. */
export const admitBearer = (oauth: OAuthApi, authorization: string | undefined): Effect.Effect<Admission> =>
  oauth.resolveBearer(bearerToken(authorization)).pipe(
    Effect.match({
      onSuccess: (bearer): Admission => ({ _tag: "Admitted", apiKey: bearer.apiKey }),
      onFailure: (failure): Admission =>
        failure._tag === "Unauthenticated"
          ? { _tag: "Refused", reason: failure.description, challenge: failure.wwwAuthenticate }
          : { _tag: "Unavailable", reason: "the token store cannot be reached; try again in a moment" }
    })
  )
