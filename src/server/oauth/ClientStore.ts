/**
 * Clients registered through RFC 7591 dynamic registration, kept in the `StateStore` so that any
 * replica knows them. Redirect URIs must be https, or http on a loopback host for local clients.
 *
 * A confidential client's secret is stored sealed (AES-GCM, bound to its client id), not in plain
 * text: the SDK's client authentication compares the secret a client sends with the one `getClient`
 * returns, so it must come back as it was issued, which rules out a hash. A record whose secret
 * cannot be opened (another CHATKAZI_SECRET, tampering) is an unknown client, never a public one.
 */
import { InvalidClientMetadataError } from "@modelcontextprotocol/sdk/server/auth/errors.js"
import type { OAuthRegisteredClientsStore } from "@modelcontextprotocol/sdk/server/auth/clients.js"
import { type OAuthClientInformationFull, OAuthClientInformationFullSchema } from "@modelcontextprotocol/sdk/shared/auth.js"
import { Effect, Redacted } from "effect"
import { randomUUID } from "node:crypto"
import type { StateStoreApi } from "../../services/StateStore.js"
import type { Sealing } from "./Sealing.js"

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"])
const MAX_CLIENT_ID_LENGTH = 128

const clientKey = (clientId: string) => `oauth:client:${clientId}`
const secretBinding = (clientId: string) => `client-secret:${clientId}`

/** Why `uri` may not be a redirect URI, or undefined when it may. */
export const redirectUriProblem = (uri: string): string | undefined => {
  if (!URL.canParse(uri)) return `"${uri}" is not a URL`
  const url = new URL(uri)
  if (url.hash) return `"${uri}" must not have a fragment`
  if (url.protocol === "https:") return undefined
  if (url.protocol === "http:" && LOOPBACK.has(url.hostname)) return undefined
  return `"${uri}" must use https (http is allowed only on localhost, 127.0.0.1 and [::1])`
}

export interface ClientStore extends OAuthRegisteredClientsStore {
  /** Keeps a client that is still in use for another full period. */
  readonly touch: (client: OAuthClientInformationFull) => Effect.Effect<void, never>
}

export const makeClientStore = (
  store: StateStoreApi,
  clientTtlMs: number,
  run: <A, E>(effect: Effect.Effect<A, E>) => Promise<A>,
  sealing: Sealing
): ClientStore => {
  const save = (client: OAuthClientInformationFull) => {
    const { client_secret: secret, ...rest } = client
    const stored = secret === undefined
      ? rest
      : { ...rest, client_secret: sealing.seal(Redacted.make(secret), secretBinding(client.client_id)) }
    return store.set(clientKey(client.client_id), JSON.stringify(stored), clientTtlMs)
  }
  const opened = (client: OAuthClientInformationFull): OAuthClientInformationFull | undefined => {
    if (client.client_secret === undefined) return client
    const secret = sealing.open(client.client_secret, secretBinding(client.client_id))
    return secret === undefined ? undefined : { ...client, client_secret: Redacted.value(secret) }
  }
  return {
    getClient: (clientId) =>
      clientId.length > MAX_CLIENT_ID_LENGTH
        ? Promise.resolve(undefined)
        : run(store.get(clientKey(clientId))).then((raw) => {
          if (raw === undefined) return undefined
          const parsed = OAuthClientInformationFullSchema.safeParse(safeJson(raw))
          return parsed.success && parsed.data.client_id === clientId ? opened(parsed.data) : undefined
        }),
    registerClient: (client) => {
      const problems = client.redirect_uris.map(redirectUriProblem).filter((p): p is string => p !== undefined)
      if (client.redirect_uris.length === 0) problems.push("at least one redirect URI is required")
      const grants = client.grant_types ?? ["authorization_code"]
      const unsupported = grants.filter((g) => g !== "authorization_code" && g !== "refresh_token")
      if (unsupported.length > 0) problems.push(`grant types ${unsupported.join(", ")} are not supported`)
      if (client.response_types !== undefined && client.response_types.some((t) => t !== "code")) {
        problems.push("only the response type \"code\" is supported")
      }
      if (problems.length > 0) return Promise.reject(new InvalidClientMetadataError(problems.join("; ")))
      // The SDK's handler assigns the id; a store used without it still hands out one.
      const full: OAuthClientInformationFull = {
        client_id: randomUUID(),
        client_id_issued_at: Math.floor(Date.now() / 1000),
        ...client
      }
      return run(save(full)).then(() => full)
    },
    touch: (client) => Effect.ignore(save(client))
  }
}

const safeJson = (raw: string): unknown => {
  try {
    return JSON.parse(raw)
  } catch {
    return undefined
  }
}
