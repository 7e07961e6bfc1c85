/**
 * End to end, issue 2: the built server as a subprocess, driven by the MCP SDK client over stdio,
 * against a scripted stand-in for ChatKazi on 127.0.0.1. Every tool once with the exact request
 * checked at the gateway, the error statuses with their guidance, media URL checks, and the shape
 * of what is listed and returned.
 */
import type { CallToolResult, Tool } from "@modelcontextprotocol/sdk/types.js"
import { createServer } from "node:net"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { McpHarness, outputSchemaProblems, SECRET_API_KEY, textOf } from "../support/McpHarness.js"
import { type RecordedRequest, ScriptedGateway } from "../support/ScriptedGateway.js"

const TOOL_NAMES = [
  "get_session_qr",
  "get_session_status",
  "get_webhook_url",
  "list_messages",
  "list_sessions",
  "logout_session",
  "send_whatsapp_media",
  "send_whatsapp_text",
  "start_session",
  "wait_for_message",
  "wait_for_session"
]

let gateway: ScriptedGateway
let server: McpHarness
let tools: ReadonlyArray<Tool>

beforeAll(async () => {
  gateway = await ScriptedGateway.start()
  server = await McpHarness.start({
    CHATKAZI_API_KEY: SECRET_API_KEY,
    // A trailing slash, as users paste it: it must not turn into `//` in request paths.
    CHATKAZI_BASE_URL: `${gateway.baseUrl}/`
  })
  tools = await server.listTools()
})

afterAll(async () => {
  await server?.close()
  await gateway?.close()
})

beforeEach(() => gateway.reset())

const tool = (name: string): Tool => {
  const found = tools.find((t) => t.name === name)
  if (found === undefined) throw new Error(`${name} is not listed`)
  return found
}

/** Calls a tool that must succeed, and checks its structuredContent against its outputSchema. */
const succeed = async (name: string, args?: Record<string, unknown>): Promise<CallToolResult> => {
  const result = await server.call(name, args)
  expect(result.isError ?? false, textOf(result)).toBe(false)
  expect(outputSchemaProblems(tool(name), result)).toEqual([])
  return result
}

const fail = async (name: string, args?: Record<string, unknown>): Promise<string> => {
  const result = await server.call(name, args)
  expect(result.isError, JSON.stringify(result)).toBe(true)
  return textOf(result)
}

/** The single API request the gateway got, with the key and JSON headers every request must carry. */
const onlyRequest = (): RecordedRequest => {
  expect(gateway.apiRequests.map((r) => `${r.method} ${r.rawUrl}`)).toHaveLength(1)
  const request = gateway.apiRequests[0]!
  expect(request.headers["x-api-key"]).toBe(SECRET_API_KEY)
  expect(request.headers["accept"]).toContain("application/json")
  if (request.method === "POST") expect(request.headers["content-type"]).toContain("application/json")
  return request
}

describe("tools/list", () => {
  it("shows the eleven tools, each with object input and output schemas a client accepts", () => {
    expect(tools.map((t) => t.name).sort()).toEqual(TOOL_NAMES)
    for (const t of tools) {
      for (const schema of [t.inputSchema, t.outputSchema]) {
        expect(schema, t.name).toBeDefined()
        expect(schema!.type, t.name).toBe("object")
        for (const trap of ["$schema", "$ref", "$id", "anyOf", "oneOf", "allOf"]) {
          expect(Object.keys(schema!), `${t.name} has a top-level ${trap}`).not.toContain(trap)
        }
      }
      expect(t.title, t.name).toBeTruthy()
      expect(t.description, t.name).toBeTruthy()
      // Every tool reaches ChatKazi (get_webhook_url to confirm the key before it hands out a URL).
      expect(t.annotations?.openWorldHint, t.name).toBe(true)
    }
  })

  it("marks reads read-only, logout destructive but idempotent, and sends neither read-only nor idempotent", () => {
    for (const name of ["list_sessions", "get_session_status", "get_session_qr", "wait_for_session"]) {
      expect(tool(name).annotations?.readOnlyHint, name).toBe(true)
    }
    expect(tool("logout_session").annotations).toMatchObject({ destructiveHint: true, idempotentHint: true })
    for (const name of ["send_whatsapp_text", "send_whatsapp_media"]) {
      expect(tool(name).annotations).toMatchObject({ readOnlyHint: false, idempotentHint: false })
    }
  })

  it("requires exactly the parameters the product spec requires", () => {
    const required = (name: string) => [...(tool(name).inputSchema.required ?? [])].sort()
    expect(required("list_sessions")).toEqual([])
    expect(required("start_session")).toEqual([])
    expect(required("get_session_status")).toEqual(["sessionId"])
    expect(required("get_session_qr")).toEqual(["sessionId"])
    expect(required("logout_session")).toEqual(["sessionId"])
    expect(required("send_whatsapp_text")).toEqual(["text", "to"])
    expect(required("send_whatsapp_media")).toEqual(["to", "url"])
  })
})

describe("every tool, with the exact request at the gateway", () => {
  it("list_sessions: GET /sessions, sessions from the envelope's data", async () => {
    gateway.on("GET", "/sessions", {
      json: {
        success: true,
        data: [{ sessionId: "default", status: "connected" }, { id: "sales", state: "qr_ready", phone: "2547" }]
      }
    })
    const result = await succeed("list_sessions")
    const request = onlyRequest()
    expect([request.method, request.rawUrl, request.body]).toEqual(["GET", "/api/v1/sessions", ""])
    const text = textOf(result)
    expect(text).toContain("2 session(s)")
    expect(text).toMatch(/"default": connected/)
    expect(text).toMatch(/"sales": qr_ready .*get_session_qr/)
    expect(result.structuredContent).toMatchObject({ count: 2 })
  })

  it("start_session: POST /session/start with the default session id", async () => {
    gateway.on("POST", "/session/start", { json: { success: true, data: { sessionId: "default", status: "qr_ready" } } })
    const result = await succeed("start_session", {})
    const request = onlyRequest()
    expect([request.method, request.path]).toEqual(["POST", "/api/v1/session/start"])
    expect(request.json).toStrictEqual({ sessionId: "default" })
    expect(textOf(result)).toMatch(/qr_ready.*get_session_qr/)
  })

  it("get_session_status: GET /session/status with the id in the query, pairing code shown", async () => {
    gateway.on("GET", "/session/status", {
      json: { success: true, data: { sessionId: "my.shop_1-a", status: "pairing_code_ready", pairingCode: "ABCD-1234" } }
    })
    const result = await succeed("get_session_status", { sessionId: "my.shop_1-a" })
    const request = onlyRequest()
    expect(request.path).toBe("/api/v1/session/status")
    expect(request.query).toStrictEqual({ sessionId: "my.shop_1-a" })
    expect(textOf(result)).toContain("pairing_code_ready")
    expect(textOf(result)).toContain("ABCD-1234")
    expect(result.structuredContent).toMatchObject({ sessionId: "my.shop_1-a", pairingCode: "ABCD-1234" })
  })

  it("get_session_qr: GET /session/qr, the payload as text and a locally drawn PNG", async () => {
    gateway.on("GET", "/session/qr", { json: { success: true, data: { qr: "2@e2eQrPayload,abc==", status: "qr_ready" } } })
    const result = await succeed("get_session_qr", { sessionId: "default" })
    const request = onlyRequest()
    expect([request.path, request.query]).toEqual(["/api/v1/session/qr", { sessionId: "default" }])
    expect(textOf(result)).toContain("QR payload: 2@e2eQrPayload,abc==")
    const image = result.content.find((block) => block.type === "image")
    expect(image).toMatchObject({ type: "image", mimeType: "image/png" })
    expect(Buffer.from((image as { data: string }).data, "base64").subarray(1, 4).toString()).toBe("PNG")
    // Nothing but the gateway was asked: the payload never goes to a third-party renderer.
    expect(gateway.requests).toHaveLength(1)
  })

  it("wait_for_session: polls GET /session/status until connected", async () => {
    gateway.on(
      "GET",
      "/session/status",
      { json: { success: true, data: { status: "connecting" } } },
      { json: { success: true, data: { status: "connected" } } }
    )
    const result = await succeed("wait_for_session", { sessionId: "default", timeoutSeconds: 20, intervalSeconds: 0.5 })
    expect(gateway.apiRequests.map((r) => `${r.method} ${r.rawUrl}`)).toEqual([
      "GET /api/v1/session/status?sessionId=default",
      "GET /api/v1/session/status?sessionId=default"
    ])
    expect(result.structuredContent).toMatchObject({ state: "connected", reachedTarget: true, timedOut: false, polls: 2 })
    expect(textOf(result)).toContain("connected")
  })

  it("logout_session: POST /session/logout with the session id", async () => {
    gateway.on("POST", "/session/logout", { json: { success: true, message: "Logged out" } })
    const result = await succeed("logout_session", { sessionId: "sales" })
    const request = onlyRequest()
    expect(request.path).toBe("/api/v1/session/logout")
    expect(request.json).toStrictEqual({ sessionId: "sales" })
    expect(textOf(result)).toContain("Logged out")
    expect(result.structuredContent).toMatchObject({ sessionId: "sales", state: "logged_out" })
  })

  it("send_whatsapp_text: POST /messages/text with the number normalised and the default session", async () => {
    gateway.on("POST", "/messages/text", { json: { success: true, data: { messageId: "MSG-TEXT-1", status: "sent" } } })
    const result = await succeed("send_whatsapp_text", { to: "+254 712-345-678", text: "Habari from the e2e suite" })
    const request = onlyRequest()
    expect(request.path).toBe("/api/v1/messages/text")
    expect(request.json).toStrictEqual({ sessionId: "default", to: "254712345678", text: "Habari from the e2e suite" })
    expect(textOf(result)).toMatch(/^Sent the text message to 254712345678 .*MSG-TEXT-1/)
    expect(result.structuredContent).toMatchObject({ duplicate: false, messageId: "MSG-TEXT-1", to: "254712345678" })
  })

  it("send_whatsapp_media: checks the file, then POST /messages/media with defaults and no absent fields", async () => {
    const url = gateway.serveMedia("/files/photo.jpg", { size: 2048, contentType: "image/jpeg" })
    gateway.on("POST", "/messages/media", { json: { success: true, data: { messageId: "MSG-MEDIA-1" } } })
    const result = await succeed("send_whatsapp_media", { to: 254712345678, url })
    const request = onlyRequest()
    expect(request.path).toBe("/api/v1/messages/media")
    // type defaults to image; mimetype comes from the file's Content-Type; caption and fileName are absent.
    expect(request.json).toStrictEqual({ sessionId: "default", to: "254712345678", url, type: "image", mimetype: "image/jpeg" })
    expect(gateway.received("HEAD").map((r) => r.path)).toEqual(["/files/photo.jpg"])
    expect(textOf(result)).toMatch(/^Sent the image message to 254712345678 .*MSG-MEDIA-1/)
  })

  it("send_whatsapp_media: every optional field given is sent as given", async () => {
    const url = gateway.serveMedia("/files/invoice.pdf", { size: 4096, contentType: "application/pdf" })
    gateway.on("POST", "/messages/media", { json: { success: true, data: { messageId: "MSG-MEDIA-2" } } })
    await succeed("send_whatsapp_media", {
      to: "254712345679",
      url,
      type: "document",
      caption: "Your invoice",
      fileName: "invoice-42.pdf",
      mimetype: "application/pdf",
      sessionId: "billing"
    })
    expect(onlyRequest().json).toStrictEqual({
      sessionId: "billing",
      to: "254712345679",
      url,
      type: "document",
      caption: "Your invoice",
      fileName: "invoice-42.pdf",
      mimetype: "application/pdf"
    })
  })

  it("a trailing slash in CHATKAZI_BASE_URL gives no // in any path", async () => {
    gateway.on("GET", "/sessions", { json: { success: true, data: [] } })
    gateway.on("POST", "/messages/text", { json: { success: true } })
    await succeed("list_sessions")
    await succeed("send_whatsapp_text", { to: "254700000001", text: "slash check" })
    expect(gateway.requests.map((r) => r.path)).toEqual(["/api/v1/sessions", "/api/v1/messages/text"])
    expect(gateway.requests.every((r) => !r.rawUrl.includes("//"))).toBe(true)
  })
})

describe("gateway statuses become isError results with guidance", () => {
  it("401: a credential problem, check CHATKAZI_API_KEY", async () => {
    gateway.on("GET", "/sessions", { status: 401, json: { success: false, message: "Invalid API key" } })
    const text = await fail("list_sessions")
    expect(text).toContain("CHATKAZI_API_KEY")
    expect(text).toContain("Invalid API key")
    expect(gateway.count()).toBe(1)
  })

  it("402: a plan limit; upgrade, do not retry", async () => {
    gateway.on("POST", "/session/start", { status: 402, json: { success: false, error: "WhatsApp instance limit reached" } })
    const text = await fail("start_session", { sessionId: "fourth" })
    expect(text).toContain("WhatsApp instance limit reached")
    expect(text).toMatch(/plan limit/)
    expect(text).toMatch(/upgrade/)
    expect(text).toMatch(/Do not retry/)
    expect(gateway.count()).toBe(1)
  })

  it("409: check get_session_status, or logout_session before starting again", async () => {
    gateway.on("POST", "/session/start", { status: 409, json: { success: false, message: "Session already active" } })
    const text = await fail("start_session", { sessionId: "default" })
    expect(text).toContain("get_session_status")
    expect(text).toContain("logout_session")
    expect(text).toContain("Session already active")
    expect(gateway.count()).toBe(1)
  })

  it("404: no such session, call list_sessions", async () => {
    gateway.on("GET", "/session/status", { status: 404, json: { success: false, message: "Session not found" } })
    const text = await fail("get_session_status", { sessionId: "ghost" })
    expect(text).toContain("list_sessions")
    expect(text).toContain("Session not found")
    expect(gateway.count()).toBe(1)
  })
})

describe("media URLs are checked before the gateway is asked", () => {
  const attempt = async (url: string) => {
    gateway.setDefault("POST", "/messages/media", { json: { success: true } })
    const text = await fail("send_whatsapp_media", { to: "254712345678", url, caption: `check ${url}` })
    expect(gateway.count("POST", "/messages/media")).toBe(0)
    return text
  }

  it("an empty (0-byte) file: EmptyMedia guidance, nothing sent", async () => {
    const text = await attempt(gateway.serveMedia("/files/empty.jpg", { size: 0, contentType: "image/jpeg" }))
    expect(text).toMatch(/empty \(0 bytes\)/)
    expect(text).toMatch(/direct, public link/)
  })

  it("a dead link (404): refused with guidance, nothing sent", async () => {
    const text = await attempt(gateway.url("/files/gone.jpg"))
    expect(text).toContain("HTTP 404")
    expect(text).toMatch(/direct link to the file/)
  })

  it("a refused port: refused with guidance, nothing sent", async () => {
    const text = await attempt(`http://127.0.0.1:${await closedPort()}/photo.jpg`)
    expect(text).toMatch(/could not be reached/)
    expect(text).toMatch(/Nothing was sent/)
  })
})

describe("the process's output", () => {
  it("carried nothing but JSON-RPC on stdout and never the API key", () => {
    expect(server.protocolErrors).toEqual([])
    expect(server.messages.length).toBeGreaterThan(10)
    expect(server.allOutput).not.toContain(SECRET_API_KEY)
  })
})

/** A port on 127.0.0.1 that nothing listens on. */
const closedPort = async (): Promise<number> => {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve))
  const { port } = probe.address() as { port: number }
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return port
}
