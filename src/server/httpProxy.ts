/**
 * Whose `X-Forwarded-For` the HTTP server believes (express's `trust proxy`). It decides the client
 * address the OAuth endpoints' per-IP rate limits count by: believing every peer would let anyone
 * dodge the limits with a made-up header; believing none puts every user behind a reverse proxy
 * into one shared bucket.
 *
 * - `CHATKAZI_TRUST_PROXY` set: a hop count (`1`: the one proxy in front), or a comma-separated
 *   list of proxy addresses or subnets (`10.0.0.0/8`, `loopback`), or `false`.
 * - Unset: `loopback` when the server listens on loopback (then only a proxy on this machine can
 *   put outside users in front of it, and local callers could do anything anyway), else `false`.
 */
import { Config, Effect } from "effect"
import express from "express"
import { InvalidConfig } from "../errors/ChatKaziError.js"
import { setting } from "../services/ChatKaziConfig.js"
import { isLoopback } from "./httpAccess.js"

export type TrustProxy = false | number | ReadonlyArray<string>

export const readTrustProxy = (host: string): Effect.Effect<TrustProxy, InvalidConfig> =>
  setting("CHATKAZI_TRUST_PROXY", Config.string("CHATKAZI_TRUST_PROXY").pipe(Config.withDefault(""))).pipe(
    Effect.flatMap((raw) => parseTrustProxy(raw.trim(), host))
  )

export const parseTrustProxy = (raw: string, host: string): Effect.Effect<TrustProxy, InvalidConfig> => {
  if (raw === "") return Effect.succeed(isLoopback(host) ? ["loopback"] : false)
  if (raw === "false") return Effect.succeed(false)
  if (/^\d{1,2}$/.test(raw)) return Effect.succeed(Number(raw))
  const list = raw.split(",").map((part) => part.trim()).filter((part) => part !== "")
  // Express compiles the list when it is set, and throws on an address it cannot read.
  return Effect.try({
    try: () => {
      express().set("trust proxy", list)
      return list
    },
    catch: () =>
      new InvalidConfig({
        setting: "CHATKAZI_TRUST_PROXY",
        problem: `"${raw}" is not a hop count, "false", or a list of proxy addresses or subnets ` +
          "(like 1, or 10.0.0.0/8,loopback)"
      })
  })
}
