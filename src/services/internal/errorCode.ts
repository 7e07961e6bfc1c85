/**
 * The first `code` in an error's `cause` chain: where Node and undici put `ECONNREFUSED` and friends,
 * under fetch's bare "fetch failed".
 */
export const errorCode = (error: unknown): string | undefined => {
  for (let current = error, depth = 0; current !== null && typeof current === "object" && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === "string") return code
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}
