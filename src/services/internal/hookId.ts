/**
 * The webhook's per-account id: the account id sealed with a key derived from CHATKAZI_SECRET.
 *
 * Why sealed and not just an HMAC: the server receiving `POST /webhooks/chatkazi/<hookId>` must find
 * the account without a database, and an HMAC cannot be inverted. A registry (hookId -> account,
 * kept in the StateStore when an account is seen) would work too, but then a webhook that arrives
 * after a restart of the in-memory store, or before the account's first MCP call on a fresh
 * replica, would be lost. Sealing needs nothing stored: every replica with the same secret opens it.
 *
 * The construction is SIV-style deterministic authenticated encryption, from node:crypto only:
 *   iv = HMAC-SHA256(macKey, accountId)[0..16];  body = AES-256-CTR(encKey, iv, accountId)
 *   hookId = base64url(iv || body)
 * Opening decrypts and recomputes the iv; a mismatch (a guessed, altered or foreign id) is "unknown".
 * So the id is stable for an account (the URL pasted into the dashboard keeps working), reveals
 * nothing of the account id (not even the hash of the key), says nothing about another account's id,
 * and cannot be forged without the secret.
 */
import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual } from "node:crypto"

const IV_BYTES = 16

export interface HookKeys {
  readonly mac: Buffer
  readonly enc: Buffer
}

/** Two independent keys from the one secret, so the secret itself is never used directly. */
export const hookKeys = (secret: string): HookKeys => ({
  mac: createHmac("sha256", secret).update("chatkazi-mcp webhook id: mac").digest(),
  enc: createHmac("sha256", secret).update("chatkazi-mcp webhook id: enc").digest()
})

const ivFor = (keys: HookKeys, plain: Buffer) => createHmac("sha256", keys.mac).update(plain).digest().subarray(0, IV_BYTES)

export const sealHookId = (keys: HookKeys, accountId: string): string => {
  // Account ids are hex SHA-256, sealed as their 32 bytes (a shorter URL); any other id as UTF-8, tagged apart.
  const hex = /^[0-9a-f]{64}$/.test(accountId)
  const plain = Buffer.concat([Buffer.of(hex ? 0 : 1), Buffer.from(accountId, hex ? "hex" : "utf8")])
  const iv = ivFor(keys, plain)
  const cipher = createCipheriv("aes-256-ctr", keys.enc, iv)
  return Buffer.concat([iv, cipher.update(plain), cipher.final()]).toString("base64url")
}

/** The account a hook id was sealed for, or undefined for anything else. */
export const openHookId = (keys: HookKeys, hookId: string): string | undefined => {
  if (!/^[A-Za-z0-9_-]{24,200}$/.test(hookId)) return undefined
  const sealed = Buffer.from(hookId, "base64url")
  if (sealed.length <= IV_BYTES) return undefined
  const iv = sealed.subarray(0, IV_BYTES)
  const decipher = createDecipheriv("aes-256-ctr", keys.enc, iv)
  const plain = Buffer.concat([decipher.update(sealed.subarray(IV_BYTES)), decipher.final()])
  if (!timingSafeEqual(ivFor(keys, plain), iv)) return undefined
  return plain.subarray(1).toString(plain[0] === 0 ? "hex" : "utf8")
}
