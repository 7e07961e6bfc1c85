/**
 * `chatkazi-mcp/testing`: layers for running the tool programs with no network, in tests and
 * examples. Nothing here reaches ChatKazi or WhatsApp.
 */
import { Layer, Option } from "effect"
import { Account } from "./services/Account.js"
import { Confirmations } from "./services/Confirmations.js"
import { ChatKazi } from "./services/ChatKazi.js"
import type { ChatKaziTest } from "./services/ChatKaziTest.js"
import { Inbox } from "./services/Inbox.js"
import { MediaProbe } from "./services/MediaProbe.js"
import { SafetyConfig, type SafetySettings } from "./services/SafetyConfig.js"
import { SendGuard } from "./services/SendGuard.js"
import { StateStore } from "./services/StateStore.js"
import { HookIds } from "./services/WebhookConfig.js"
import type { ToolServices } from "./tools/registry.js"

export { ChatKaziTest, type ChatKaziTestApi, type Operation, type RecordedCall } from "./services/ChatKaziTest.js"

export interface ToolsTestOptions {
  /** The in-memory gateway's sessions and their states; by default one connected session, `default`. */
  readonly sessions?: Readonly<Record<string, string>>
  /** The send guards' settings; by default the command's defaults (30 s duplicate window, 20 sends a minute, anyone). */
  readonly safety?: Partial<SafetySettings>
  /** How media links are checked; by default every link is trusted and nothing is requested. */
  readonly mediaProbe?: Layer.Layer<MediaProbe>
}

/**
 * Every service the tool programs need, in memory: `Effect.provide(tool.run(input), layerTools())`
 * runs any tool. Also provides `ChatKaziTest`, to see what reached the gateway or make it fail, and
 * `SafetyConfig`. Each build is fresh: nothing is shared between tests.
 */
export const layerTools = (
  options: ToolsTestOptions = {}
): Layer.Layer<ToolServices | ChatKaziTest | SafetyConfig> =>
  Layer.mergeAll(
    ChatKazi.layerTest(options.sessions ?? { default: "connected" }),
    Layer.merge(SendGuard.layerTest(options.safety), Confirmations.layer.pipe(
      Layer.provide(Layer.sync(SafetyConfig, () => SafetyConfig.make(options.safety))),
      Layer.provide(StateStore.layerMemory)
    )),
    options.mediaProbe ?? MediaProbe.layerTrusting,
    Inbox.layer.pipe(Layer.provideMerge(StateStore.layerMemory)),
    Layer.succeed(HookIds, HookIds.make(Option.none())),
    Account.layerKey("chatkazi-mcp-testing")
  )
