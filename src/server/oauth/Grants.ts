/**
 * What a sign-in leaves behind, kept in the `StateStore` so that every replica sees it:
 *
 * - an authorization code (single use, at most 60 s) carrying the PKCE challenge and the sealed key;
 * - a token family per sign-in: the sealed ChatKazi key, the client and the resource. Every access
 *   and refresh token points at its family, so deleting the family revokes them all at once;
 * - access tokens (short-lived) and refresh tokens (rotated on each use; a second use of the same
 *   refresh token is taken as theft and deletes the family).
 *
 * Records are stored under the SHA-256 of the token; the token itself is never stored.
 */
import { Clock, Data, Effect, Option, type Redacted, Schema } from "effect"
import { Account, type AccountInfo } from "../../services/Account.js"
import type { StateStoreApi, StoreUnavailable } from "../../services/StateStore.js"
import type { OAuthSettings } from "./OAuthConfig.js"
import type { Sealing } from "./Sealing.js"
import { isKind, newId, newToken, tokenHash } from "./tokens.js"

/** A code or refresh token that cannot be redeemed; `reason` is safe to show the client. */
export class GrantRejected extends Data.TaggedError("GrantRejected")<{ readonly reason: string }> {}

/** An access token that does not stand for a key (any more). */
export class TokenRejected extends Data.TaggedError("TokenRejected")<{ readonly reason: string }> {}

const CodeRecord = Schema.Struct({
  clientId: Schema.String,
  redirectUri: Schema.String,
  codeChallenge: Schema.String,
  resource: Schema.String,
  scopes: Schema.Array(Schema.String),
  familyId: Schema.String,
  sealedKey: Schema.String,
  accountId: Schema.String,
  expiresAt: Schema.Number
})
type CodeRecord = typeof CodeRecord.Type

const FamilyRecord = Schema.Struct({
  clientId: Schema.String,
  resource: Schema.String,
  scopes: Schema.Array(Schema.String),
  sealedKey: Schema.String,
  accountId: Schema.String
})
type FamilyRecord = typeof FamilyRecord.Type

const AccessRecord = Schema.Struct({
  familyId: Schema.String,
  clientId: Schema.String,
  resource: Schema.String,
  expiresAt: Schema.Number
})

const RefreshRecord = Schema.Struct({
  familyId: Schema.String,
  clientId: Schema.String
})

const storeKey = {
  code: (hash: string) => `oauth:code:${hash}`,
  codeUsed: (hash: string) => `oauth:code-used:${hash}`,
  family: (id: string) => `oauth:family:${id}`,
  access: (hash: string) => `oauth:at:${hash}`,
  refresh: (hash: string) => `oauth:rt:${hash}`,
  refreshUsed: (hash: string) => `oauth:rt-used:${hash}`
}

export interface CodeRequest {
  readonly clientId: string
  readonly redirectUri: string
  readonly codeChallenge: string
  readonly resource: string
  readonly scopes: ReadonlyArray<string>
  readonly apiKey: Redacted.Redacted<string>
}

export interface IssuedTokens {
  readonly access_token: string
  readonly token_type: "Bearer"
  readonly expires_in: number
  readonly refresh_token: string
  readonly scope?: string
}

/** What a valid access token stands for. */
export interface Grant {
  readonly apiKey: Redacted.Redacted<string>
  readonly account: AccountInfo
  readonly clientId: string
  readonly resource: string
  readonly scopes: ReadonlyArray<string>
  /** Milliseconds since the epoch. */
  readonly expiresAt: number
}

export interface Grants {
  readonly issueCode: (request: CodeRequest) => Effect.Effect<string, StoreUnavailable>
  /** The PKCE challenge of a live code issued to `clientId` (the code stays unredeemed). */
  readonly challengeFor: (clientId: string, code: string) => Effect.Effect<string, GrantRejected | StoreUnavailable>
  readonly redeemCode: (
    clientId: string,
    code: string,
    redirectUri: string | undefined,
    resource: string | undefined
  ) => Effect.Effect<IssuedTokens, GrantRejected | StoreUnavailable>
  readonly refresh: (
    clientId: string,
    refreshToken: string,
    resource: string | undefined
  ) => Effect.Effect<IssuedTokens, GrantRejected | StoreUnavailable>
  /** RFC 7009: revoking a refresh token ends the whole sign-in; unknown or foreign tokens are ignored. */
  readonly revoke: (clientId: string, token: string) => Effect.Effect<void, StoreUnavailable>
  readonly resolveAccessToken: (token: string) => Effect.Effect<Grant, TokenRejected | StoreUnavailable>
}

const read = <A, I>(store: StateStoreApi, schema: Schema.Schema<A, I>, key: string) =>
  store.get(key).pipe(
    Effect.map((raw) => raw === undefined ? Option.none() : Schema.decodeUnknownOption(Schema.parseJson(schema))(raw))
  )

export const makeGrants = (settings: OAuthSettings, sealing: Sealing, store: StateStoreApi): Grants => {
  const resource = `${settings.publicUrl}/mcp`
  const write = (key: string, value: unknown, ttlMs: number) => store.set(key, JSON.stringify(value), ttlMs)
  const revokeFamily = (familyId: string) => store.delete(storeKey.family(familyId))

  const issueTokens = (familyId: string, family: FamilyRecord) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const accessToken = newToken("accessToken")
      const refreshToken = newToken("refreshToken")
      // The family outlives its newest refresh token by nothing: each rotation renews both.
      yield* write(storeKey.family(familyId), family, settings.refreshTokenTtlMs)
      yield* write(
        storeKey.access(tokenHash(accessToken)),
        { familyId, clientId: family.clientId, resource: family.resource, expiresAt: now + settings.accessTokenTtlMs },
        settings.accessTokenTtlMs
      )
      yield* write(storeKey.refresh(tokenHash(refreshToken)), { familyId, clientId: family.clientId }, settings.refreshTokenTtlMs)
      const tokens: IssuedTokens = {
        access_token: accessToken,
        token_type: "Bearer",
        expires_in: Math.floor(settings.accessTokenTtlMs / 1000),
        refresh_token: refreshToken,
        ...(family.scopes.length > 0 ? { scope: family.scopes.join(" ") } : {})
      }
      return tokens
    })

  /** A code seen again after it was redeemed: the tokens it gave are revoked too (OAuth 2.1 §4.1.3). */
  const rejectReusedCode = (hash: string) =>
    store.get(storeKey.codeUsed(hash)).pipe(
      Effect.flatMap((familyId) =>
        familyId === undefined
          ? Effect.void
          : revokeFamily(familyId).pipe(
            Effect.zipRight(Effect.logWarning("OAuth: an authorization code was presented again; its sign-in is revoked")),
            Effect.zipRight(new GrantRejected({ reason: "authorization code was already used; its tokens are revoked" }))
          )
      )
    )

  const liveCode = (clientId: string, code: string) =>
    Effect.gen(function*() {
      if (!isKind(code, "authorizationCode")) return yield* new GrantRejected({ reason: "not an authorization code" })
      const hash = tokenHash(code)
      yield* rejectReusedCode(hash)
      const record = yield* read(store, CodeRecord, storeKey.code(hash))
      const now = yield* Clock.currentTimeMillis
      if (Option.isNone(record) || record.value.expiresAt <= now) {
        return yield* new GrantRejected({ reason: "authorization code is unknown or expired" })
      }
      if (record.value.clientId !== clientId) {
        return yield* new GrantRejected({ reason: "authorization code was issued to another client" })
      }
      return { hash, record: record.value }
    })

  const resourceMatches = (requested: string | undefined, bound: string) =>
    requested === undefined || requested === bound

  return {
    issueCode: (request) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const code = newToken("authorizationCode")
        const familyId = newId()
        const record: CodeRecord = {
          clientId: request.clientId,
          redirectUri: request.redirectUri,
          codeChallenge: request.codeChallenge,
          resource: request.resource,
          scopes: [...request.scopes],
          familyId,
          sealedKey: sealing.seal(request.apiKey, familyId),
          accountId: Account.fromKey(request.apiKey).id,
          expiresAt: now + settings.codeTtlMs
        }
        yield* write(storeKey.code(tokenHash(code)), record, settings.codeTtlMs)
        return code
      }),

    challengeFor: (clientId, code) => Effect.map(liveCode(clientId, code), ({ record }) => record.codeChallenge),

    redeemCode: (clientId, code, redirectUri, requestedResource) =>
      Effect.gen(function*() {
        const { hash, record } = yield* liveCode(clientId, code)
        // The claim is the single point where two racing redemptions are told apart.
        const first = yield* store.claim(storeKey.codeUsed(hash), record.familyId, settings.accessTokenTtlMs)
        if (!first) {
          yield* rejectReusedCode(hash)
          return yield* new GrantRejected({ reason: "authorization code was already used" })
        }
        yield* store.delete(storeKey.code(hash))
        if (redirectUri !== undefined && redirectUri !== record.redirectUri) {
          return yield* new GrantRejected({ reason: "redirect_uri differs from the one used to authorize" })
        }
        if (!resourceMatches(requestedResource, record.resource)) {
          return yield* new GrantRejected({ reason: "resource differs from the one used to authorize" })
        }
        return yield* issueTokens(record.familyId, {
          clientId: record.clientId,
          resource: record.resource,
          scopes: record.scopes,
          sealedKey: record.sealedKey,
          accountId: record.accountId
        })
      }),

    refresh: (clientId, refreshToken, requestedResource) =>
      Effect.gen(function*() {
        const unknown = new GrantRejected({ reason: "refresh token is unknown, expired or revoked" })
        if (!isKind(refreshToken, "refreshToken")) return yield* unknown
        const hash = tokenHash(refreshToken)
        const record = yield* read(store, RefreshRecord, storeKey.refresh(hash))
        if (Option.isNone(record)) return yield* unknown
        if (record.value.clientId !== clientId) {
          return yield* new GrantRejected({ reason: "refresh token was issued to another client" })
        }
        const first = yield* store.claim(storeKey.refreshUsed(hash), "1", settings.refreshTokenTtlMs)
        if (!first) {
          yield* revokeFamily(record.value.familyId)
          yield* Effect.logWarning("OAuth: a refresh token was used twice; its sign-in is revoked")
          return yield* new GrantRejected({
            reason: "refresh token was already used, so this sign-in is revoked as a precaution; sign in again"
          })
        }
        const family = yield* read(store, FamilyRecord, storeKey.family(record.value.familyId))
        if (Option.isNone(family)) return yield* unknown
        if (!resourceMatches(requestedResource, family.value.resource)) {
          return yield* new GrantRejected({ reason: "resource differs from the one used to authorize" })
        }
        return yield* issueTokens(record.value.familyId, family.value)
      }),

    revoke: (clientId, token) =>
      Effect.gen(function*() {
        const hash = tokenHash(token)
        if (isKind(token, "accessToken")) {
          const record = yield* read(store, AccessRecord, storeKey.access(hash))
          if (Option.isSome(record) && record.value.clientId === clientId) yield* store.delete(storeKey.access(hash))
        } else if (isKind(token, "refreshToken")) {
          const record = yield* read(store, RefreshRecord, storeKey.refresh(hash))
          if (Option.isSome(record) && record.value.clientId === clientId) yield* revokeFamily(record.value.familyId)
        }
      }),

    resolveAccessToken: (token) =>
      Effect.gen(function*() {
        if (!isKind(token, "accessToken")) return yield* new TokenRejected({ reason: "not an access token" })
        const record = yield* read(store, AccessRecord, storeKey.access(tokenHash(token)))
        const now = yield* Clock.currentTimeMillis
        if (Option.isNone(record)) return yield* new TokenRejected({ reason: "access token is unknown, expired or revoked" })
        if (record.value.expiresAt <= now) return yield* new TokenRejected({ reason: "access token expired" })
        if (record.value.resource !== resource) {
          return yield* new TokenRejected({ reason: "access token was issued for another resource" })
        }
        const family = yield* read(store, FamilyRecord, storeKey.family(record.value.familyId))
        if (Option.isNone(family)) return yield* new TokenRejected({ reason: "access token was revoked" })
        const apiKey = sealing.open(family.value.sealedKey, record.value.familyId)
        if (apiKey === undefined) {
          return yield* new TokenRejected({ reason: "access token can no longer be read; sign in again" })
        }
        return {
          apiKey,
          account: { id: family.value.accountId },
          clientId: record.value.clientId,
          resource: record.value.resource,
          scopes: family.value.scopes,
          expiresAt: record.value.expiresAt
        }
      })
  }
}
