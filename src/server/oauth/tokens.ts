/**
 * The shape of every credential this authorization server hands out: a recognisable prefix and 256
 * random bits. The prefix is what keeps the two kinds of bearer apart: a `ckmcp_` string is looked
 * up as one of our tokens and never forwarded to ChatKazi; anything else is a ChatKazi key and is
 * never looked up. Only the SHA-256 of a token is stored.
 */
import { createHash, randomBytes } from "node:crypto"

export const TOKEN_PREFIX = "ckmcp_"

export const TokenKind = {
  accessToken: "ckmcp_at_",
  refreshToken: "ckmcp_rt_",
  authorizationCode: "ckmcp_ac_"
} as const

export type TokenKind = keyof typeof TokenKind

export const newToken = (kind: TokenKind): string => TokenKind[kind] + randomBytes(32).toString("base64url")

/** A fresh random id for records that are not handed out (token families). */
export const newId = (): string => randomBytes(16).toString("base64url")

/** Whether `bearer` claims to be one of ours (whatever its kind, valid or not). */
export const isOurs = (bearer: string): boolean => bearer.startsWith(TOKEN_PREFIX)

export const isKind = (token: string, kind: TokenKind): boolean => token.startsWith(TokenKind[kind])

/** The storage name of a token: its hex SHA-256, never the token itself. */
export const tokenHash = (token: string): string => createHash("sha256").update(token, "utf8").digest("hex")
