/**
 * Property-based fuzzing (issue 4) of every tool's arguments through one built server process:
 * valid and invalid arguments (wrong types, missing fields, blank and huge strings, odd unicode,
 * numbers for strings, extra fields), against a gateway whose answers are fuzzed too.
 *
 * Validity is decided here, by construction, not by asking the server: valid arguments come from
 * generators that only build valid values (with the request they must cause), invalid ones from a
 * valid case with exactly one thing broken. Then, call by call:
 * - every answer is a well-formed CallToolResult (the SDK parses it), none hangs, none crashes;
 * - invalid arguments: an "arguments were not valid" isError, and not one request reaches the
 *   gateway (neither the API nor a media probe);
 * - valid arguments: exactly the request we predicted (method, path, query, body), a send exactly
 *   once, and a success's structuredContent valid against the tool's outputSchema;
 * and overall: stdout carried JSON-RPC only, and the API key appeared in no output at all.
 */
import type { CallToolResult, Tool } from "@modelcontextprotocol/sdk/types.js"
import * as fc from "effect/FastCheck"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { McpHarness, outputSchemaProblems, SECRET_API_KEY, textOf } from "../support/McpHarness.js"
import { type RecordedRequest, type Reply, ScriptedGateway } from "../support/ScriptedGateway.js"

const RUNS = 2_500

// ---------------------------------------------------------------------------------------------
// Field generators: valid ones yield [raw value sent, value the gateway must receive].

type Valid<A = unknown> = fc.Arbitrary<readonly [unknown, A]>

const same = <A>(arb: fc.Arbitrary<A>): Valid<A> => arb.map((a) => [a, a] as const)

/** Characters String.prototype.trim removes. */
const blank = fc.array(fc.constantFrom(" ", "\t", "\n", "\r", "\u00a0", "\u2003", "\u3000", "\ufeff"), { maxLength: 6 })
  .map((chars) => chars.join(""))

/** Odd unicode: graphemes, lone surrogates, NUL, bidi controls, zero-width joiners. */
const oddText = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom("\u0000", "\u202e\u0645\u0631\u062d\u0628\u0627", "👩‍👩‍👧‍👦", "e\u0301\u0301", "\ud800", "\udfff", "🇰🇪", "<script>")
)

/** Non-blank: starts with a visible character, then anything. */
const nonBlank = (maxLength: number) =>
  fc.tuple(fc.constantFrom("a", "Z", "7", "é", "漢", "🙂", "_"), oddText).map(([head, tail]) => head + tail)
    .filter((s) => s.length <= maxLength)

const notAString = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 })
)

const validSessionId: Valid<string> = same(fc.oneof(
  fc.constant("default"),
  fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/),
  fc.constant("s".repeat(64))
))

const invalidSessionId = fc.oneof(
  blank,
  fc.integer({ min: 65, max: 400 }).map((n) => "s".repeat(n)),
  fc.stringMatching(/^[a-z]{0,8}[^A-Za-z0-9._-][a-z]{0,8}$/),
  notAString
)

/** An international number (8 to 15 digits, no leading 0), written the many ways people write it. */
const validTo: Valid<string> = fc.oneof(
  fc.tuple(fc.integer({ min: 1, max: 9 }), fc.stringMatching(/^[0-9]{7,14}$/)).chain(([first, rest]) => {
    const digits = `${first}${rest}`
    return fc.oneof(
      fc.constant([digits, digits] as const),
      fc.tuple(
        fc.boolean(),
        fc.array(fc.tuple(fc.nat(digits.length), fc.constantFrom(" ", "-", ".", "(", ")", "  ")), { maxLength: 4 }),
        blank,
        blank
      ).map(([plus, cuts, before, after]) => {
        let written = digits
        for (const [at, sep] of [...cuts].sort((a, b) => b[0] - a[0])) written = written.slice(0, at) + sep + written.slice(at)
        return [`${before}${plus ? "+" : ""}${written}${after}`, digits] as const
      }).filter(([written]) => written.split(".").length !== 2) // a single dot reads as a decimal point
    )
  }),
  // A JSON number, as some clients send it.
  fc.integer({ min: 10_000_000, max: 999_999_999_999_999 }).map((n) => [n, String(n)] as const)
)

const invalidTo = fc.oneof(
  fc.stringMatching(/^[1-9][0-9]{0,6}$/), // too short
  fc.stringMatching(/^[1-9][0-9]{15,24}$/), // too long
  fc.stringMatching(/^0[0-9]{7,14}$/), // local or 00-prefixed
  fc.stringMatching(/^[1-9][0-9]{7,13}\.[0-9]$/), // a spreadsheet decimal: 254712345678.0
  fc.stringMatching(/^[1-9][0-9]{7,12}[a-zA-Z#*][0-9]{0,2}$/), // a letter or symbol inside
  fc.constantFrom("٢٥٤٧١٢٣٤٥٦٧٨", "２５４７１２３４５６７８", "+", "", "++254712345678", "254712345678;rm"),
  blank,
  fc.integer({ min: 0, max: 9_999_999 }), // too short as a number
  fc.constantFrom(1e16, 1e21, 9_007_199_254_740_991),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 })
)

const HUGE_VALID_TEXT = "Jambo ".repeat(10_922) + "1234" // 65,536 characters
const HUGE_INVALID_TEXT = "x".repeat(65_537)

const validText: Valid<string> = same(fc.oneof(
  { weight: 20, arbitrary: nonBlank(65_536) },
  { weight: 1, arbitrary: fc.constant(HUGE_VALID_TEXT) }
))

const invalidText = fc.oneof(blank, fc.constant(HUGE_INVALID_TEXT), notAString)

const validOptionalText: Valid<string> = same(nonBlank(500))
const invalidOptionalText = fc.oneof(blank, notAString)

/** A file name or MIME type: one line, so no control character or line break anywhere in it. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/
const validOneLine: Valid<string> = same(nonBlank(500).filter((s) => !CONTROL.test(s)))
const invalidOneLine = fc.oneof(
  blank,
  notAString,
  fc.tuple(nonBlank(200), fc.constantFrom("\n", "\r\n", "\u0000", "\u2028", "\u0085", "\t"), fc.string({ maxLength: 20 }))
    .map(([head, control, tail]) => head + control + tail)
)

const MEDIA_TYPES = ["image", "video", "audio", "document"] as const
const STATES = ["not_started", "connecting", "qr_ready", "pairing_code_ready", "connected", "disconnected", "logged_out"]

// ---------------------------------------------------------------------------------------------
// Tools: each field valid or invalid, required or not, and the request a valid call must cause.

interface Field {
  readonly required: boolean
  readonly valid: Valid
  readonly invalid: fc.Arbitrary<unknown>
}

interface Expected {
  readonly method: "GET" | "POST"
  readonly path: string
  readonly query?: Readonly<Record<string, string>>
  readonly body?: unknown
  /** Reads may be retried: up to three requests, all the same. */
  readonly read: boolean
}

interface ToolSpec {
  readonly name: string
  readonly fields: Readonly<Record<string, Field>>
  /** The request valid arguments must cause; `undefined` when the server must refuse them before sending. */
  readonly expect: (normalised: Readonly<Record<string, unknown>>) => Expected | undefined
}

const sessionIdField = (required: boolean): Field => ({ required, valid: validSessionId, invalid: invalidSessionId })

const seconds = (min: number, max: number): Field => ({
  required: false,
  valid: same(fc.double({ min, max, noNaN: true })),
  invalid: fc.oneof(
    fc.double({ min: -1e6, max: min, maxExcluded: true, noNaN: true, noDefaultInfinity: true }),
    fc.double({ min: max, minExcluded: true, max: 1e9, noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom("60", null, true, [5])
  )
})

/** Media files the gateway serves, and what the server must do with each. */
const MEDIA = {
  ok: { path: "/media/photo.jpg", size: 4_321, contentType: "image/jpeg" },
  pdf: { path: "/media/invoice.pdf", size: 12_345, contentType: "application/pdf" },
  noType: { path: "/media/blob", size: 77, contentType: "application/octet-stream" },
  empty: { path: "/media/empty.png", size: 0, contentType: "image/png" }
} as const

let gateway: ScriptedGateway

const mediaUrl = fc.constantFrom("ok", "pdf", "noType", "empty", "missing", "notUrl", "ftp", "credentials")
  .map((kind) => {
    switch (kind) {
      case "ok":
      case "pdf":
      case "noType":
      case "empty":
        return { kind, url: () => gateway.url(MEDIA[kind].path) }
      case "missing":
        return { kind, url: () => gateway.url("/media/missing.jpg") }
      case "notUrl":
        return { kind, url: () => "photo.jpg" }
      case "ftp":
        return { kind, url: () => "ftp://example.com/photo.jpg" }
      case "credentials":
        return { kind, url: () => gateway.url("/media/photo.jpg").replace("http://", "http://user:pw@") }
    }
  })

/** Sessions ids reach the gateway's query as well-formed unicode (URLSearchParams replaces lone surrogates). */
const wellFormed = (s: string) => s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd")

const TOOLS: ReadonlyArray<ToolSpec> = [
  { name: "list_sessions", fields: {}, expect: () => ({ method: "GET", path: "/sessions", query: {}, read: true }) },
  {
    name: "start_session",
    fields: { sessionId: sessionIdField(false) },
    expect: (a) => ({ method: "POST", path: "/session/start", body: { sessionId: a.sessionId ?? "default" }, read: false })
  },
  ...["get_session_status", "get_session_qr"].map((name): ToolSpec => ({
    name,
    fields: { sessionId: sessionIdField(true) },
    expect: (a) => ({
      method: "GET",
      path: name === "get_session_qr" ? "/session/qr" : "/session/status",
      query: { sessionId: wellFormed(a.sessionId as string) },
      read: true
    })
  })),
  {
    name: "wait_for_session",
    fields: {
      sessionId: sessionIdField(true),
      until: {
        required: false,
        valid: same(fc.uniqueArray(fc.constantFrom(...STATES), { minLength: 1, maxLength: 3 })),
        invalid: fc.oneof(fc.constant([]), fc.constant(["online"]), fc.constant("connected"), fc.constant([1]), notAString)
      },
      timeoutSeconds: seconds(1, 300),
      intervalSeconds: seconds(0.5, 60)
    },
    expect: (a) => ({
      method: "GET",
      path: "/session/status",
      query: { sessionId: wellFormed(a.sessionId as string) },
      read: true
    })
  },
  {
    name: "logout_session",
    fields: { sessionId: sessionIdField(true) },
    expect: (a) => ({ method: "POST", path: "/session/logout", body: { sessionId: a.sessionId }, read: false })
  },
  {
    name: "send_whatsapp_text",
    fields: {
      to: { required: true, valid: validTo, invalid: invalidTo },
      text: { required: true, valid: validText, invalid: invalidText },
      sessionId: sessionIdField(false)
    },
    expect: (a) => ({
      method: "POST",
      path: "/messages/text",
      body: { sessionId: a.sessionId ?? "default", to: a.to, text: a.text },
      read: false
    })
  },
  {
    name: "send_whatsapp_media",
    fields: {
      to: { required: true, valid: validTo, invalid: invalidTo },
      url: {
        required: true,
        valid: mediaUrl.map((media) => [media, media] as const),
        invalid: notAString.filter((v) => typeof v !== "string")
      },
      type: {
        required: false,
        valid: same(fc.constantFrom(...MEDIA_TYPES)),
        invalid: fc.oneof(fc.constantFrom("gif", "IMAGE", "sticker", ""), notAString)
      },
      caption: { required: false, valid: validOptionalText, invalid: invalidOptionalText },
      fileName: { required: false, valid: validOneLine, invalid: invalidOneLine },
      mimetype: { required: false, valid: validOneLine, invalid: invalidOneLine },
      sessionId: sessionIdField(false)
    },
    expect: (a) => {
      const media = a.url as { kind: string; url: () => string }
      if (media.kind !== "ok" && media.kind !== "pdf" && media.kind !== "noType") return undefined
      const served = MEDIA[media.kind].contentType
      const mimetype = (a.mimetype as string | undefined) ?? (served === "application/octet-stream" ? undefined : served)
      const body: Record<string, unknown> = {
        sessionId: a.sessionId ?? "default",
        to: a.to,
        url: media.url(),
        type: a.type ?? "image"
      }
      for (const [key, value] of [["caption", a.caption], ["fileName", a.fileName], ["mimetype", mimetype]] as const) {
        if (value !== undefined) body[key] = value
      }
      return { method: "POST", path: "/messages/media", body, read: false }
    }
  }
]

// ---------------------------------------------------------------------------------------------
// Cases: a valid call, or a valid call with exactly one thing broken.

type Breakage = "none" | "field" | "missing" | "extra"

interface Case {
  readonly tool: string
  readonly breakage: Breakage
  readonly raw: Record<string, unknown>
  readonly normalised: Record<string, unknown>
  /** Call without an `arguments` member at all (valid for tools without required fields). */
  readonly omitArguments: boolean
  readonly reply: GatewayMood
}

const optionalPresence = fc.constantFrom(true, false)

const validArgs = (tool: ToolSpec) =>
  fc.record(
    Object.fromEntries(
      Object.entries(tool.fields).map(([name, field]) => [
        name,
        field.required ? field.valid.map((v) => ({ present: true, v })) : fc.tuple(optionalPresence, field.valid)
          .map(([present, v]) => ({ present, v }))
      ])
    )
  ).map((fields) => {
    const raw: Record<string, unknown> = {}
    const normalised: Record<string, unknown> = {}
    for (const [name, { present, v }] of Object.entries(fields)) {
      if (present) {
        raw[name] = v[0]
        normalised[name] = v[1]
      }
    }
    return { raw, normalised }
  })

const FIELD_NAMES = new Set(TOOLS.flatMap((t) => Object.keys(t.fields)))

const caseFor = (tool: ToolSpec): fc.Arbitrary<Case> => {
  const names = Object.keys(tool.fields)
  const required = names.filter((n) => tool.fields[n]!.required)
  // A tool without parameters (list_sessions) ignores extra arguments rather than refusing them:
  // Effect decodes Schema.Struct({}) as "any object". Harmless for a read, so not counted as invalid.
  const breakages: Array<Breakage> = [
    "none",
    "none",
    ...(names.length > 0 ? ["extra" as const, "field" as const] : []),
    ...(required.length > 0 ? ["missing" as const] : [])
  ]
  return fc.record({ base: validArgs(tool), breakage: fc.constantFrom(...breakages), reply: gatewayMood, omit: fc.boolean() })
    .chain(({ base, breakage, reply, omit }) => {
      const make = (raw: Record<string, unknown>, b: Breakage): Case => ({
        tool: tool.name,
        breakage: b,
        raw,
        normalised: base.normalised,
        omitArguments: b === "none" && omit && Object.keys(raw).length === 0,
        reply
      })
      switch (breakage) {
        case "none":
          return fc.constant(make(base.raw, "none"))
        case "extra":
          return fc.tuple(
            // Not "__proto__": the SDK's own zod parsing of `arguments` drops that key before the server sees it.
            fc.oneof(fc.constantFrom("session_id", "phone", "constructor", "Text", "toString"), fc.string({ minLength: 1, maxLength: 12 }))
              .filter((k) => !FIELD_NAMES.has(k) && k !== "__proto__"),
            fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.constant(null))
          ).map(([k, v]) => make(Object.defineProperty({ ...base.raw }, k, { value: v, enumerable: true, writable: true, configurable: true }), "extra"))
        case "missing":
          return fc.constantFrom(...required).map((name) => {
            const { [name]: _, ...rest } = base.raw
            return make(rest, "missing")
          })
        case "field":
          return fc.constantFrom(...names).chain((name) =>
            tool.fields[name]!.invalid.map((bad) => make({ ...base.raw, [name]: bad }, "field"))
          )
      }
    })
}

// ---------------------------------------------------------------------------------------------
// The gateway's mood for one call: answers of every shape, good and bad.

type GatewayMood =
  | "ok"
  | "bare"
  | "weird-ok"
  | "error-500"
  | "error-404"
  | "error-401"
  | "error-422"
  | "html"
  | "empty"
  | "null"
  | "huge"

const gatewayMood = fc.constantFrom<GatewayMood>(
  "ok",
  "ok",
  "ok",
  "bare",
  "weird-ok",
  "error-500",
  "error-404",
  "error-401",
  "error-422",
  "html",
  "empty",
  "null",
  "huge"
)

const replyFor = (mood: GatewayMood, tool: string) => (request: RecordedRequest): Reply => {
  const sessionId = request.query.sessionId ?? (request.json as { sessionId?: string } | undefined)?.sessionId ?? "default"
  // wait_for_session gets an answer that ends the wait at once, so no case takes its full timeout.
  if (tool === "wait_for_session") return { json: { success: true, data: { sessionId, status: "logged_out" } } }
  const path = request.path.slice(ScriptedGateway.apiPrefix.length)
  const data = path === "/sessions"
    ? [{ sessionId: "default", status: "connected" }, { id: "other", state: "qr_ready", extra: { nested: [1, 2] } }]
    : path === "/session/qr"
    ? { qr: "2@fuzzPayload,AbC==", status: "qr_ready" }
    : path.startsWith("/messages/")
    ? { messageId: `MSG-${request.seq}`, status: "sent" }
    : { sessionId, status: "connected" }
  switch (mood) {
    case "ok":
      return { json: { success: true, data } }
    case "bare":
      return { json: data }
    case "weird-ok":
      // Keys that trip naive object handling, written as JSON text so "__proto__" is a real key.
      return {
        headers: { "content-type": "application/json" },
        body: Array.isArray(data)
          ? JSON.stringify({ success: true, data: [...data, "a-bare-id", { name: 7, status: 5 }] })
          : `{"success":true,"data":{"__proto__":{"polluted":true},"constructor":"x","hasOwnProperty":1,` +
            `"qrCode":"data:image/png;base64,iVBORw0KGgo=","size":3,${JSON.stringify(data).slice(1)}}`
      }
    case "error-500":
      return { status: 500, json: { success: false, message: "internal" } }
    case "error-404":
      return { status: 404, json: { success: false, error: "Session not found" } }
    case "error-401":
      return { status: 401, json: { success: false, message: "bad key" } }
    case "error-422":
      return { status: 422, json: { success: false, error: { message: "invalid number" } } }
    case "html":
      return { status: 502, body: "<html><body>Bad Gateway</body></html>", headers: { "content-type": "text/html" } }
    case "empty":
      return { status: 200, body: "" }
    case "null":
      return { json: null }
    case "huge":
      return {
        json: {
          success: true,
          data: Array.isArray(data) ? data : { ...data, qr: path === "/session/qr" ? `2@${"Q".repeat(6_000)}` : undefined, blob: "z".repeat(20_000) }
        }
      }
  }
}

const ENDPOINTS = [
  ["GET", "/sessions"],
  ["POST", "/session/start"],
  ["GET", "/session/status"],
  ["GET", "/session/qr"],
  ["POST", "/session/logout"],
  ["POST", "/messages/text"],
  ["POST", "/messages/media"]
] as const

// ---------------------------------------------------------------------------------------------

describe("fuzzing every tool's arguments through one server process", () => {
  let server: McpHarness
  let listed: ReadonlyArray<Tool>
  const tally = { valid: 0, invalid: 0, sent: 0, results: 0 }

  beforeAll(async () => {
    gateway = await ScriptedGateway.start()
    for (const file of Object.values(MEDIA)) {
      gateway.serveMedia(file.path, { size: file.size, contentType: file.contentType })
    }
    server = await McpHarness.start(
      {
        CHATKAZI_API_KEY: SECRET_API_KEY,
        CHATKAZI_BASE_URL: gateway.baseUrl,
        CHATKAZI_TIMEOUT_MS: "5000",
        CHATKAZI_RETRY_BASE_DELAY_MS: "1",
        // One request per call: get_session_qr answers at once instead of waiting for a starting session's QR.
        CHATKAZI_QR_WAIT_SECONDS: "0",
        // Every valid send must reach the gateway exactly once, so the guards stay out of the way here
        // (the fault suite tests them).
        CHATKAZI_DEDUPE_WINDOW_SECONDS: "0",
        CHATKAZI_MAX_SENDS_PER_MINUTE: "1000000"
      },
      { transport: "raw", requestTimeoutMs: 20_000 }
    )
    listed = await server.listTools()
  })

  afterAll(async () => {
    await server?.close()
    await gateway?.close()
  })

  const check = async (c: Case) => {
    const tool = TOOLS.find((t) => t.name === c.tool)!
    gateway.reset()
    for (const [method, path] of ENDPOINTS) gateway.setDefault(method, path, replyFor(c.reply, c.tool))
    const args = c.omitArguments ? undefined : withMediaUrl(c.raw)

    const result: CallToolResult = await server.call(c.tool, args)
    tally.results++
    expect(result.content.length).toBeGreaterThan(0)
    expect(result.content[0]!.type).toBe("text")
    const text = textOf(result)

    if (c.breakage !== "none") {
      tally.invalid++
      expect(result.isError, `${c.breakage}: ${text}`).toBe(true)
      expect(text).toMatch(/^The arguments were not valid, so nothing was sent:\n- /)
      expect(gateway.requests, "invalid arguments reached the gateway").toEqual([])
      return
    }

    tally.valid++
    if (!result.isError) {
      expect(outputSchemaProblems(listed.find((t) => t.name === c.tool)!, result)).toEqual([])
    } else {
      expect(text).not.toMatch(/arguments were not valid/)
    }
    const expected = tool.expect(c.normalised)
    const api = gateway.apiRequests
    if (expected === undefined) {
      expect(result.isError).toBe(true)
      expect(api, "a refused media URL still reached the gateway").toEqual([])
      return
    }
    expect(api.length).toBeGreaterThanOrEqual(1)
    expect(api.length).toBeLessThanOrEqual(expected.read ? 3 : 1)
    if (!expected.read) tally.sent++
    for (const request of api) {
      expect(request.method).toBe(expected.method)
      expect(request.path).toBe(ScriptedGateway.apiPrefix + expected.path)
      expect(request.headers["x-api-key"]).toBe(SECRET_API_KEY)
      if (expected.query !== undefined) expect(request.query).toStrictEqual(expected.query)
      if (expected.body !== undefined) expect(request.json).toStrictEqual(expected.body)
    }
  }

  it(`${RUNS} calls: no crash, no hang, well-formed answers, nothing sent for invalid input`, { timeout: 240_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...TOOLS).chain(caseFor), check),
      { numRuns: RUNS, endOnFailure: true }
    )
    expect(tally.results).toBe(RUNS)
    // The generators must have covered both sides well.
    expect(tally.valid).toBeGreaterThan(RUNS / 4)
    expect(tally.invalid).toBeGreaterThan(RUNS / 4)
    expect(tally.sent).toBeGreaterThan(RUNS / 10)
  })

  it("kept stdout JSON-RPC only and the API key out of every output, and still exits 0", async () => {
    expect(server.protocolErrors).toEqual([])
    for (const line of server.stdoutLines) expect(JSON.parse(line)).toMatchObject({ jsonrpc: "2.0" })
    expect(server.stdoutLines.length).toBeGreaterThan(RUNS)
    expect(server.allOutput).not.toContain(SECRET_API_KEY)
    // No call ended in a defect (an unexpected failure inside the server) either.
    expect(server.stderr).not.toMatch(/failed unexpectedly/)
    expect(server.child.exitCode).toBe(null)
    server.child.stdin.end()
    expect(await server.exited).toEqual({ code: 0, signal: null })
  })
})

/** Media cases carry a URL maker (the gateway's port is known only at run time). */
const withMediaUrl = (raw: Record<string, unknown>): Record<string, unknown> => {
  const media = raw.url
  if (typeof media === "object" && media !== null && "url" in media && typeof media.url === "function") {
    return { ...raw, url: (media.url as () => string)() }
  }
  return raw
}
