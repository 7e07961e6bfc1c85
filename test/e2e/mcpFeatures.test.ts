/**
 * The rest of MCP that hosts show, through the built server over stdio: prompts (arguments validated
 * like tool input), the sessions as resources (through the same service and guidance), completion of
 * session ids, and logging (retries and refused sends as notifications/message, at the level asked).
 */
import {
  type LoggingMessageNotification,
  LoggingMessageNotificationSchema,
  type TextResourceContents
} from "@modelcontextprotocol/sdk/types.js"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { McpHarness, SECRET_API_KEY } from "../support/McpHarness.js"
import { ScriptedGateway } from "../support/ScriptedGateway.js"

let gateway: ScriptedGateway
let server: McpHarness
const logs: Array<LoggingMessageNotification["params"]> = []

beforeAll(async () => {
  gateway = await ScriptedGateway.start()
  server = await McpHarness.start({
    CHATKAZI_API_KEY: SECRET_API_KEY,
    CHATKAZI_BASE_URL: gateway.baseUrl,
    CHATKAZI_RETRY_BASE_DELAY_MS: "0",
    CHATKAZI_MAX_SENDS_PER_MINUTE: "1"
  })
  server.client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
    logs.push(notification.params)
  })
})

afterAll(async () => {
  await server?.close()
  await gateway?.close()
})

beforeEach(() => {
  gateway.reset()
  logs.length = 0
})

const SESSIONS = {
  success: true,
  data: [{ sessionId: "shop", status: "connected" }, { sessionId: "shelf", status: "qr_ready" }, { sessionId: "home", status: "logged_out" }]
}

const textOfContents = (contents: ReadonlyArray<unknown>) => (contents[0] as TextResourceContents).text

describe("capabilities", () => {
  it("declares tools, prompts, resources, completions and logging", () => {
    expect(server.client.getServerCapabilities()).toMatchObject({
      tools: {},
      prompts: {},
      resources: {},
      completions: {},
      logging: {}
    })
  })
})

describe("prompts", () => {
  it("lists link_whatsapp and send_whatsapp_message with their arguments", async () => {
    const { prompts } = await server.client.listPrompts()
    expect(prompts.map((p) => p.name)).toEqual(["link_whatsapp", "send_whatsapp_message"])
    expect(prompts[0]!.arguments).toEqual([{ name: "sessionId", description: expect.stringContaining("session"), required: false }])
    expect(prompts[1]!.arguments?.map((a) => [a.name, a.required])).toEqual([["to", true], ["text", true], ["sessionId", false]])
  })

  it("link_whatsapp walks through start, QR, wait and confirmation for the session", async () => {
    const { messages } = await server.client.getPrompt({ name: "link_whatsapp", arguments: { sessionId: "shop" } })
    const text = (messages[0]!.content as { text: string }).text
    expect(messages[0]!.role).toBe("user")
    for (const step of ["get_session_status", "start_session", "get_session_qr", "wait_for_session", "connected"]) {
      expect(text).toContain(step)
    }
    expect(text).toContain('"shop"')
    const byDefault = await server.client.getPrompt({ name: "link_whatsapp" })
    expect((byDefault.messages[0]!.content as { text: string }).text).toContain('"default"')
  })

  it("send_whatsapp_message checks the session, sends once, and carries the number as it will be sent", async () => {
    const { messages } = await server.client.getPrompt({
      name: "send_whatsapp_message",
      arguments: { to: "+254 712-345-678", text: "Habari!" }
    })
    const text = (messages[0]!.content as { text: string }).text
    expect(text).toContain("to 254712345678")
    expect(text).toContain("Habari!")
    expect(text).toMatch(/get_session_status[\s\S]*send_whatsapp_text once/)
  })

  it("refuses invalid arguments with -32602 listing every problem, and sends nothing", async () => {
    await expect(
      server.client.getPrompt({ name: "send_whatsapp_message", arguments: { to: "0712345678", text: " ", sessionId: "a b" } })
    ).rejects.toMatchObject({
      code: -32602,
      message: expect.stringMatching(/to: .*local.*; text: must not be empty.*; sessionId: must be 1 to 64/)
    })
    await expect(server.client.getPrompt({ name: "nope" })).rejects.toMatchObject({
      code: -32602,
      message: expect.stringContaining("The prompts are: link_whatsapp, send_whatsapp_message")
    })
    expect(gateway.count()).toBe(0)
  })
})

describe("resources", () => {
  it("lists chatkazi://sessions and the template chatkazi://sessions/{sessionId}, beside the linking card and chatkazi://messages", async () => {
    expect((await server.client.listResources()).resources).toEqual([
      expect.objectContaining({ uri: "chatkazi://sessions", mimeType: "application/json" }),
      expect.objectContaining({ uri: "ui://chatkazi/link", mimeType: "text/html;profile=mcp-app" }),
      expect.objectContaining({ uri: "chatkazi://messages", mimeType: "text/plain" })
    ])
    expect((await server.client.listResourceTemplates()).resourceTemplates).toEqual([
      expect.objectContaining({ uriTemplate: "chatkazi://sessions/{sessionId}", mimeType: "application/json" })
    ])
  })

  it("reads every session with its state, meaning and next step through GET /sessions", async () => {
    gateway.on("GET", "/sessions", { json: SESSIONS })
    const { contents } = await server.client.readResource({ uri: "chatkazi://sessions" })
    const data = JSON.parse(textOfContents(contents))
    expect(data.count).toBe(3)
    expect(data.sessions[0]).toMatchObject({ sessionId: "shop", state: "connected", nextStep: "messages can be sent from this session" })
    const [request] = gateway.received("GET", "/sessions")
    expect(request!.headers["x-api-key"]).toBe(SECRET_API_KEY)
  })

  it("reads one session through GET /session/status", async () => {
    gateway.on("GET", "/session/status", { json: { success: true, data: { sessionId: "shelf", status: "qr_ready" } } })
    const { contents } = await server.client.readResource({ uri: "chatkazi://sessions/shelf" })
    expect(JSON.parse(textOfContents(contents))).toMatchObject({ sessionId: "shelf", state: "qr_ready", meaning: expect.any(String) })
    expect(gateway.received("GET", "/session/status")[0]!.query).toEqual({ sessionId: "shelf" })
  })

  it("answers a session ChatKazi does not know with -32002 and the tools' guidance", async () => {
    gateway.on("GET", "/session/status", { status: 404, json: { message: "Session not found" } })
    await expect(server.client.readResource({ uri: "chatkazi://sessions/ghost" })).rejects.toMatchObject({
      code: -32002,
      message: expect.stringContaining("ChatKazi does not know that session (HTTP 404)")
    })
  })

  it("refuses an unsafe session id or an unknown URI without asking the gateway", async () => {
    await expect(server.client.readResource({ uri: "chatkazi://sessions/a%2F..%2Fb" })).rejects.toMatchObject({
      code: -32602,
      message: expect.stringContaining("must be 1 to 64 letters")
    })
    await expect(server.client.readResource({ uri: "chatkazi://elsewhere" })).rejects.toMatchObject({ code: -32002 })
    expect(gateway.count()).toBe(0)
  })
})

describe("completion", () => {
  it("suggests the account's session ids for the template and the prompts", async () => {
    gateway.setDefault("GET", "/sessions", { json: SESSIONS })
    const forTemplate = await server.client.complete({
      ref: { type: "ref/resource", uri: "chatkazi://sessions/{sessionId}" },
      argument: { name: "sessionId", value: "sh" }
    })
    expect(forTemplate.completion).toEqual({ values: ["shop", "shelf"], total: 2, hasMore: false })
    const forPrompt = await server.client.complete({
      ref: { type: "ref/prompt", name: "link_whatsapp" },
      argument: { name: "sessionId", value: "" }
    })
    expect(forPrompt.completion.values).toEqual(["shop", "shelf", "home"])
    const other = await server.client.complete({
      ref: { type: "ref/prompt", name: "send_whatsapp_message" },
      argument: { name: "to", value: "2547" }
    })
    expect(other.completion.values).toEqual([])
  })
})

describe("logging", () => {
  it("sends a retry as a warning notification, and stops below the level set with logging/setLevel", async () => {
    gateway.on("GET", "/session/status", { status: 503, json: { message: "busy" } }, {
      json: { success: true, data: { sessionId: "shop", status: "connected" } }
    })
    await server.client.setLoggingLevel("warning")
    const result = await server.call("get_session_status", { sessionId: "shop" })
    expect(result.isError ?? false).toBe(false)
    expect(logs).toContainEqual({
      level: "warning",
      logger: "chatkazi-mcp",
      data: "ChatKazi get_session_status: HTTP 503; retrying (retry 1 of 2)"
    })

    logs.length = 0
    await server.client.setLoggingLevel("error")
    gateway.on("GET", "/session/status", { status: 503, json: { message: "busy" } }, {
      json: { success: true, data: { sessionId: "shop", status: "connected" } }
    })
    await server.call("get_session_status", { sessionId: "shop" })
    expect(gateway.count("GET", "/session/status")).toBe(4)
    expect(logs).toEqual([])
    await server.client.setLoggingLevel("info")
  })

  it("sends a pace refusal as a warning, without the key", async () => {
    gateway.setDefault("POST", "/messages/text", { json: { success: true, data: { messageId: "m1" } } })
    await server.call("send_whatsapp_text", { to: "254712345678", text: "one" })
    const refused = await server.call("send_whatsapp_text", { to: "254712345678", text: "two" })
    expect(refused.isError).toBe(true)
    expect(gateway.count("POST", "/messages/text")).toBe(1)
    expect(logs).toContainEqual(expect.objectContaining({
      level: "warning",
      data: expect.stringMatching(/^send_whatsapp_text refused: Refused, nothing was sent: session "default" already sent 1/)
    }))
    expect(JSON.stringify(logs)).not.toContain(SECRET_API_KEY)
    expect(server.allOutput).not.toContain(SECRET_API_KEY)
  })
})

describe("without an API key", () => {
  it("a resource read answers with the missing-key guidance, completion offers nothing, prompts still work", async () => {
    const keyless = await McpHarness.start({ CHATKAZI_BASE_URL: gateway.baseUrl })
    try {
      await expect(keyless.client.readResource({ uri: "chatkazi://sessions" })).rejects.toMatchObject({
        code: -32603,
        message: expect.stringContaining("CHATKAZI_API_KEY is not set")
      })
      const completion = await keyless.client.complete({
        ref: { type: "ref/prompt", name: "link_whatsapp" },
        argument: { name: "sessionId", value: "" }
      })
      expect(completion.completion.values).toEqual([])
      expect((await keyless.client.getPrompt({ name: "link_whatsapp" })).messages).toHaveLength(1)
      expect(gateway.count()).toBe(0)
    } finally {
      await keyless.close()
    }
  })
})

describe("read-only mode", () => {
  it("offers no prompt that leads to a tool it refuses, and refuses to make one", async () => {
    const readOnly = await McpHarness.start({
      CHATKAZI_API_KEY: SECRET_API_KEY,
      CHATKAZI_BASE_URL: gateway.baseUrl,
      CHATKAZI_READ_ONLY: "true"
    })
    try {
      expect((await readOnly.client.listPrompts()).prompts).toEqual([])
      await expect(
        readOnly.client.getPrompt({ name: "send_whatsapp_message", arguments: { to: "254712345678", text: "Hi" } })
      ).rejects.toMatchObject({ code: -32602, message: expect.stringContaining("Unknown prompt \"send_whatsapp_message\"") })
      expect(gateway.count()).toBe(0)
    } finally {
      await readOnly.close()
    }
  })
})
