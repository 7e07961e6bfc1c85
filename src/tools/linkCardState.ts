/**
 * The linking card's own tool (visible to the app only, see LinkCard.ts): one look at a session as
 * the card shows it, its state and, while it waits for a scan, the current QR. The card calls it
 * every few seconds, so it makes at most two gateway reads and never changes anything.
 */
import { Effect, Schema } from "effect"
import { ChatKazi } from "../services/ChatKazi.js"
import { SessionId } from "./Inputs.js"
import { forLinkCardOnly } from "./LinkCard.js"
import { guideFor, isWaitingForPhone } from "./SessionLifecycle.js"
import { defineTool } from "./Tool.js"

const QrKind = Schema.Literal("payload", "image", "link", "none").annotations({
  description: "payload: the raw WhatsApp QR text; image: a data: URL of a QR image; link: a web page; none: no QR now."
})

export const linkCardState = defineTool({
  name: "link_card_state",
  title: "Linking card: session state and current QR",
  description:
    "Used by the linking card only: the session's state and, while it waits for the phone, the current QR code " +
    "and pairing code.",
  input: Schema.Struct({ sessionId: SessionId }),
  output: Schema.Struct({
    sessionId: Schema.String,
    state: Schema.optional(Schema.String),
    meaning: Schema.String,
    linked: Schema.Boolean,
    qrKind: QrKind,
    qr: Schema.optional(Schema.String),
    pairingCode: Schema.optional(Schema.String)
  }),
  annotations: { readOnlyHint: true, openWorldHint: true },
  ui: forLinkCardOnly,
  run: ({ sessionId }) =>
    Effect.gen(function*() {
      const chatKazi = yield* ChatKazi
      const session = yield* chatKazi.sessionStatus(sessionId)
      // A QR that cannot be fetched this time is not a failure of the look: the next poll tries again.
      const shown = isWaitingForPhone(session.state)
        ? yield* chatKazi.sessionQr(sessionId).pipe(
          Effect.tapError((error) => Effect.logWarning(`the linking card could not fetch the QR (${error._tag})`)),
          Effect.orElseSucceed(() => undefined)
        )
        : undefined
      const state = shown?.state ?? session.state
      const pairingCode = shown?.pairingCode ?? session.pairingCode
      const qr = shown?.qr
      const qrKind: typeof QrKind.Type = qr === undefined ? "none" : kindOf(qr)
      const { meaning } = guideFor(state)
      return {
        data: {
          sessionId,
          ...(state === undefined ? {} : { state }),
          meaning,
          linked: state === "connected",
          qrKind,
          ...(qr === undefined ? {} : { qr }),
          ...(pairingCode === undefined ? {} : { pairingCode })
        },
        text: `Session "${sessionId}": ${state ?? "state unknown"} (${meaning}).` +
          (qrKind === "none" ? "" : " The card shows the current QR code.")
      }
    })
})

const kindOf = (qr: string): "payload" | "image" | "link" =>
  /^data:image\//i.test(qr) ? "image" : /^https?:\/\//i.test(qr) ? "link" : "payload"
