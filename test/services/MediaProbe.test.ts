import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Option, TestClock } from "effect"
import { isPrivateHost, MediaProbe } from "../../src/services/MediaProbe.js"
import { hang, makeFakeHttp, respond, transportFailure, type FakeHttp } from "../support/FakeHttpClient.js"
import { configLayer, type TestSettings } from "../support/gateway.js"

/** The live probe over `fake`, for a gateway at `settings.baseUrl` (public by default). */
const probeWith = (fake: FakeHttp, settings: TestSettings = {}) =>
  Effect.provide(MediaProbe, MediaProbe.layer.pipe(Layer.provide(Layer.merge(fake.layer, configLayer(settings)))))

const FILE = "https://cdn.example.com/media/cake.jpg"
const PATH = "/media/cake.jpg"

describe("isPrivateHost", () => {
  it.each([
    ["10.0.0.1", true],
    ["10.255.255.255", true],
    ["172.16.0.1", true],
    ["172.31.255.254", true],
    ["172.15.0.1", false],
    ["172.32.0.1", false],
    ["192.168.1.20", true],
    ["192.169.1.20", false],
    ["127.0.0.1", true],
    ["127.8.9.10", true],
    ["0.0.0.0", true],
    ["169.254.169.254", true],
    ["100.64.0.1", true],
    ["100.127.255.255", true],
    ["100.63.255.255", false],
    ["100.128.0.1", false],
    ["::1", true],
    ["[::1]", true],
    ["fc00::1", true],
    ["fd12:3456:789a::1", true],
    ["fe80::1", true],
    ["[fe80::abcd]", true],
    ["::ffff:127.0.0.1", true],
    ["::ffff:7f00:1", true],
    ["localhost", true],
    ["localhost.", true],
    ["LOCALHOST", true],
    ["api.localhost", true],
    ["printer.local", true],
    ["metadata.google.internal", true],
    ["8.8.8.8", false],
    ["1.1.1.1", false],
    ["2001:4860:4860::8888", false],
    ["[2606:4700::1111]", false],
    ["cdn.example.com", false],
    ["api.chatkazi.app", false],
    ["localhost.example.com", false],
    ["10.example.com", false]
  ])("%s → %s", (host, expected) => {
    expect(isPrivateHost(host)).toBe(expected)
  })
})

describe("MediaProbe.layer: links that are refused without being fetched", () => {
  it.effect.each([
    ["cake.jpg", "not a URL"],
    ["ftp://cdn.example.com/cake.jpg", "only http and https"],
    ["file:///etc/passwd", "only http and https"],
    ["data:image/png;base64,iVBORw0KGgo=", "only http and https"],
    ["https://user:secret@cdn.example.com/cake.jpg", "user name or password"],
    ["https://:token@cdn.example.com/cake.jpg", "user name or password"],
    ["http://192.168.1.20/cake.jpg", "private or local address"],
    ["http://localhost:3000/cake.jpg", "private or local address"],
    ["http://[::1]/cake.jpg", "private or local address"],
    ["http://169.254.169.254/latest/meta-data", "private or local address"],
    ["http://2130706433/cake.jpg", "127.0.0.1 is a private"],
    ["http://0x7f.1/cake.jpg", "127.0.0.1 is a private"],
    ["http://[::ffff:192.168.0.1]/cake.jpg", "private or local address"],
    ["http://localhost./cake.jpg", "private or local address"],
    ["http://nas.local./cake.jpg", "private or local address"]
  ] as const)("%s is MediaUnreachable (%s)", ([url, reason]) =>
    Effect.gen(function*() {
      const fake = makeFakeHttp()
      const error = yield* Effect.flip((yield* probeWith(fake)).check(url))
      expect(error).toMatchObject({ _tag: "MediaUnreachable", url })
      expect(error._tag === "MediaUnreachable" && error.reason).toContain(reason)
      expect(error.message).toContain("Nothing was sent")
      expect(fake.requests).toEqual([])
    }))

  it.effect("a private host is checked when the gateway itself runs on a private address", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route(
        "HEAD",
        "/cake.jpg",
        respond(200, "", { "content-type": "image/jpeg", "content-length": "10" })
      )
      const probe = yield* probeWith(fake, { baseUrl: "http://127.0.0.1:8787/api/v1" })
      expect(yield* probe.check("http://192.168.1.20/cake.jpg")).toStrictEqual({ mimetype: "image/jpeg", size: 10 })
      expect(fake.requests.map((r) => `${r.method} ${r.url}`)).toEqual(["HEAD http://192.168.1.20/cake.jpg"])
    }))
})

describe("MediaProbe.layer: asking the file's server", () => {
  it.effect("HEAD 200 gives the type (without parameters) and size, with one request and no API key", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route(
        "HEAD",
        PATH,
        respond(200, "", { "content-type": "Image/JPEG; charset=binary", "content-length": "48213" })
      )
      expect(yield* (yield* probeWith(fake)).check(FILE)).toStrictEqual({ mimetype: "image/jpeg", size: 48_213 })
      expect(fake.requests).toHaveLength(1)
      expect(fake.requests[0]!.method).toBe("HEAD")
      expect(fake.requests[0]!.url).toBe(FILE)
      expect(fake.requests[0]!.headers).not.toHaveProperty("x-api-key")
    }))

  it.effect("a server that says nothing about the file gives no facts, not a failure", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route("HEAD", PATH, respond(200))
      expect(yield* (yield* probeWith(fake)).check(FILE)).toStrictEqual({})
    }))

  it.effect("HEAD 405 falls back to a one-byte ranged GET and reads the size from Content-Range", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp()
        .route("HEAD", PATH, respond(405))
        .route("GET", PATH, respond(206, "x", { "content-type": "image/png", "content-range": "bytes 0-0/52344", "content-length": "1" }))
      expect(yield* (yield* probeWith(fake)).check(FILE)).toStrictEqual({ mimetype: "image/png", size: 52_344 })
      expect(fake.requests.map((r) => r.method)).toEqual(["HEAD", "GET"])
      expect(fake.requests[1]!.headers["range"]).toBe("bytes=0-0")
    }))

  it.effect("a ranged GET the server answers in full (200) uses Content-Length", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp()
        .route("HEAD", PATH, respond(403))
        .route("GET", PATH, respond(200, "abc", { "content-type": "audio/ogg", "content-length": "3" }))
      expect(yield* (yield* probeWith(fake)).check(FILE)).toStrictEqual({ mimetype: "audio/ogg", size: 3 })
    }))

  it.effect("404 is MediaUnreachable naming the status", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route("HEAD", PATH, respond(404)).route("GET", PATH, respond(404, "not found"))
      const error = yield* Effect.flip((yield* probeWith(fake)).check(FILE))
      expect(error).toMatchObject({ _tag: "MediaUnreachable", url: FILE, reason: "its server answered HTTP 404" })
    }))

  it.effect("a file of 0 bytes (HEAD says so, the ranged GET confirms) is EmptyMedia", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp()
        .route("HEAD", PATH, respond(200, "", { "content-type": "image/jpeg", "content-length": "0" }))
        .route("GET", PATH, respond(200, "", { "content-type": "image/jpeg", "content-length": "0" }))
      const error = yield* Effect.flip((yield* probeWith(fake)).check(FILE))
      expect(error).toMatchObject({ _tag: "EmptyMedia", url: FILE })
      expect(error.message).toContain("0 bytes")
      expect(fake.requests.map((r) => r.method)).toEqual(["HEAD", "GET"])
    }))

  it.effect("a HEAD that says 0 bytes for a file that has some (a dynamic server) is not refused", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp()
        .route("HEAD", PATH, respond(200, "", { "content-type": "image/jpeg", "content-length": "0" }))
        .route("GET", PATH, respond(206, "x", { "content-type": "image/jpeg", "content-range": "bytes 0-0/5000" }))
      expect(yield* (yield* probeWith(fake)).check(FILE)).toStrictEqual({ mimetype: "image/jpeg", size: 5_000 })
    }))

  it.effect("an empty file seen through a ranged GET (416, */0) is EmptyMedia", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp()
        .route("HEAD", PATH, respond(405))
        .route("GET", PATH, respond(416, "", { "content-range": "bytes */0" }))
      const error = yield* Effect.flip((yield* probeWith(fake)).check(FILE))
      expect(error._tag).toBe("EmptyMedia")
    }))

  it.effect("a server that never answers is MediaUnreachable after the media check timeout", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route("HEAD", PATH, hang)
      const probe = yield* probeWith(fake, { mediaCheckTimeoutMs: 4_000 })
      const fiber = yield* Effect.fork(Effect.flip(probe.check(FILE)))
      yield* TestClock.adjust("3999 millis")
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      yield* TestClock.adjust("1 millis")
      const error = yield* Fiber.join(fiber)
      expect(error).toMatchObject({ _tag: "MediaUnreachable", reason: "its server did not answer within 4 s" })
      expect(fake.inFlight()).toBe(0)
    }))

  it.effect("a server that refuses the connection is MediaUnreachable naming the cause", () =>
    Effect.gen(function*() {
      const fake = makeFakeHttp().route("HEAD", PATH, transportFailure("ECONNREFUSED"))
      const error = yield* Effect.flip((yield* probeWith(fake)).check(FILE))
      expect(error).toMatchObject({ _tag: "MediaUnreachable", reason: "its server could not be reached (ECONNREFUSED)" })
    }))
})

describe("MediaProbe.layerTrusting", () => {
  it.effect("trusts every link without asking anyone", () =>
    Effect.gen(function*() {
      const probe = yield* Effect.provide(MediaProbe, MediaProbe.layerTrusting)
      expect(yield* probe.check("http://192.168.1.20/anything")).toStrictEqual({})
    }))
})
