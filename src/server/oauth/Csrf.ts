/**
 * CSRF protection for the login form, with no server-side state (so any replica accepts a form
 * another replica served): a random nonce in an HttpOnly, SameSite=Strict cookie, and a hidden
 * field that signs the nonce, the time and the authorization request the form was served for.
 * A POST passes only with the cookie, an untampered field, and the same request parameters.
 */
import { randomBytes } from "node:crypto"
import type { Sealing } from "./Sealing.js"

export const CSRF_COOKIE = "ckmcp_csrf"
export const CSRF_FIELD = "csrf"
/** How long the page may sit open before its form is refused. */
export const CSRF_MAX_AGE_MS = 30 * 60 * 1000

export interface CsrfPair {
  readonly cookieValue: string
  readonly field: string
}

const message = (nonce: string, issuedAt: number, binding: string) => `${nonce}|${issuedAt}|${binding}`

export const issueCsrf = (sealing: Sealing, binding: string, now: number): CsrfPair => {
  const nonce = randomBytes(18).toString("base64url")
  return { cookieValue: nonce, field: `${now}.${sealing.sign(message(nonce, now, binding))}` }
}

export const verifyCsrf = (
  sealing: Sealing,
  binding: string,
  cookieValue: string | undefined,
  field: unknown,
  now: number
): boolean => {
  if (cookieValue === undefined || cookieValue === "" || typeof field !== "string") return false
  const [issuedAtText, signature, ...rest] = field.split(".")
  const issuedAt = Number(issuedAtText)
  if (rest.length > 0 || signature === undefined || !Number.isSafeInteger(issuedAt)) return false
  if (now - issuedAt > CSRF_MAX_AGE_MS || issuedAt > now + 60_000) return false
  return sealing.verify(message(cookieValue, issuedAt, binding), signature)
}

export const csrfCookie = (value: string, secure: boolean, maxAgeMs = CSRF_MAX_AGE_MS): string =>
  `${CSRF_COOKIE}=${value}; Path=/authorize; Max-Age=${Math.floor(maxAgeMs / 1000)}; HttpOnly; SameSite=Strict` +
  (secure ? "; Secure" : "")

/** The value of one cookie from a `Cookie` header. */
export const readCookie = (header: string | undefined, name: string): string | undefined => {
  for (const part of (header ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=")
    if (key === name) return value.join("=")
  }
  return undefined
}
