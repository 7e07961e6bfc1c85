/**
 * The sandbox's contacts answer: a text sent to a number gets a reply from that number
 * `replyAfterMs` later, posted the way ChatKazi posts an incoming message (a Baileys-style
 * `messages.upsert` event), so it goes through the same decoder as a real webhook.
 */
import { Clock, Duration, Effect, FiberSet, Layer } from "effect"
import { SandboxConfig } from "./SandboxConfig.js"
import { type AcceptedMessage, Simulator } from "./Simulator.js"

/** What a simulated contact answers to a text. */
export const replyPayload = (sent: AcceptedMessage & { kind: "text" }, replyNumber: number, now: number) => ({
  event: "messages.upsert",
  sessionId: sent.sessionId,
  data: {
    key: { remoteJid: `${sent.to}@s.whatsapp.net`, fromMe: false, id: `SANDBOX-REPLY-${replyNumber}` },
    pushName: `Sandbox contact ${sent.to.slice(-4)}`,
    messageTimestamp: Math.floor(now / 1000),
    message: {
      conversation: `Thanks, I got your message ("${sent.text.length > 60 ? `${sent.text.slice(0, 57)}...` : sent.text}"). ` +
        "(An automatic reply from a simulated contact in the chatkazi-mcp sandbox.)"
    }
  }
})

/** While the layer lives, contacts answer texts; pending replies are dropped when it closes. */
export const SimulatedContacts: Layer.Layer<never, never, Simulator | SandboxConfig> = Layer.scopedDiscard(
  Effect.gen(function*() {
    const { replyAfterMs } = yield* SandboxConfig
    if (replyAfterMs === undefined) return
    const simulator = yield* Simulator
    const run = yield* FiberSet.makeRuntime<never>()
    let replies = 0
    yield* simulator.watchSent((sent) => {
      if (sent.kind !== "text") return
      const replyNumber = ++replies
      run(
        Effect.sleep(Duration.millis(replyAfterMs)).pipe(
          Effect.zipRight(Clock.currentTimeMillis),
          Effect.flatMap((now) => simulator.inject(replyPayload(sent, replyNumber, now)))
        )
      )
    })
  })
)
