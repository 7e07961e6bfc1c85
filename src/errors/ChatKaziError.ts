/**
 * Every failure a tool can end in. Each error carries what the gateway said (when it said
 * anything), and its `message` is the guidance: what happened and what the model (or the person
 * reading a log) should do next.
 */
import { Schema } from "effect"

const GatewayMessage = Schema.optional(Schema.String)

const said = (message: string | undefined) => (message ? ` ChatKazi said: "${message}".` : "")

export class MissingApiKey extends Schema.TaggedError<MissingApiKey>()("MissingApiKey", {}) {
  override get message() {
    return "CHATKAZI_API_KEY is not set, so nothing was sent to ChatKazi. Ask the user to copy their API key " +
      "from the ChatKazi dashboard into the \"env\" block of this server's entry in their MCP host config " +
      "(e.g. \"env\": { \"CHATKAZI_API_KEY\": \"…\" }) and restart the host. To try it without an account, " +
      "they can start it with --sandbox instead (\"args\": [\"-y\", \"chatkazi-mcp\", \"--sandbox\"]): a simulated " +
      "gateway that sends nothing to WhatsApp."
  }
}

export class InvalidConfig extends Schema.TaggedError<InvalidConfig>()("InvalidConfig", {
  setting: Schema.String,
  problem: Schema.String
}) {
  override get message() {
    return `The setting ${this.setting} is invalid: ${this.problem}. Nothing was sent. Ask the user to fix it ` +
      "in the \"env\" block of this server's entry in their MCP host config and restart the host."
  }
}

export class InvalidInput extends Schema.TaggedError<InvalidInput>()("InvalidInput", {
  problems: Schema.Array(Schema.String)
}) {
  override get message() {
    return `The arguments were not valid, so nothing was sent:\n${this.problems.map((p) => `- ${p}`).join("\n")}\n` +
      "Fix every problem listed and call the tool again."
  }
}

export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", {
  status: Schema.Number,
  gatewayMessage: GatewayMessage
}) {
  override get message() {
    return `ChatKazi rejected the API key (HTTP ${this.status}).${said(this.gatewayMessage)} This is a credential ` +
      "configuration problem, not something a retry fixes: ask the user to check CHATKAZI_API_KEY in their MCP " +
      "host config against the key in their ChatKazi dashboard."
  }
}

export class LimitReached extends Schema.TaggedError<LimitReached>()("LimitReached", {
  gatewayMessage: GatewayMessage
}) {
  override get message() {
    return `ChatKazi refused because the account reached its plan limit (HTTP 402).${said(this.gatewayMessage)} ` +
      "Do not retry and do not try to create more sessions or send more messages. Tell the user their ChatKazi " +
      "plan limit was reached (for example the WhatsApp instance limit) and that they can upgrade their plan or " +
      "free up an existing session."
  }
}

export class Conflict extends Schema.TaggedError<Conflict>()("Conflict", {
  gatewayMessage: GatewayMessage
}) {
  override get message() {
    return `ChatKazi reported a conflict (HTTP 409): the session is already active or in a state that does not ` +
      `allow this.${said(this.gatewayMessage)} Call get_session_status to see its state; if it must be restarted, call ` +
      "logout_session first and then start_session."
  }
}

export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", {
  gatewayMessage: GatewayMessage
}) {
  override get message() {
    return `ChatKazi does not know that session (HTTP 404).${said(this.gatewayMessage)} Call list_sessions to see the ` +
      "session ids this account has, or start_session to create one."
  }
}

export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", {
  status: Schema.Number,
  gatewayMessage: GatewayMessage
}) {
  override get message() {
    return `ChatKazi rejected the request as invalid (HTTP ${this.status}).${said(this.gatewayMessage)} Check the ` +
      "arguments (recipient number in international format, a session that exists and is connected) and correct " +
      "them before calling again."
  }
}

export class RateLimited extends Schema.TaggedError<RateLimited>()("RateLimited", {
  retryAfterSeconds: Schema.optional(Schema.Number),
  gatewayMessage: GatewayMessage
}) {
  override get message() {
    const wait = this.retryAfterSeconds === undefined ? "a minute" : `${this.retryAfterSeconds} seconds`
    return `ChatKazi is rate limiting this account (HTTP 429).${said(this.gatewayMessage)} Nothing more was sent. Wait ` +
      `${wait} before trying again, and slow down: bursts of messages get WhatsApp numbers banned.`
  }
}

export class PaceLimited extends Schema.TaggedError<PaceLimited>()("PaceLimited", {
  sessionId: Schema.String,
  maxPerMinute: Schema.Number,
  retryAfterSeconds: Schema.Number
}) {
  override get message() {
    return `Refused, nothing was sent: session "${this.sessionId}" already sent ${this.maxPerMinute} messages in ` +
      `the last minute, the most CHATKAZI_MAX_SENDS_PER_MINUTE allows. Wait ${this.retryAfterSeconds} seconds ` +
      "before sending again. Sending in bursts gets WhatsApp numbers banned; if the user really needs a higher " +
      "pace they can raise CHATKAZI_MAX_SENDS_PER_MINUTE in their MCP host config."
  }
}

export class RecipientNotAllowed extends Schema.TaggedError<RecipientNotAllowed>()("RecipientNotAllowed", {
  to: Schema.String
}) {
  override get message() {
    return `Refused, nothing was sent: ${this.to} is not on the allowlist set by CHATKAZI_ALLOWED_RECIPIENTS. ` +
      "Do not try another way to reach this number. If the user wants to message it, they must add it to " +
      "CHATKAZI_ALLOWED_RECIPIENTS in their MCP host config themselves."
  }
}

export class ReadOnlyMode extends Schema.TaggedError<ReadOnlyMode>()("ReadOnlyMode", {
  tool: Schema.String
}) {
  override get message() {
    return `Refused, nothing was sent: ${this.tool} changes things, and this server runs with ` +
      "CHATKAZI_READ_ONLY=true, which allows only the tools that change nothing (listing and reading sessions " +
      "and incoming messages, and waiting). Tell the user; they can turn read-only mode off in their MCP host config."
  }
}

export class UpstreamUnavailable extends Schema.TaggedError<UpstreamUnavailable>()("UpstreamUnavailable", {
  status: Schema.optional(Schema.Number),
  gatewayMessage: GatewayMessage
}) {
  override get message() {
    const what = this.status === undefined ? "an answer that was not JSON" : `HTTP ${this.status}`
    return `ChatKazi is having trouble (${what}).${said(this.gatewayMessage)} Wait a little and try again; if it keeps ` +
      "failing, tell the user the ChatKazi gateway seems to be down."
  }
}

export class Timeout extends Schema.TaggedError<Timeout>()("Timeout", {
  timeoutMs: Schema.Number
}) {
  override get message() {
    return `ChatKazi did not answer within ${this.timeoutMs} ms (CHATKAZI_TIMEOUT_MS). Try again in a moment; ` +
      "if it keeps happening the gateway may be down or the user may raise CHATKAZI_TIMEOUT_MS."
  }
}

export class Transport extends Schema.TaggedError<Transport>()("Transport", {
  /** What failed, e.g. `ECONNREFUSED` or a certificate problem. */
  reason: Schema.String,
  /** False only when the connection failed before anything was sent (refused, unknown host). */
  mayHaveArrived: Schema.Boolean,
  /** The CHATKAZI_BASE_URL that could not be reached. */
  baseUrl: Schema.optional(Schema.String)
}) {
  override get message() {
    const where = this.baseUrl === undefined ? "" : ` at ${this.baseUrl}`
    return `Could not reach ChatKazi${where}: ${this.reason}. Check the network connection and CHATKAZI_BASE_URL, ` +
      "then try again."
  }
}

export class DeliveryUncertain extends Schema.TaggedError<DeliveryUncertain>()("DeliveryUncertain", {
  operation: Schema.String,
  reason: Schema.String,
  /** Set when this call repeated an identical send whose delivery was already uncertain, and sent nothing. */
  repeated: Schema.optional(Schema.Boolean)
}) {
  override get message() {
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
  gatewayMessage: GatewayMessage
}) {
  override get message() {
    return `The media file at ${this.url} could not be downloaded or is empty (0 bytes).${said(this.gatewayMessage)} ` +
      "The URL is probably wrong, private, expired or blocked for downloads. Nothing was sent. Use a direct, " +
      "public link to the file itself (one that downloads the file, not a web page that shows it)."
  }
}

export class MediaUnreachable extends Schema.TaggedError<MediaUnreachable>()("MediaUnreachable", {
  url: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `The media URL ${this.url} cannot be used: ${this.reason}. Nothing was sent. ChatKazi has to download ` +
      "the file itself, so use a direct link to the file on a public https server (not a page, a private or " +
      "local address, or a link that needs a login)."
  }
}

export class InboxUnavailable extends Schema.TaggedError<InboxUnavailable>()("InboxUnavailable", {
  reason: Schema.String
}) {
  override get message() {
    return `The store of incoming messages could not be reached (${this.reason}), so no messages could be read. ` +
      "Try again in a moment; if it keeps failing, tell the user (with CHATKAZI_REDIS_URL set, Redis may be down)."
  }
}

export class StateUnavailable extends Schema.TaggedError<StateUnavailable>()("StateUnavailable", {
  reason: Schema.String
}) {
  override get message() {
    return `Refused, nothing was sent: the shared store (CHATKAZI_REDIS_URL) through which this server's replicas ` +
      `make sure a message goes out only once cannot be reached (${this.reason}). Without it a message could be ` +
      "sent twice, so sends stop until it answers again; reading sessions still works. Try the send again in a " +
      "minute; if it keeps failing, tell the user that the Redis behind this server is down."
  }
}

export class ConfirmationRefused extends Schema.TaggedError<ConfirmationRefused>()("ConfirmationRefused", {
  /** mismatch: issued for other arguments; unknown: never issued (or for another account). */
  reason: Schema.Literal("mismatch", "expired", "used", "unknown")
}) {
  override get message() {
    const why = {
      mismatch: "it was issued for a different message: a code only confirms exactly the session, recipient and " +
        "content it was shown with",
      expired: "it has expired (a code is valid for 10 minutes)",
      used: "it was already used (a code confirms one send)",
      unknown: "this server did not issue it"
    }[this.reason]
    return `Refused, nothing was sent: the confirmationCode was not accepted because ${why}. Do not guess or reuse ` +
      "codes. If the user still wants this message sent, call the tool again without confirmationCode to get a " +
      "fresh preview and code, show the preview to the user, and repeat the call with the new code only after they agree."
  }
}

export class ConfirmationFailed extends Schema.TaggedError<ConfirmationFailed>()("ConfirmationFailed", {
  reason: Schema.String
}) {
  override get message() {
    return `Not sent: this server needs the user's approval before sending, and the approval could not be ` +
      `completed (${this.reason}). Nothing was sent. Tell the user; if the problem passes, try once more.`
  }
}

/** The failures a ChatKazi call or a tool can end in; each one's `message` is guidance for the model. */
export const ChatKaziError = Schema.Union(
  MissingApiKey,
  InvalidConfig,
  InvalidInput,
  Unauthorized,
  LimitReached,
  Conflict,
  NotFound,
  InvalidRequest,
  RateLimited,
  PaceLimited,
  RecipientNotAllowed,
  ReadOnlyMode,
  UpstreamUnavailable,
  Timeout,
  Transport,
  DeliveryUncertain,
  StateUnavailable,
  InboxUnavailable,
  EmptyMedia,
  MediaUnreachable,
  ConfirmationRefused,
  ConfirmationFailed
)
export type ChatKaziError = typeof ChatKaziError.Type

/** The members of `ChatKaziError` with these tags. */
export type ChatKaziErrorOf<Tag extends ChatKaziError["_tag"]> = Extract<ChatKaziError, { readonly _tag: Tag }>

/** True for any member of `ChatKaziError`. */
export const isChatKaziError: (value: unknown) => value is ChatKaziError = Schema.is(ChatKaziError)
