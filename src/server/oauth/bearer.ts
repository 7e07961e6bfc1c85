/**
 * What the HTTP transport asks per request: whose ChatKazi key does this bearer stand for?
 *
 * - `ckmcp_…` is one of our tokens: only a live access token for this resource passes, and it
 *   yields the key it was issued for. It is never forwarded to ChatKazi.
 * - Anything else is taken as a ChatKazi API key (bring-your-own-key) and is never looked up.
 *
 * A refusal carries the `WWW-Authenticate` challenge that points a client at the OAuth metadata.
 */
import { Data, Effect, Redacted } from "effect"
import { Account, type AccountInfo } from "../../services/Account.js"
import { isWellFormedKey, MALFORMED_KEY } from "../../services/Credentials.js"
import type { StoreUnavailable } from "../../services/StateStore.js"
import type { Grants } from "./Grants.js"
import { isOurs } from "./tokens.js"

export interface Bearer {
  /** The ChatKazi key to call the gateway with; stays `Redacted` until the header is set. */
  readonly apiKey: Redacted.Redacted<string>
  readonly account: AccountInfo
}

/** Answer with HTTP 401 and this `WWW-Authenticate` header. */
export class Unauthenticated extends Data.TaggedError("Unauthenticated")<{
  readonly status: 401
  /** RFC 6750 error code; absent when no credentials were sent at all. */
  readonly error?: "invalid_token"
  readonly description: string
  readonly wwwAuthenticate: string
}> {}

const quoted = (text: string) => `"${text.replace(/["\\\r\n]/g, " ")}"`

export const makeWwwAuthenticate = (resourceMetadataUrl: string) =>
(problem?: { readonly error: string; readonly description: string }): string =>
  `Bearer resource_metadata=${quoted(resourceMetadataUrl)}` +
  (problem === undefined ? "" : `, error=${quoted(problem.error)}, error_description=${quoted(problem.description)}`)

export { bearerToken } from "../../services/Credentials.js"

export const makeResolveBearer = (grants: Grants, wwwAuthenticate: ReturnType<typeof makeWwwAuthenticate>) => {
  const invalid = (description: string) =>
    new Unauthenticated({
      status: 401,
      error: "invalid_token",
      description,
      wwwAuthenticate: wwwAuthenticate({ error: "invalid_token", description })
    })

  return (token: string | undefined): Effect.Effect<Bearer, Unauthenticated | StoreUnavailable> => {
    if (token === undefined || token === "") {
      const description = "sign in through OAuth or send your ChatKazi API key as a bearer token"
      return Effect.fail(new Unauthenticated({ status: 401, description, wwwAuthenticate: wwwAuthenticate() }))
    }
    if (isOurs(token)) {
      return grants.resolveAccessToken(token).pipe(
        Effect.map((grant): Bearer => ({ apiKey: grant.apiKey, account: grant.account })),
        Effect.catchTag("TokenRejected", (rejected) => Effect.fail(invalid(rejected.reason)))
      )
    }
    if (!isWellFormedKey(token)) return Effect.fail(invalid(`the bearer token: ${MALFORMED_KEY}`))
    const apiKey = Redacted.make(token)
    return Effect.succeed({ apiKey, account: Account.fromKey(apiKey) })
  }
}
