/**
 * Every failure a tool can end in. Each error carries what the gateway said (when it said
 * anything) and renders `guidance`: what happened and what the model should do next.
 */
import { Schema } from "effect"

const GatewayMessage = Schema.optional(Schema.String)

const said = (message: string | undefined) => (message ? ` ChatKazi said: "${message}".` : "")

export class MissingApiKey extends Schema.TaggedError<MissingApiKey>()("MissingApiKey", {}) {
  get guidance() {
    return "CHATKAZI_API_KEY is not set, so nothing was sent to ChatKazi. Ask the user to copy their API key " +
      "from the ChatKazi dashboard into the \"env\" block of this server's entry in their MCP host config " +
      "(e.g. \"env\": { \"CHATKAZI_API_KEY\": \"…\" }) and restart the host."
  }
}

export class InvalidConfig extends Schema.TaggedError<InvalidConfig>()("InvalidConfig", {
  setting: Schema.String,
  problem: Schema.String
}) {
  get guidance() {
    return `The setting ${this.setting} is invalid: ${this.problem}. Nothing was sent. Ask the user to fix it ` +
      "in the \"env\" block of this server's entry in their MCP host config and restart the host."
  }
}

export class InvalidInput extends Schema.TaggedError<InvalidInput>()("InvalidInput", {
  problems: Schema.Array(Schema.String)
}) {
  get guidance() {
    return `The arguments were not valid, so nothing was sent:\n${this.problems.map((p) => `- ${p}`).join("\n")}\n` +
      "Fix every problem listed and call the tool again."
  }
}

export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", {
  status: Schema.Number,
  message: GatewayMessage
}) {
  get guidance() {
    return `ChatKazi rejected the API key (HTTP ${this.status}).${said(this.message)} This is a credential ` +
      "configuration problem, not something a retry fixes: ask the user to check CHATKAZI_API_KEY in their MCP " +
      "host config against the key in their ChatKazi dashboard."
  }
}

export class LimitReached extends Schema.TaggedError<LimitReached>()("LimitReached", {
  message: GatewayMessage
}) {
  get guidance() {
    return `ChatKazi refused because the account reached its plan limit (HTTP 402).${said(this.message)} ` +
      "Do not retry and do not try to create more sessions or send more messages. Tell the user their ChatKazi " +
      "plan limit was reached (for example the WhatsApp instance limit) and that they can upgrade their plan or " +
      "free up an existing session."
  }
}

export class Conflict extends Schema.TaggedError<Conflict>()("Conflict", {
  message: GatewayMessage
}) {
  get guidance() {
    return `ChatKazi reported a conflict (HTTP 409): the session is already active or in a state that does not ` +
      `allow this.${said(this.message)} Call get_session_status to see its state; if it must be restarted, call ` +
      "logout_session first and then start_session."
  }
}

export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", {
  message: GatewayMessage
}) {
  get guidance() {
    return `ChatKazi does not know that session (HTTP 404).${said(this.message)} Call list_sessions to see the ` +
      "session ids this account has, or start_session to create one."
  }
}

export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", {
  status: Schema.Number,
  message: GatewayMessage
}) {
  get guidance() {
    return `ChatKazi rejected the request as invalid (HTTP ${this.status}).${said(this.message)} Check the ` +
      "arguments (recipient number in international format, a session that exists and is connected) and correct " +
      "them before calling again."
  }
}

export class RateLimited extends Schema.TaggedError<RateLimited>()("RateLimited", {
  retryAfterSeconds: Schema.optional(Schema.Number),
  message: GatewayMessage
}) {
  get guidance() {
    const wait = this.retryAfterSeconds === undefined ? "a minute" : `${this.retryAfterSeconds} seconds`
    return `ChatKazi is rate limiting this account (HTTP 429).${said(this.message)} Nothing more was sent. Wait ` +
      `${wait} before trying again, and slow down: bursts of messages get WhatsApp numbers banned.`
  }
}

export class PaceLimited extends Schema.TaggedError<PaceLimited>()("PaceLimited", {
  sessionId: Schema.String,
  maxPerMinute: Schema.Number,
  retryAfterSeconds: Schema.Number
}) {
  get guidance() {
    return `Refused, nothing was sent: session "${this.sessionId}" already sent ${this.maxPerMinute} messages in ` +
      `the last minute, the most CHATKAZI_MAX_SENDS_PER_MINUTE allows. Wait ${this.retryAfterSeconds} seconds ` +
      "before sending again. Sending in bursts gets WhatsApp numbers banned; if the user really needs a higher " +
      "pace they can raise CHATKAZI_MAX_SENDS_PER_MINUTE in their MCP host config."
  }
}

export class RecipientNotAllowed extends Schema.TaggedError<RecipientNotAllowed>()("RecipientNotAllowed", {
  to: Schema.String
}) {
  get guidance() {
    return `Refused, nothing was sent: ${this.to} is not on the allowlist set by CHATKAZI_ALLOWED_RECIPIENTS. ` +
      "Do not try another way to reach this number. If the user wants to message it, they must add it to " +
      "CHATKAZI_ALLOWED_RECIPIENTS in their MCP host config themselves."
  }
}

export class ReadOnlyMode extends Schema.TaggedError<ReadOnlyMode>()("ReadOnlyMode", {
  tool: Schema.String
}) {
  get guidance() {
    return `Refused, nothing was sent: ${this.tool} changes things, and this server runs with ` +
      "CHATKAZI_READ_ONLY=true, which allows only the tools that change nothing (listing and reading sessions " +
      "and incoming messages, and waiting). Tell the user; they can turn read-only mode off in their MCP host config."
  }
}

export class UpstreamUnavailable extends Schema.TaggedError<UpstreamUnavailable>()("UpstreamUnavailable", {
  status: Schema.optional(Schema.Number),
  message: GatewayMessage
}) {
  get guidance() {
    const what = this.status === undefined ? "an answer that was not JSON" : `HTTP ${this.status}`
    return `ChatKazi is having trouble (${what}).${said(this.message)} Wait a little and try again; if it keeps ` +
      "failing, tell the user the ChatKazi gateway seems to be down."
  }
}

export class Timeout extends Schema.TaggedError<Timeout>()("Timeout", {
  timeoutMs: Schema.Number
}) {
  get guidance() {
    return `ChatKazi did not answer within ${this.timeoutMs} ms (CHATKAZI_TIMEOUT_MS). Try again in a moment; ` +
      "if it keeps happening the gateway may be down or the user may raise CHATKAZI_TIMEOUT_MS."
  }
}

export class Transport extends Schema.TaggedError<Transport>()("Transport", {
  message: Schema.String,
  /** False only when the connection failed before anything was sent (refused, unknown host). */
  mayHaveArrived: Schema.Boolean
}) {
  get guidance() {
    return `Could not reach ChatKazi: ${this.message}. Check the network connection and CHATKAZI_BASE_URL, then ` +
      "try again."
  }
}

export class DeliveryUncertain extends Schema.TaggedError<DeliveryUncertain>()("DeliveryUncertain", {
  operation: Schema.String,
  reason: Schema.String,
  /** Set when this call repeated an identical send whose delivery was already uncertain, and sent nothing. */
  repeated: Schema.optional(Schema.Boolean)
}) {
  get guidance() {
    if (this.repeated) {
      return `Not sent: an identical ${this.operation} was attempted moments ago and its delivery is uncertain ` +
        `(${this.reason}). Sending it again could deliver the same WhatsApp message twice. Tell the user and ` +
        "check with the recipient first; if it really did not arrive, it can be sent again once " +
        "CHATKAZI_DEDUPE_WINDOW_SECONDS has passed."
    }
    const what = `The ${this.operation} request reached ChatKazi but no clear answer came back (${this.reason}), so ` +
      "it may or may not have taken effect. It was deliberately not retried"
    return this.operation.startsWith("send_")
      ? `${what}: a second attempt could send the same WhatsApp message twice. Do not call it again blindly; ` +
        "tell the user, and check first (ask the recipient, or look at the phone)."
      : `${what}. Do not call it again blindly: call get_session_status to see what state the session is in now.`
  }
}

export class EmptyMedia extends Schema.TaggedError<EmptyMedia>()("EmptyMedia", {
  url: Schema.String,
  message: GatewayMessage
}) {
  get guidance() {
    return `The media file at ${this.url} could not be downloaded or is empty (0 bytes).${said(this.message)} ` +
      "The URL is probably wrong, private, expired or blocked for downloads. Nothing was sent. Use a direct, " +
      "public link to the file itself (one that downloads the file, not a web page that shows it)."
  }
}

export class MediaUnreachable extends Schema.TaggedError<MediaUnreachable>()("MediaUnreachable", {
  url: Schema.String,
  reason: Schema.String
}) {
  get guidance() {
    return `The media URL ${this.url} cannot be used: ${this.reason}. Nothing was sent. ChatKazi has to download ` +
      "the file itself, so use a direct link to the file on a public https server (not a page, a private or " +
      "local address, or a link that needs a login)."
  }
}

/** The failures a ChatKazi call or a tool can end in; each renders guidance for the model. */
export type ChatKaziError =
  | MissingApiKey
  | InvalidConfig
  | InvalidInput
  | Unauthorized
  | LimitReached
  | Conflict
  | NotFound
  | InvalidRequest
  | RateLimited
  | PaceLimited
  | RecipientNotAllowed
  | ReadOnlyMode
  | UpstreamUnavailable
  | Timeout
  | Transport
  | DeliveryUncertain
  | EmptyMedia
  | MediaUnreachable
  | InboxUnavailable

export class InboxUnavailable extends Schema.TaggedError<InboxUnavailable>()("InboxUnavailable", {
  reason: Schema.String
}) {
  get guidance() {
    return `The store of incoming messages could not be reached (${this.reason}), so no messages could be read. ` +
      "Try again in a moment; if it keeps failing, tell the user (with CHATKAZI_REDIS_URL set, Redis may be down)."
  }
}
