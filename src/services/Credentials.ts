/**
 * What a credential may look like, one rule for every place that takes one: the ChatKazi API key
 * from the environment or the login page, a bearer token, an HTTP access token. And how a bearer
 * travels in an `Authorization` header.
 */

/**
 * Visible ASCII without spaces: all a header carries as it is. Anything else could only fail later,
 * in the HTTP client, whose complaint would quote the value back.
 */
export const isWellFormedKey = (value: string): boolean => /^[\x21-\x7e]+$/.test(value)

/** Why a value is not well formed, in words that do not quote it. */
export const MALFORMED_KEY = "it contains spaces, line breaks, control or non-ASCII characters"

/** The token of an `Authorization: Bearer <token>` header (the scheme in any case), if any. */
export const bearerToken = (authorization: string | undefined): string | undefined =>
  authorization?.match(/^Bearer[ \t]+(\S+)[ \t]*$/i)?.[1]
