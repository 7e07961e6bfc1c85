import { Effect, Option, Schema } from "effect"
import { Account } from "../services/Account.js"
import { ChatKazi } from "../services/ChatKazi.js"
import { StateStore } from "../services/StateStore.js"
import { HookIds, WEBHOOK_PATH, WebhookAddress } from "../services/WebhookConfig.js"
import { NoArguments } from "./Inputs.js"
import { defineTool } from "./Tool.js"

const KEEP_SECRET = "Treat the URL like a password: anyone who has it can post messages into this inbox."

/** How long a key ChatKazi accepted is trusted here without asking again. */
export const KEY_CONFIRMED_FOR_MS = 10 * 60_000

/**
 * A hook id lets whoever holds it write into the account's inbox, and in http mode any bearer reaches
 * this tool, so an id is handed out only for a key ChatKazi accepts (one list_sessions call; a rejected
 * key fails with the usual Unauthorized guidance). The confirmation is remembered per account on the
 * store for a while, so asking again (on any replica) stays fast; a store that cannot be read only
 * costs the call.
 */
const confirmKey = (account: string) =>
  Effect.gen(function*() {
    const store = yield* StateStore
    const key = `webhook-key-confirmed:${account}`
    if ((yield* store.get(key).pipe(Effect.orElseSucceed(() => undefined))) !== undefined) return
    yield* (yield* ChatKazi).listSessions
    yield* store.set(key, "1", KEY_CONFIRMED_FOR_MS).pipe(Effect.ignore)
  })

export const getWebhookUrl = defineTool({
  name: "get_webhook_url",
  title: "Get the webhook URL for receiving WhatsApp messages",
  description:
    "The URL to paste into the ChatKazi dashboard's webhook setting so that incoming WhatsApp messages reach this " +
    "server (and list_messages / wait_for_message), or what the user must set up first when receiving is off. " +
    "Confirms the API key with ChatKazi first. Changes nothing.",
  input: NoArguments,
  output: Schema.Struct({
    receiving: Schema.Boolean,
    url: Schema.optional(Schema.String),
    /** The part after the origin, for a user who puts the listener behind a tunnel of their own. */
    path: Schema.optional(Schema.String),
    via: Schema.Literal("public-url", "local-listener", "sandbox", "none"),
    nextStep: Schema.String
  }),
  annotations: { readOnlyHint: true, openWorldHint: true },
  run: () =>
    Effect.gen(function*() {
      const account = yield* Account
      const hookIds = yield* HookIds
      const address = yield* WebhookAddress
      if (address._tag === "Sandbox") {
        const nextStep = "This is the sandbox: simulated contacts answer a text a few seconds after it is sent, and " +
          "their replies arrive in list_messages and wait_for_message without any webhook. With a real ChatKazi " +
          "account, this tool gives the URL to paste into the dashboard."
        return { data: { receiving: true, via: "sandbox" as const, nextStep }, text: nextStep }
      }
      const hookId = hookIds.forAccount(account.id)
      if (Option.isNone(hookId)) {
        const nextStep = "Receiving is off because CHATKAZI_SECRET is not set. Ask the user to set CHATKAZI_SECRET " +
          "to a long random value (e.g. the output of `openssl rand -hex 32`) in this server's environment, plus " +
          "CHATKAZI_WEBHOOK_PORT (stdio, on their computer) or CHATKAZI_PUBLIC_URL (a hosted server), and restart it."
        return { data: { receiving: false, via: "none" as const, nextStep }, text: nextStep }
      }
      yield* confirmKey(account.id)
      const path = `${WEBHOOK_PATH}${hookId.value}`
      switch (address._tag) {
        case "None": {
          const nextStep = address.problem === undefined
            ? "Receiving is not set up. On the user's computer, set CHATKAZI_WEBHOOK_PORT (e.g. 8788) so this server " +
              "listens for the webhook, and expose that port with a tunnel; on a hosted server (http mode), set " +
              "CHATKAZI_PUBLIC_URL. Then restart and call get_webhook_url again."
            : `Receiving is off: ${address.problem}. Ask the user to set CHATKAZI_WEBHOOK_PORT to a port that is free ` +
              "on their computer (or fix the setting named), restart this server, and call get_webhook_url again."
          return { data: { receiving: false, path, via: "none" as const, nextStep }, text: nextStep }
        }
        case "Public": {
          const url = `${address.origin}${path}`
          const nextStep = "Ask the user to paste this URL into the webhook setting of the ChatKazi dashboard. " +
            `Incoming messages then show up in list_messages and wake wait_for_message. ${KEEP_SECRET}`
          return { data: { receiving: true, url, path, via: "public-url" as const, nextStep }, text: `${url}\n${nextStep}` }
        }
        case "Listener": {
          const url = `${address.origin}${path}`
          const nextStep = `This server listens for the webhook at ${url}, which only works on this computer: ChatKazi ` +
            "cannot reach it from the internet. Ask the user to expose the port with a tunnel (for example " +
            `\`cloudflared tunnel --url ${address.origin}\` or \`ngrok http ${address.origin.split(":").pop()}\`) and ` +
            `paste the tunnel's https address followed by ${path} into the webhook setting of the ChatKazi dashboard. ` +
            KEEP_SECRET
          return { data: { receiving: true, url, path, via: "local-listener" as const, nextStep }, text: nextStep }
        }
      }
    })
})
