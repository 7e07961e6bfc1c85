/**
 * `resolveBearer` as express middleware, for an HTTP transport that wants it ready-made: on success
 * the request goes on with `res.locals.bearer` set; a refusal is answered here with 401 and the
 * `WWW-Authenticate` challenge, an unreachable token store with 503.
 */
import { Cause, type Effect, Exit, Option, Runtime } from "effect"
import type { RequestHandler } from "express"
import type { StoreUnavailable } from "../../services/StateStore.js"
import { type Bearer, bearerToken, type Unauthenticated } from "./bearer.js"

export const makeRequireBearer = <R>(
  resolveBearer: (token: string | undefined) => Effect.Effect<Bearer, Unauthenticated | StoreUnavailable>,
  runtime: Runtime.Runtime<R>
): RequestHandler =>
async (req, res, next) => {
  const exit = await Runtime.runPromiseExit(runtime)(resolveBearer(bearerToken(req.headers.authorization)))
  if (Exit.isSuccess(exit)) {
    res.locals["bearer"] = exit.value
    return next()
  }
  const failure = Cause.failureOption(exit.cause)
  if (Option.isSome(failure) && failure.value._tag === "Unauthenticated") {
    res.status(401).set("WWW-Authenticate", failure.value.wwwAuthenticate).json({
      error: failure.value.error ?? "unauthorized",
      error_description: failure.value.description
    })
    return
  }
  res.status(503).json({ error: "temporarily_unavailable", error_description: "the token store cannot be reached; try again" })
}
