/**
 * An `HttpClient` whose requests never leave the process: the platform's fetch client, with
 * `fetch` replaced by the simulator app's web handler. The live ChatKazi service runs unchanged
 * on top of it (URLs, headers, JSON bodies, statuses), but no socket is opened, no port is taken,
 * and a request can reach nothing but the simulator.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpApp from "@effect/platform/HttpApp"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpRouter from "@effect/platform/HttpRouter"
import { Effect, Layer } from "effect"
import { Simulator } from "./Simulator.js"
import { SimulatorApp } from "./SimulatorApp.js"

/** The simulator as a `fetch`: a web `Request` in, a web `Response` out. */
export const simulatorFetch: Effect.Effect<typeof globalThis.fetch, never, Simulator> = Effect.gen(function*() {
  const runtime = yield* Effect.runtime<Simulator>()
  const handler = HttpApp.toWebHandlerRuntime(runtime)(yield* HttpRouter.toHttpApp(SimulatorApp))
  return ((input: string | URL | Request, init?: RequestInit) => handler(new Request(input, init))) as typeof globalThis.fetch
})

export const layer: Layer.Layer<HttpClient.HttpClient, never, Simulator> = FetchHttpClient.layer.pipe(
  Layer.provide(Layer.effect(FetchHttpClient.Fetch, simulatorFetch))
)
