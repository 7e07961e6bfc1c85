/**
 * Receiving in `--sandbox` mode: what the simulator's contacts send lands in the Inbox directly,
 * through the same decoder a webhook body goes through, for the sandbox's one account. No webhook,
 * no secret, no port.
 */
import { Effect, FiberSet, Layer, Option } from "effect"
import { Account } from "../services/Account.js"
import { Inbox } from "../services/Inbox.js"
import { decodeWebhookPayload } from "../services/internal/webhookPayload.js"
import { StateStore } from "../services/StateStore.js"
import { HookIds, WebhookAddress } from "../services/WebhookConfig.js"
import { SANDBOX_API_KEY } from "./SandboxGateway.js"
import { SandboxConfig } from "./SandboxConfig.js"
import { SimulatedContacts } from "./SimulatedContacts.js"
import { Simulator } from "./Simulator.js"

const Forwarding: Layer.Layer<never, never, Simulator | Inbox | Account> = Layer.scopedDiscard(
  Effect.gen(function*() {
    const simulator = yield* Simulator
    const inbox = yield* Inbox
    const account = yield* Account
    // Closing the layer interrupts what is still being stored.
    const run = yield* FiberSet.makeRuntime<never>()
    yield* simulator.watchInbound((payload) => {
      run(Effect.ignoreLogged(inbox.receive(account.id, decodeWebhookPayload(payload, new Date()))))
    })
  })
)

export const SandboxReceiving: Layer.Layer<Account | Inbox | HookIds | WebhookAddress, never, Simulator | SandboxConfig> =
  Layer.mergeAll(Forwarding, SimulatedContacts).pipe(
    Layer.provideMerge(Layer.mergeAll(
      Inbox.layerMemory.pipe(Layer.provide(StateStore.layerMemory)),
      Account.layerKey(SANDBOX_API_KEY),
      Layer.succeed(HookIds, HookIds.make(Option.none())),
      Layer.succeed(WebhookAddress, { _tag: "Sandbox" })
    ))
  )
