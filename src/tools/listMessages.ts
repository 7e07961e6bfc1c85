import { Clock, Effect, Schema } from "effect"
import { InboxUnavailable, InvalidInput } from "../errors/ChatKaziError.js"
import { Account } from "../services/Account.js"
import { Inbox } from "../services/Inbox.js"
import { Recipient, SessionId } from "./Inputs.js"
import { describeMessages, MessageList, structuredMessages, UNTRUSTED_DESCRIPTION, UNTRUSTED_NOTE } from "./MessageView.js"
import { defineTool } from "./Tool.js"

/** Filters shared by list_messages and wait_for_message. */
export const MessageFilters = {
  sessionId: Schema.optional(SessionId.annotations({ description: "Only messages to this session." })),
  from: Schema.optional(
    Recipient.annotations({
      description: "Only messages from this number, in international format (e.g. \"254712345678\"); +, spaces and " +
        "dashes are accepted and removed."
    })
  )
}

export const Since = Schema.Union(
  Schema.Number.pipe(
    Schema.filter((n) => n >= 0 || "must be a number of seconds ago (0 or more)", { jsonSchema: { minimum: 0 } })
  ),
  Schema.String
).annotations({
  description: "Only messages received since then: an ISO 8601 time (\"2026-11-25T09:00:00Z\") or a number of " +
    "seconds ago (3600 = the last hour)."
})

const Limit = Schema.Number.pipe(
  Schema.filter((n) => (Number.isInteger(n) && n >= 1 && n <= 100) || "must be a whole number from 1 to 100", {
    jsonSchema: { minimum: 1, maximum: 100 }
  })
).annotations({ description: "How many messages at most, 1 to 100. Defaults to 20.", default: 20 })

/** `since` as milliseconds since the epoch. */
export const sinceMs = (since: number | string, now: number): Effect.Effect<number, InvalidInput> => {
  if (typeof since === "number") return Effect.succeed(now - since * 1000)
  if (/^\d+(\.\d+)?$/.test(since.trim())) return Effect.succeed(now - Number(since) * 1000)
  const parsed = Date.parse(since)
  return Number.isNaN(parsed) || !/^\d{4}-\d{2}-\d{2}/.test(since.trim())
    ? Effect.fail(new InvalidInput({
      problems: [`since: "${since}" is neither an ISO 8601 time (e.g. 2026-11-25T09:00:00Z) nor a number of seconds ago`]
    }))
    : Effect.succeed(parsed)
}

export const listMessages = defineTool({
  name: "list_messages",
  title: "List incoming WhatsApp messages",
  description:
    "List the WhatsApp messages this account received through ChatKazi's webhook, newest first, with sender " +
    "number and name, session, time, type, text or caption and media details. Messages the account sent itself " +
    "are left out unless includeOwn is true. Needs receiving to be set up (see get_webhook_url). " +
    UNTRUSTED_DESCRIPTION,
  input: Schema.Struct({
    ...MessageFilters,
    since: Schema.optional(Since),
    limit: Schema.optionalWith(Limit, { default: () => 20, exact: true }),
    includeOwn: Schema.optionalWith(
      Schema.Boolean.annotations({ description: "Also list messages the account sent itself. Defaults to false.", default: false }),
      { default: () => false, exact: true }
    )
  }),
  output: Schema.Struct(MessageList),
  annotations: { readOnlyHint: true, openWorldHint: true },
  run: ({ from, includeOwn, limit, sessionId, since }) =>
    Effect.gen(function*() {
      const account = yield* Account
      const inbox = yield* Inbox
      const now = yield* Clock.currentTimeMillis
      const filter = {
        sessionId,
        from,
        includeOwn,
        since: since === undefined ? undefined : yield* sinceMs(since, now)
      }
      const messages = yield* inbox.list(account.id, filter, limit).pipe(
        Effect.mapError((e) => new InboxUnavailable({ reason: e.reason }))
      )
      const text = messages.length === 0
        ? "No incoming messages match. Messages arrive through ChatKazi's webhook: if none ever arrive, call " +
          "get_webhook_url to check that receiving is set up; to wait for the next one, call wait_for_message."
        : `${messages.length} incoming message(s), newest first. ${UNTRUSTED_NOTE}\n${describeMessages(messages)}`
      return { data: structuredMessages(messages), text }
    })
})
