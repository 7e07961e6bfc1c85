/**
 * End to end, issue 12: the user's approval before a message goes out. The built server over stdio,
 * driven by the SDK client — one that declares elicitation and answers from the test, and one that
 * cannot be asked — against the scripted gateway, whose log must show exactly the approved sends.
 */
import {
  type ElicitRequest,
  ElicitRequestSchema,
  type ElicitResult,
  type Tool
} from "@modelcontextprotocol/sdk/types.js"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { McpHarness, outputSchemaProblems, SECRET_API_KEY, textOf } from "../support/McpHarness.js"
import { ScriptedGateway } from "../support/ScriptedGateway.js"

type Question = ElicitRequest["params"]
type Answer = (question: Question, signal: AbortSignal) => Promise<ElicitResult>

let gateway: ScriptedGateway
const servers: Array<McpHarness> = []

beforeAll(async () => {
  gateway = await ScriptedGateway.start()
})

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()))
  await gateway?.close()
})

beforeEach(() => {
  gateway.reset()
  let n = 0
  gateway.setDefault("POST", "/messages/text", () => ({ json: { success: true, data: { messageId: `TXT-${++n}`, status: "sent" } } }))
  gateway.setDefault("POST", "/messages/media", () => ({ json: { success: true, data: { messageId: `MED-${++n}` } } }))
})

/** A server with these settings, and a client that can be asked when `answer` is given. */
const start = async (env: Record<string, string>, answer?: { current: Answer; questions: Array<Question> }) => {
  const server = await McpHarness.start(
    { CHATKAZI_API_KEY: SECRET_API_KEY, CHATKAZI_BASE_URL: gateway.baseUrl, ...env },
    answer === undefined ? {} : { capabilities: { elicitation: {} } }
  )
  servers.push(server)
  if (answer !== undefined) {
    server.client.setRequestHandler(ElicitRequestSchema, (request, extra) => {
      answer.questions.push(request.params)
      return answer.current(request.params, extra.signal)
    })
  }
  const tools = await server.listTools()
  return { server, tool: (name: string) => tools.find((t) => t.name === name) as Tool }
}

/** The texts that reached the gateway, in order. */
const sentTexts = () => gateway.received("POST", "/messages/text").map((r) => (r.json as { text: string }).text)

const reply = (result: ElicitResult): Answer => async () => result
const TICKED = reply({ action: "accept", content: { confirm: true } })

describe("a client that can ask the user (auto)", () => {
  const user = { current: TICKED, questions: [] as Array<Question> }
  let server: McpHarness
  let tool: (name: string) => Tool

  beforeAll(async () => {
    ;({ server, tool } = await start({ CHATKAZI_CONFIRM_TIMEOUT_SECONDS: "1", CHATKAZI_ALLOWED_RECIPIENTS: "2547*" }, user))
  })
  beforeEach(() => {
    user.current = TICKED
    user.questions.length = 0
  })

  const sendText = (text: string, to = "+254 712 345 678") =>
    server.call("send_whatsapp_text", { sessionId: "shop", to, text })

  it("accepted with the box ticked: asked once, in plain words and without the key, then sent", async () => {
    const result = await sendText("Habari Juma, your order is ready.")
    expect(result.isError ?? false, textOf(result)).toBe(false)
    expect(user.questions).toHaveLength(1)
    const question = user.questions[0]!
    expect(question).toMatchObject({
      mode: "form",
      requestedSchema: { type: "object", properties: { confirm: { type: "boolean" } }, required: ["confirm"] }
    })
    expect(question.message).toBe(
      "Send this WhatsApp text message in your name? It cannot be taken back.\n\n" +
        "From session: \"shop\"\nTo: +254712345678\nText:\n> Habari Juma, your order is ready."
    )
    expect(JSON.stringify(question)).not.toContain(SECRET_API_KEY)
    expect(sentTexts()).toEqual(["Habari Juma, your order is ready."])
    expect(textOf(result)).toBe(
      'Sent the text message to 254712345678 from session "shop" (message id TXT-1), status sent. The user approved it.'
    )
    expect(result.structuredContent).toMatchObject({ messageId: "TXT-1", confirmation: { outcome: "approved_by_user" } })
    expect(outputSchemaProblems(tool("send_whatsapp_text"), result)).toEqual([])
  })

  it.each([
    ["declined", { action: "decline" }, "the user declined to send this text message to +254712345678"],
    ["dismissed", { action: "cancel" }, "the user closed the question about this text message"],
    [
      "unticked",
      { action: "accept", content: { confirm: false } },
      'the user answered the question about this text message to +254712345678 from session "shop" without ticking "Yes, send it"'
    ]
  ] as const)("%s: nothing is sent, and the result (not an error) says so", async (outcome, answer, words) => {
    user.current = reply(answer as ElicitResult)
    const result = await sendText("Are you free tonight?")
    expect(result.isError ?? false).toBe(false)
    expect(textOf(result)).toContain(`Not sent: ${words}`)
    expect(textOf(result)).toContain("Do not send it again, or try another way to send it, unless the user asks you to.")
    expect(result.structuredContent).toMatchObject({ confirmation: { outcome } })
    expect(result.structuredContent).not.toHaveProperty("messageId")
    expect(outputSchemaProblems(tool("send_whatsapp_text"), result)).toEqual([])
    expect(gateway.apiRequests).toEqual([])
  })

  it("no answer within CHATKAZI_CONFIRM_TIMEOUT_SECONDS: nothing sent, said so, and the question is withdrawn", async () => {
    let withdrawn = false
    user.current = (_, signal) =>
      new Promise((resolve) =>
        signal.addEventListener("abort", () => {
          withdrawn = true
          resolve({ action: "cancel" })
        })
      )
    const result = await sendText("Still there?")
    expect(result.isError ?? false).toBe(false)
    expect(textOf(result)).toContain("the user did not answer the question about this text message")
    expect(textOf(result)).toContain("within 1 second (CHATKAZI_CONFIRM_TIMEOUT_SECONDS)")
    expect(result.structuredContent).toMatchObject({ confirmation: { outcome: "unanswered" } })
    expect(withdrawn).toBe(true)
    expect(gateway.apiRequests).toEqual([])
  })

  it("an answer that does not fit the question is refused: nothing sent", async () => {
    user.current = reply({ action: "accept", content: {} })
    const result = await sendText("Hello?")
    expect(result.isError).toBe(true)
    expect(textOf(result)).toContain('"confirm" is required')
    expect(textOf(result)).toContain("Nothing was sent")
    expect(gateway.apiRequests).toEqual([])
  })

  it("a recipient off the allowlist is refused before anyone is asked", async () => {
    const result = await sendText("Hi", "447700900123")
    expect(result.isError).toBe(true)
    expect(textOf(result)).toContain("not on the allowlist")
    expect(user.questions).toEqual([])
  })

  it("a file: the question shows its kind, link, file name and caption; approved, it is sent", async () => {
    const url = gateway.serveMedia("/files/price-list.pdf", { size: 4096, contentType: "application/pdf" })
    const result = await server.call("send_whatsapp_media", {
      sessionId: "shop",
      to: "254712345678",
      url,
      type: "document",
      fileName: "price-list.pdf",
      caption: "Our prices"
    })
    expect(result.isError ?? false, textOf(result)).toBe(false)
    expect(user.questions[0]!.message).toBe(
      "Send this WhatsApp document in your name? It cannot be taken back.\n\n" +
        `From session: "shop"\nTo: +254712345678\nFile (document): "${url}"\nFile name: "price-list.pdf"\nType: "application/pdf"\nCaption:\n> Our prices`
    )
    expect(gateway.received("POST", "/messages/media").map((r) => r.json)).toEqual([
      { sessionId: "shop", to: "254712345678", url, type: "document", caption: "Our prices", fileName: "price-list.pdf", mimetype: "application/pdf" }
    ])
    expect(result.structuredContent).toMatchObject({ confirmation: { outcome: "approved_by_user" } })
    expect(outputSchemaProblems(tool("send_whatsapp_media"), result)).toEqual([])
  })

  it("over a run of answers, the gateway sees exactly the approved messages", async () => {
    const answers: ReadonlyArray<[string, Answer]> = [
      ["one: declined", reply({ action: "decline" })],
      ["two: approved", TICKED],
      ["three: unticked", reply({ action: "accept", content: { confirm: false } })],
      ["four: dismissed", reply({ action: "cancel" })],
      ["five: approved", TICKED]
    ]
    for (const [text, answer] of answers) {
      user.current = answer
      await sendText(text)
    }
    expect(user.questions).toHaveLength(5)
    expect(sentTexts()).toEqual(["two: approved", "five: approved"])
    // The operator's log says what was decided, not what the messages said.
    await expect.poll(() => server.stderr).toContain("Send not approved: unticked")
    expect(server.stderr).toContain("Send approved by the user")
    expect(server.stderr).not.toContain("three: unticked")
  })
})

describe("a client that cannot ask", () => {
  it("auto: sends as before, without a confirmation step", async () => {
    const { server } = await start({})
    const result = await server.call("send_whatsapp_text", { to: "254712345678", text: "Hi" })
    expect(result.isError ?? false, textOf(result)).toBe(false)
    expect(result.structuredContent).not.toHaveProperty("confirmation")
    expect(sentTexts()).toEqual(["Hi"])
  })

  describe("always: the two-step code", () => {
    let server: McpHarness
    let tool: (name: string) => Tool
    beforeAll(async () => {
      ;({ server, tool } = await start({ CHATKAZI_CONFIRM_SENDS: "always" }))
    })

    const preview = async (args: Record<string, unknown>) => {
      const result = await server.call("send_whatsapp_text", args)
      expect(result.isError ?? false, textOf(result)).toBe(false)
      expect(outputSchemaProblems(tool("send_whatsapp_text"), result)).toEqual([])
      const confirmation = (result.structuredContent as { confirmation: { outcome: string; confirmationCode: string } })
        .confirmation
      expect(confirmation.outcome).toBe("code_issued")
      return { result, code: confirmation.confirmationCode }
    }

    const ARGS = { sessionId: "shop", to: "254712345678", text: "Habari Juma" }

    it("the first call sends nothing and returns a preview and a code; the same call with it sends, once", async () => {
      const { code, result } = await preview(ARGS)
      expect(gateway.apiRequests).toEqual([])
      expect(textOf(result)).toContain("Not sent yet")
      expect(textOf(result)).toContain("From session: \"shop\"\nTo: +254712345678\nText:\n> Habari Juma")
      expect(textOf(result)).toContain(`confirmationCode "${code}"`)
      expect(result.structuredContent).toMatchObject({
        confirmation: { preview: "From session: \"shop\"\nTo: +254712345678\nText:\n> Habari Juma" }
      })

      const sent = await server.call("send_whatsapp_text", { ...ARGS, confirmationCode: code })
      expect(sent.isError ?? false, textOf(sent)).toBe(false)
      expect(textOf(sent)).toContain("Sent the text message")
      expect(textOf(sent)).toContain("The user approved it with its confirmation code.")
      expect(sent.structuredContent).toMatchObject({ confirmation: { outcome: "approved_with_code" } })
      expect(sentTexts()).toEqual(["Habari Juma"])

      const reused = await server.call("send_whatsapp_text", { ...ARGS, confirmationCode: code })
      expect(reused.isError).toBe(true)
      expect(textOf(reused)).toContain("Refused, nothing was sent")
      expect(textOf(reused)).toContain("already used")
      expect(sentTexts()).toEqual(["Habari Juma"])
    })

    it("a code with other arguments is refused and nothing is sent", async () => {
      const { code } = await preview(ARGS)
      for (const other of [{ text: "Habari Juma!" }, { to: "254700000000" }, { sessionId: "default" }]) {
        const result = await server.call("send_whatsapp_text", { ...ARGS, ...other, confirmationCode: code })
        expect(result.isError).toBe(true)
        expect(textOf(result)).toContain("issued for a different message")
      }
      const made = await server.call("send_whatsapp_text", { ...ARGS, confirmationCode: "abcd-efgh-jkmn-pqrs" })
      expect(textOf(made)).toContain("this server did not issue it")
      expect(gateway.apiRequests).toEqual([])
    })

    it("a file goes through the same two steps", async () => {
      const url = gateway.serveMedia("/files/photo.jpg", { size: 2048, contentType: "image/jpeg" })
      const args = { to: "254712345678", url, caption: "New stock" }
      const first = await server.call("send_whatsapp_media", args)
      expect(outputSchemaProblems(tool("send_whatsapp_media"), first)).toEqual([])
      const { confirmationCode } = (first.structuredContent as { confirmation: { confirmationCode: string } }).confirmation
      expect(textOf(first)).toContain(`File (image): "${url}"\nType: "image/jpeg"\nCaption:\n> New stock`)
      expect(gateway.received("POST", "/messages/media")).toEqual([])
      const sent = await server.call("send_whatsapp_media", { ...args, confirmationCode })
      expect(sent.isError ?? false, textOf(sent)).toBe(false)
      expect(gateway.received("POST", "/messages/media")).toHaveLength(1)
    })
  })
})

describe("never", () => {
  it("sends without asking, even a client that could be asked", async () => {
    const user = { current: reply({ action: "decline" }), questions: [] as Array<Question> }
    const { server } = await start({ CHATKAZI_CONFIRM_SENDS: "never" }, user)
    const result = await server.call("send_whatsapp_text", { to: "254712345678", text: "No questions" })
    expect(result.isError ?? false, textOf(result)).toBe(false)
    expect(user.questions).toEqual([])
    expect(sentTexts()).toEqual(["No questions"])
  })
})
