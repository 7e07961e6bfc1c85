/**
 * The media check for sandbox mode. The live check requests the URL; this one applies the
 * sandbox's rules instead (`MediaRules`), so sandbox mode makes no request to the internet.
 * The link is still refused for the reasons the live check refuses it without a request.
 */
import { Effect, Layer } from "effect"
import { EmptyMedia, MediaUnreachable } from "../errors/ChatKaziError.js"
import { isPrivateHost, type MediaFacts, MediaProbe } from "../services/MediaProbe.js"
import { guessMimetype, isEmptyMediaUrl } from "./MediaRules.js"

export const checkSandboxMedia = (raw: string): Effect.Effect<MediaFacts, EmptyMedia | MediaUnreachable> => {
  const unreachable = (reason: string) => Effect.fail(new MediaUnreachable({ url: raw, reason }))
  if (!URL.canParse(raw)) return unreachable("it is not a URL")
  const url = new URL(raw)
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return unreachable(`only http and https links can be sent, not ${url.protocol}`)
  }
  if (url.username || url.password) return unreachable("it carries a user name or password")
  if (isPrivateHost(url.hostname)) {
    return unreachable(`${url.hostname} is a private or local address that ChatKazi cannot reach`)
  }
  if (isEmptyMediaUrl(raw)) {
    return Effect.fail(
      new EmptyMedia({ url: raw, message: "sandbox rule: links whose path contains 'empty' are empty files" })
    )
  }
  const mimetype = guessMimetype(raw)
  return Effect.succeed(mimetype === undefined ? {} : { mimetype })
}

export const SandboxMediaProbe: Layer.Layer<MediaProbe> = Layer.succeed(MediaProbe, { check: checkSandboxMedia })
