import { describe, expect, it } from "@effect/vitest"
import { Ajv } from "ajv"
import { getSessionQr } from "../../src/tools/getSessionQr.js"
import { getSessionStatus } from "../../src/tools/getSessionStatus.js"
import { getWebhookUrl } from "../../src/tools/getWebhookUrl.js"
import { listMessages } from "../../src/tools/listMessages.js"
import { linkCardState } from "../../src/tools/linkCardState.js"
import { listSessions } from "../../src/tools/listSessions.js"
import { logoutSession } from "../../src/tools/logoutSession.js"
import { tools } from "../../src/tools/registry.js"
import { sendWhatsappMedia } from "../../src/tools/sendWhatsappMedia.js"
import { sendWhatsappText } from "../../src/tools/sendWhatsappText.js"
import { startSession } from "../../src/tools/startSession.js"
import { type AnyTool, objectJsonSchema } from "../../src/tools/Tool.js"
import { waitForMessage } from "../../src/tools/waitForMessage.js"

type JsonSchema = {
  type?: string
  properties?: Record<string, JsonSchema & { description?: string; default?: unknown; enum?: Array<unknown> }>
  required?: Array<string>
  [key: string]: unknown
}

interface Case {
  readonly name: string
  readonly tool: AnyTool
  /** The arguments a call must give. */
  readonly required: ReadonlyArray<string>
  /** Every argument the tool takes. */
  readonly properties: ReadonlyArray<string>
}

const cases: ReadonlyArray<Case> = [
  { tool: listSessions, required: [], properties: [] },
  { tool: startSession, required: [], properties: ["sessionId"] },
  { tool: getSessionStatus, required: ["sessionId"], properties: ["sessionId"] },
  { tool: getSessionQr, required: ["sessionId"], properties: ["sessionId"] },
  { tool: logoutSession, required: ["sessionId"], properties: ["sessionId"] },
  { tool: linkCardState, required: ["sessionId"], properties: ["sessionId"] },
  { tool: sendWhatsappText, required: ["to", "text"], properties: ["to", "text", "sessionId", "confirmationCode"] },
  {
    tool: sendWhatsappMedia,
    required: ["to", "url"],
    properties: ["to", "url", "type", "caption", "fileName", "mimetype", "sessionId", "confirmationCode"]
  },
  { tool: getWebhookUrl, required: [], properties: [] },
  { tool: listMessages, required: [], properties: ["sessionId", "from", "since", "limit", "includeOwn"] },
  { tool: waitForMessage, required: [], properties: ["sessionId", "from", "since", "timeoutSeconds"] }
].map((c) => ({ ...c, name: c.tool.name }))

const keysDeep = (value: unknown): Array<string> =>
  value !== null && typeof value === "object"
    ? Object.entries(value).flatMap(([key, inner]) => [key, ...keysDeep(inner)])
    : []

describe("tool JSON Schemas", () => {
  it("every tool but wait_for_session is covered here, under a unique name", () => {
    const names = tools.map((tool) => tool.name)
    expect(new Set(names).size).toBe(names.length)
    expect(names.filter((name) => name !== "wait_for_session").sort()).toEqual(cases.map((c) => c.name).sort())
  })

  describe.each(cases)("$name", ({ properties, required, tool }) => {
    const input = objectJsonSchema(tool.input) as JsonSchema
    const output = objectJsonSchema(tool.output) as JsonSchema

    it("input and output are plain objects at the top: type object, no $schema, $ref, $defs or anyOf", () => {
      for (const schema of [input, output]) {
        expect(schema.type).toBe("object")
        expect(keysDeep(schema)).not.toContain("$schema")
        expect(keysDeep(schema)).not.toContain("$ref")
        expect(keysDeep(schema)).not.toContain("$defs")
        expect(schema).not.toHaveProperty("anyOf")
        expect(schema).not.toHaveProperty("oneOf")
        expect(typeof schema.properties).toBe("object")
      }
    })

    it("lists exactly the arguments, requires the right ones and refuses others", () => {
      expect(Object.keys(input.properties ?? {}).sort()).toEqual([...properties].sort())
      expect([...(input.required ?? [])].sort()).toEqual([...required].sort())
      if (properties.length > 0) expect(input.additionalProperties).toBe(false)
    })

    it("describes every argument for the model", () => {
      for (const [name, property] of Object.entries(input.properties ?? {})) {
        expect(property.description, `${tool.name}.${name}`).toEqual(expect.stringMatching(/\w{3,}/))
      }
    })

    it("has a name, a title and a description", () => {
      expect(tool.name).toMatch(/^[a-z_]+$/)
      expect(tool.title.length).toBeGreaterThan(5)
      expect(tool.description.length).toBeGreaterThan(40)
    })
  })

  it("defaults are shown to the model where an argument may be left out", () => {
    const text = objectJsonSchema(sendWhatsappText.input) as JsonSchema
    expect(text.properties!.sessionId!.default).toBe("default")
    const media = objectJsonSchema(sendWhatsappMedia.input) as JsonSchema
    expect(media.properties!.type!.default).toBe("image")
    expect(media.properties!.type!.enum).toEqual(["image", "video", "audio", "document"])
    expect((objectJsonSchema(startSession.input) as JsonSchema).properties!.sessionId!.default).toBe("default")
  })

  it("the recipient accepts the number as a string or a JSON number", () => {
    const to = (objectJsonSchema(sendWhatsappText.input) as JsonSchema).properties!.to!
    expect(to.anyOf).toEqual([{ type: "string" }, { type: "number" }])
  })

  it("argument limits the decoder enforces are stated to the model", () => {
    const text = (objectJsonSchema(sendWhatsappText.input) as JsonSchema).properties!
    expect(text.text).toMatchObject({ type: "string", minLength: 1, maxLength: 65_536 })
    expect(text.sessionId).toMatchObject({ type: "string", minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9._-]{1,64}$" })
  })

  it("a tool without arguments lists an empty object schema", () => {
    expect(objectJsonSchema(listSessions.input)).toStrictEqual({ type: "object", required: [], properties: {}, additionalProperties: false })
  })

  it("outputs require what every result carries", () => {
    expect((objectJsonSchema(sendWhatsappText.output) as JsonSchema).required).toEqual(
      expect.arrayContaining(["sessionId", "to", "duplicate", "details"])
    )
    expect((objectJsonSchema(getSessionQr.output) as JsonSchema).required).toEqual(
      expect.arrayContaining(["sessionId", "format", "details"])
    )
    expect((objectJsonSchema(listSessions.output) as JsonSchema).required).toEqual(["count", "sessions"])
  })

  it("annotations: reads are read-only, writes are not, logout is destructive", () => {
    for (const tool of [listSessions, getSessionStatus, getSessionQr]) expect(tool.annotations.readOnlyHint).toBe(true)
    for (const tool of [startSession, logoutSession, sendWhatsappText, sendWhatsappMedia]) {
      expect(tool.annotations.readOnlyHint).toBe(false)
    }
    for (const tool of [startSession, sendWhatsappText, sendWhatsappMedia]) expect(tool.annotations.idempotentHint).toBe(false)
    // Logging out twice leaves the session just as logged out as once.
    expect(logoutSession.annotations).toMatchObject({ destructiveHint: true, idempotentHint: true })
    expect(sendWhatsappText.annotations.destructiveHint).toBe(false)
  })
})

describe("every listed schema", () => {
  it("compiles in one validator together with all the others (no shared placeholder $id)", () => {
    // The SDK client compiles each tool's outputSchema; a host may compile them all in one Ajv.
    const ajv = new Ajv({ strict: false })
    const all = tools.flatMap((tool) => [objectJsonSchema(tool.input), objectJsonSchema(tool.output)])
    for (const schema of all) expect(() => ajv.compile(schema)).not.toThrow()
    expect(JSON.stringify(all)).not.toContain("/schemas/")
  })
})
