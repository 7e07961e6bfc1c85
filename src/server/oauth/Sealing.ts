/**
 * Keys derived from `CHATKAZI_SECRET` (HKDF-SHA-256, one per purpose), and the sealing of a
 * ChatKazi API key with AES-256-GCM for storage beside the tokens that stand for it.
 *
 * A sealed key is bound to its record's id as additional authenticated data, so a sealed value
 * copied into another record does not open.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto"
import { Redacted } from "effect"

const SALT = "chatkazi-mcp/oauth/v1"
const VERSION = "v1"

export interface Sealing {
  /** Encrypts `apiKey` for the record named `boundTo`. */
  readonly seal: (apiKey: Redacted.Redacted<string>, boundTo: string) => string
  /** The key, or undefined when the value was tampered with, sealed for another record, or with another secret. */
  readonly open: (sealed: string, boundTo: string) => Redacted.Redacted<string> | undefined
  /** HMAC-SHA-256 of `message` under a key of its own (for the login form's CSRF token). */
  readonly sign: (message: string) => string
  readonly verify: (message: string, signature: string) => boolean
}

const derive = (secret: Redacted.Redacted<string>, purpose: string): Buffer =>
  Buffer.from(hkdfSync("sha256", Buffer.from(Redacted.value(secret), "utf8"), SALT, purpose, 32))

export const makeSealing = (secret: Redacted.Redacted<string>): Sealing => {
  const encryptionKey = derive(secret, "chatkazi api key encryption")
  const signingKey = derive(secret, "authorize form csrf")

  const sign = (message: string) => createHmac("sha256", signingKey).update(message, "utf8").digest("base64url")

  return {
    seal: (apiKey, boundTo) => {
      const iv = randomBytes(12)
      const cipher = createCipheriv("aes-256-gcm", encryptionKey, iv)
      cipher.setAAD(Buffer.from(boundTo, "utf8"))
      const body = Buffer.concat([cipher.update(Redacted.value(apiKey), "utf8"), cipher.final()])
      return [VERSION, iv, cipher.getAuthTag(), body].map((part) => typeof part === "string" ? part : part.toString("base64url")).join(".")
    },
    open: (sealed, boundTo) => {
      const [version, iv, tag, body, ...rest] = sealed.split(".")
      if (version !== VERSION || iv === undefined || tag === undefined || body === undefined || rest.length > 0) return undefined
      try {
        const decipher = createDecipheriv("aes-256-gcm", encryptionKey, Buffer.from(iv, "base64url"))
        decipher.setAAD(Buffer.from(boundTo, "utf8"))
        decipher.setAuthTag(Buffer.from(tag, "base64url"))
        const plain = Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()])
        return Redacted.make(plain.toString("utf8"))
      } catch {
        return undefined
      }
    },
    sign,
    verify: (message, signature) => {
      const expected = Buffer.from(sign(message), "utf8")
      const given = Buffer.from(signature, "utf8")
      return expected.length === given.length && timingSafeEqual(expected, given)
    }
  }
}
