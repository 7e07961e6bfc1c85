/**
 * Everything the tools need from "the gateway" in sandbox mode: the live ChatKazi service talking
 * to an in-process simulator, and the sandbox's media check. The simulator itself is provided too,
 * for the sandbox-only tool that lists what it received.
 */
import { Layer } from "effect"
import { ChatKazi } from "../services/ChatKazi.js"
import { ChatKaziConfig } from "../services/ChatKaziConfig.js"
import type { MediaProbe } from "../services/MediaProbe.js"
import { SandboxConfig, type SandboxSettings } from "./SandboxConfig.js"
import * as SandboxHttpClient from "./SandboxHttpClient.js"
import * as SandboxMediaProbe from "./SandboxMediaProbe.js"
import { Simulator } from "./Simulator.js"

/** `.invalid` never resolves (RFC 2606): even a request that escaped the simulator would go nowhere. */
export const SANDBOX_BASE_URL = "http://chatkazi-sandbox.invalid/api/v1"
export const SANDBOX_API_KEY = "sandbox"

/** Use as `SandboxGateway.layer(settings)`. */
export const layer = (
  settings: Partial<SandboxSettings> = {}
): Layer.Layer<ChatKazi | MediaProbe | Simulator> =>
  Layer.mergeAll(ChatKazi.layer, SandboxMediaProbe.layer).pipe(
    Layer.provide(Layer.succeed(ChatKaziConfig, ChatKaziConfig.make({ apiKey: SANDBOX_API_KEY, baseUrl: SANDBOX_BASE_URL }))),
    Layer.provide(SandboxHttpClient.layer),
    Layer.provideMerge(Simulator.layer),
    Layer.provide(SandboxConfig.layer(settings))
  )
