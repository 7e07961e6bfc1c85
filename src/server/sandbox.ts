/**
 * `chatkazi-mcp --sandbox`: the stdio MCP server on the in-process simulator. No API key, no
 * network, and every result starts by saying it is the sandbox. Loaded only when asked for.
 */
import { Effect, Layer } from "effect"
import type { ChatKaziError } from "../errors/ChatKaziError.js"
import { Account } from "../services/Account.js"
import { messagesResource } from "./messagesResource.js"
import { serveStdio } from "./stdio.js"
import type { AnyTool } from "../tools/Tool.js"
import { SandboxConfig, type SandboxSettings } from "../sandbox/SandboxConfig.js"
import * as SandboxGateway from "../sandbox/SandboxGateway.js"
import { SandboxReceiving } from "../sandbox/SandboxReceiving.js"
import { sandboxMessages } from "../tools/sandboxMessages.js"

export const SANDBOX_NOTICE =
  "[SANDBOX] This is the chatkazi-mcp sandbox, a simulated ChatKazi gateway on this computer: no real WhatsApp " +
  "message was sent and no phone is linked."

const INSTRUCTIONS =
  "This server runs in sandbox mode: ChatKazi is simulated on the user's computer, so nothing reaches WhatsApp. " +
  "Sessions connect by themselves a few seconds after their QR code is fetched (no phone needed). Links whose path " +
  "contains \"empty\" count as empty files. sandbox_messages lists what the sandbox received. Simulated contacts " +
  "answer a text a few seconds later: wait_for_message and list_messages show their replies."

export interface SandboxModeOptions<R> {
  readonly name: string
  readonly version: string
  readonly tools: ReadonlyArray<AnyTool>
  /** The send guards and their settings, as in live mode. */
  readonly guards: Layer.Layer<R, ChatKaziError>
  readonly settings?: Partial<SandboxSettings>
}

export const serveSandbox = <R>(options: SandboxModeOptions<R>): Effect.Effect<void> =>
  Effect.zipRight(
    Effect.logInfo("Sandbox mode: ChatKazi is simulated in this process; nothing is sent to WhatsApp."),
    serveStdio({
      name: options.name,
      version: options.version,
      tools: [...options.tools, sandboxMessages],
      layer: Layer.mergeAll(
        SandboxReceiving.pipe(
          Layer.provide(SandboxConfig.layer(options.settings)),
          Layer.provideMerge(SandboxGateway.layer(options.settings))
        ),
        options.guards,
        Account.layerKey("sandbox")
      ),
      notice: SANDBOX_NOTICE,
      instructions: INSTRUCTIONS,
      resources: (runtime, server) => [messagesResource(runtime, (uri) => server.sendResourceUpdated({ uri }))]
    })
  )
