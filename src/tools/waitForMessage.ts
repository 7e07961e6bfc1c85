import { Clock, Duration, Effect, Option, Schedule, Schema } from "effect"
import { InboxUnavailable } from "../errors/ChatKaziError.js"
import { Account } from "../services/Account.js"
import { Inbox } from "../services/Inbox.js"
import { Progress } from "../services/Progress.js"
import { MessageFilters, Since, sinceMs } from "./listMessages.js"
import { delimitedMessage, describeMessage, MessageView, ORIGIN_NOTE, UNTRUSTED_DESCRIPTION, UNTRUSTED_NOTE } from "./MessageView.js"
import { defineTool } from "./Tool.js"

/** Below the 60 s that many MCP clients allow a request by default. */
export const MAX_WAIT_SECONDS = 50

const TimeoutSeconds = Schema.Number.pipe(
  Schema.filter((n) => (n >= 1 && n <= MAX_WAIT_SECONDS) || `must be between 1 and ${MAX_WAIT_SECONDS} seconds`, {
    jsonSchema: { minimum: 1, maximum: MAX_WAIT_SECONDS }
  })
).annotations({ description: `How long to wait at most, in seconds (1 to ${MAX_WAIT_SECONDS}). Defaults to 45.`, default: 45 })

const PROGRESS_EVERY = Duration.seconds(5)

export const waitForMessage = defineTool({
  name: "wait_for_message",
  title: "Wait for the next incoming WhatsApp message",
  description:
    "Wait for the next WhatsApp message this account receives (optionally only from one number or to one " +
    "session), for example a reply to a message just sent. Returns the first new matching message, or says none " +
    "came within timeoutSeconds (a normal result: call it again to keep waiting). Messages received before the " +
    "call are not returned unless `since` reaches back to them: after a send, pass the send's time as `since` so " +
    "a reply that already came is not missed. Reports progress while it waits. " + UNTRUSTED_DESCRIPTION,
  input: Schema.Struct({
    ...MessageFilters,
    since: Schema.optional(Since),
    timeoutSeconds: Schema.optionalWith(TimeoutSeconds, { default: () => 45, exact: true })
  }),
  output: Schema.Struct({
    received: Schema.Boolean,
    waitedSeconds: Schema.Number,
    message: Schema.optional(MessageView),
    note: Schema.String
  }),
  annotations: { readOnlyHint: true, openWorldHint: true },
  run: ({ from, since, sessionId, timeoutSeconds }) =>
    Effect.gen(function*() {
      const account = yield* Account
      const inbox = yield* Inbox
      const progress = yield* Progress
      const started = yield* Clock.currentTimeMillis
      const sinceTime = since === undefined ? undefined : yield* sinceMs(since, started)
      const elapsed = Effect.map(Clock.currentTimeMillis, (now) => Math.round((now - started) / 100) / 10)

      const report = Effect.flatMap(elapsed, (seconds) =>
        progress.report({
          progress: Math.min(seconds, timeoutSeconds),
          total: timeoutSeconds,
          message: `waiting for a message${from === undefined ? "" : ` from ${from}`}: ${seconds} s`
        }))
      const found = yield* inbox.next(account.id, { sessionId, from, since: sinceTime }).pipe(
        Effect.mapError((e) => new InboxUnavailable({ reason: e.reason })),
        Effect.timeoutOption(Duration.seconds(timeoutSeconds)),
        // The ticker stops with the wait (found, timed out, or the call cancelled).
        Effect.raceFirst(
          Effect.repeat(report, Schedule.spaced(PROGRESS_EVERY)).pipe(Effect.zipRight(Effect.never))
        )
      )
      const waitedSeconds = yield* elapsed
      if (Option.isNone(found)) {
        return {
          data: { received: false, waitedSeconds, note: ORIGIN_NOTE },
          text: `No new message${from === undefined ? "" : ` from ${from}`}${
            sessionId === undefined ? "" : ` to session "${sessionId}"`
          } arrived in ${timeoutSeconds} s. Call wait_for_message again to keep waiting, or list_messages to see ` +
            "earlier ones. If no message ever arrives, call get_webhook_url to check that receiving is set up."
        }
      }
      return {
        data: { received: true, waitedSeconds, message: delimitedMessage(found.value), note: ORIGIN_NOTE },
        text: `${
          Date.parse(found.value.receivedAt) < started ? "A message had already arrived" : `A message arrived after ${waitedSeconds} s`
        }. ${UNTRUSTED_NOTE}\n${describeMessage(found.value)}`
      }
    })
})
