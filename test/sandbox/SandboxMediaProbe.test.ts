import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { guessMimetype, isEmptyMediaUrl } from "../../src/sandbox/MediaRules.js"
import { checkSandboxMedia } from "../../src/sandbox/SandboxMediaProbe.js"

describe("the sandbox's media check (no request is made: it has no HttpClient to make one with)", () => {
  it.effect("treats links whose path contains \"empty\" as empty files", () =>
    Effect.gen(function*() {
      expect(isEmptyMediaUrl("https://files.example/Empty-Photo.JPG")).toBe(true)
      expect(isEmptyMediaUrl("https://empty.example/photo.jpg")).toBe(false)
      expect(isEmptyMediaUrl("https://files.example/photo.jpg?empty=1")).toBe(false)
      expect(yield* Effect.flip(checkSandboxMedia("https://files.example/empty.jpg"))).toMatchObject({ _tag: "EmptyMedia" })
    }))

  it.effect("takes the MIME type from the extension", () =>
    Effect.gen(function*() {
      expect(yield* checkSandboxMedia("https://files.example/a/song.mp3")).toEqual({ mimetype: "audio/mpeg" })
      expect(yield* checkSandboxMedia("https://files.example/page")).toEqual({})
      expect(guessMimetype("https://files.example/index.html")).toBe("text/html")
    }))

  it.effect("refuses what the live check refuses without a request", () =>
    Effect.gen(function*() {
      for (const url of ["not a url", "ftp://files.example/a.jpg", "https://user:pw@files.example/a.jpg", "http://192.168.1.2/a.jpg"]) {
        expect(yield* Effect.flip(checkSandboxMedia(url))).toMatchObject({ _tag: "MediaUnreachable" })
      }
    }))
})
