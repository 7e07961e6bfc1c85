/**
 * What a ChatKazi answer means: a JSON body to decode, or the typed error its status stands for.
 */
import { Either } from "effect"
import {
  type ChatKaziErrorOf,
  Conflict,
  InvalidConfig,
  InvalidRequest,
  LimitReached,
  NotFound,
  RateLimited,
  Unauthorized,
  UpstreamUnavailable
} from "../../errors/ChatKaziError.js"
import { gatewayMessage, isFields } from "./Responses.js"

/** What an answer's status can stand for. */
export type GatewayFailure = ChatKaziErrorOf<
  "InvalidConfig" | "Unauthorized" | "LimitReached" | "Conflict" | "NotFound" | "InvalidRequest" | "RateLimited" | "UpstreamUnavailable"
>

export interface GatewayAnswer {
  readonly status: number
  readonly body: string
  readonly retryAfter?: string | undefined
  readonly location?: string | undefined
}

export const interpretAnswer = (answer: GatewayAnswer, now: number): Either.Either<unknown, GatewayFailure> => {
  const json = parseJson(answer.body)
  const { status } = answer
  if (status >= 300 && status < 400) {
    // Redirects are not followed: the x-api-key header would go along to wherever they point.
    return Either.left(
      new InvalidConfig({
        setting: "CHATKAZI_BASE_URL",
        problem: `the gateway answered with a redirect (HTTP ${status}${answer.location ? ` to ${answer.location}` : ""}), ` +
          "which this server does not follow so the API key goes nowhere else; set it to the address the gateway " +
          "really answers on (https, with the /api/v1 path)"
      })
    )
  }
  const said = Either.isRight(json) ? gatewayMessage(json.right) : undefined
  if (status >= 200 && status < 300) {
    if (Either.isLeft(json)) return Either.left(notJson(answer.body))
    // An envelope that says it failed is a refusal, whatever the status: never report it as done.
    if (isFields(json.right) && json.right.success === false) return Either.left(new InvalidRequest({ status, gatewayMessage: said }))
    return Either.right(json.right)
  }
  if (status === 401 || status === 403) return Either.left(new Unauthorized({ status, gatewayMessage: said }))
  if (status === 402) return Either.left(new LimitReached({ gatewayMessage: said }))
  if (status === 404) return Either.left(new NotFound({ gatewayMessage: said }))
  if (status === 409) return Either.left(new Conflict({ gatewayMessage: said }))
  if (status === 429) {
    const retryAfterSeconds = parseRetryAfter(answer.retryAfter, now)
    return Either.left(new RateLimited({ gatewayMessage: said, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) }))
  }
  if (status === 408 || status >= 500) {
    return Either.left(new UpstreamUnavailable({ status, gatewayMessage: said ?? snippet(answer.body) }))
  }
  return Either.left(new InvalidRequest({ status, gatewayMessage: said }))
}

const parseJson = (body: string): Either.Either<unknown, undefined> => {
  if (body.trim() === "") return Either.right({})
  try {
    return Either.right(JSON.parse(body))
  } catch {
    return Either.left(undefined)
  }
}

const notJson = (body: string) => new UpstreamUnavailable({ gatewayMessage: snippet(body) })

const snippet = (body: string): string | undefined => {
  const text = body.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim()
  return text === "" ? undefined : text.length > 120 ? `${text.slice(0, 117)}...` : text
}

/** `Retry-After` as seconds from now: either a number of seconds or an HTTP date. */
export const parseRetryAfter = (header: string | undefined, now: number): number | undefined => {
  if (header === undefined || header.trim() === "") return undefined
  const seconds = Number(header)
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds))
  const date = Date.parse(header)
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000))
}
