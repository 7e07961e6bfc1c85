/**
 * The media check for sandbox mode. The live check requests the URL; this one applies the
 * sandbox's rules instead (`MediaRules`), so sandbox mode makes no request to the internet.
 * The link is still refused for the reasons the live check refuses it without a request.
 */
import { Effect, Layer } from "effect"
import { EmptyMedia, type MediaUnreachable } from "../errors/ChatKaziError.js"
import { type MediaFacts, MediaProbe, precheckMediaUrl } from "../services/MediaProbe.js"
import { guessMimetype, isEmptyMediaUrl } from "./MediaRules.js"

export const checkSandboxMedia = (raw: string): Effect.Effect<MediaFacts, EmptyMedia | MediaUnreachable> =>
  Effect.flatMap(precheckMediaUrl(raw, false), () => {
    if (isEmptyMediaUrl(raw)) {
      return Effect.fail(
        new EmptyMedia({ url: raw, gatewayMessage: "sandbox rule: links whose path contains 'empty' are empty files" })
      )
    }
    const mimetype = guessMimetype(raw)
    return Effect.succeed(mimetype === undefined ? {} : { mimetype })
  })

export const layer: Layer.Layer<MediaProbe> = Layer.succeed(MediaProbe, { check: checkSandboxMedia })
