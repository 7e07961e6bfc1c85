/**
 * The MCP edge without a transport: what one `tools/call` (a name and raw arguments) becomes.
 * The tools run on the in-memory layers of `chatkazi-mcp/testing`.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { MissingApiKey } from "../../src/errors/ChatKaziError.js"
import { makeDispatch } from "../../src/server/dispatch.js"
import { serveStdio } from "../../src/server/stdio.js"
import { ChatKazi } from "../../src/services/ChatKazi.js"
import { ChatKaziTest, layerTools } from "../../src/testing.js"
import { tools, type ToolServices } from "../../src/tools/registry.js"

const textOf = (result: { content: ReadonlyArray<{ type: string; text?: string }> }) =>
  result.content.filter((part) => part.type === "text").map((part) => part.text).join("\n")

const send = { sessionId: "default", to: "254712345678", text: "hello" }

describe("dispatch", () => {
  it.effect("an unknown tool is an InvalidCall naming the tools there are", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(makeDispatch({ tools }).call<ToolServices>("send_sms", {}))
      expect(error._tag).toBe("InvalidCall")
      expect(error.message).toContain('Unknown tool "send_sms"')
      expect(error.message).toContain("send_whatsapp_text")
    }).pipe(Effect.provide(layerTools())))

  it.effect.each([["an array", [1]], ["a string", "hi"], ["null", null], ["a number", 3]] as const)(
    "arguments that are %s are an InvalidCall, and nothing is sent",
    ([, args]) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(makeDispatch({ tools }).call<ToolServices>("send_whatsapp_text", args))
        expect(error).toMatchObject({ _tag: "InvalidCall", message: "The arguments of send_whatsapp_text must be a JSON object." })
        expect((yield* ChatKaziTest).calls).toEqual([])
      }).pipe(Effect.provide(layerTools()))
  )

  it.effect("invalid arguments are an isError result listing every problem, and nothing is sent", () =>
    Effect.gen(function*() {
      const result = yield* makeDispatch({ tools }).call<ToolServices>("send_whatsapp_text", { to: "0712", text: "", extra: 1 })
      expect(result.isError).toBe(true)
      const text = textOf(result)
      expect(text).toContain("to: ")
      expect(text).toContain("text: must not be empty")
      expect(text).toContain("extra")
      expect(text).toContain("nothing was sent")
      expect((yield* ChatKaziTest).calls).toEqual([])
    }).pipe(Effect.provide(layerTools())))

  it.effect("a valid call runs the tool: the text for the model and the structured content", () =>
    Effect.gen(function*() {
      const result = yield* makeDispatch({ tools }).call<ToolServices>("send_whatsapp_text", send)
      expect(result.isError).toBeUndefined()
      expect(result.structuredContent).toMatchObject({ sessionId: "default", to: "254712345678" })
      expect((yield* ChatKaziTest).sent).toEqual([send])
    }).pipe(Effect.provide(layerTools())))

  it.effect("read-only: only read-only tools are listed, and a send is refused with guidance, nothing sent", () =>
    Effect.gen(function*() {
      const dispatch = makeDispatch({ tools, readOnly: true })
      expect(dispatch.tools.map((tool) => tool.name)).not.toContain("send_whatsapp_text")
      expect(dispatch.tools.map((tool) => tool.name)).toContain("list_sessions")
      const result = yield* dispatch.call<ToolServices>("send_whatsapp_text", send)
      expect(result.isError).toBe(true)
      expect(textOf(result)).toContain("CHATKAZI_READ_ONLY=true")
      expect((yield* ChatKaziTest).calls).toEqual([])
      expect((yield* dispatch.call<ToolServices>("list_sessions", {})).isError).toBeUndefined()
    }).pipe(Effect.provide(layerTools())))

  it.effect("services that could not be built: every call answers with that failure's guidance, nothing sent", () =>
    Effect.gen(function*() {
      const dispatch = makeDispatch({ tools, unavailable: new MissingApiKey() })
      for (const [name, args] of [["list_sessions", {}], ["send_whatsapp_text", send]] as const) {
        const result = yield* dispatch.call<ToolServices>(name, args)
        expect(result.isError).toBe(true)
        expect(textOf(result)).toBe(new MissingApiKey().message)
      }
      expect((yield* ChatKaziTest).calls).toEqual([])
    }).pipe(Effect.provide(layerTools())))

  it.effect("a notice is put before the text of every result, success or error", () =>
    Effect.gen(function*() {
      const dispatch = makeDispatch({ tools, notice: "[NOTICE] simulated" })
      const ok = yield* dispatch.call<ToolServices>("list_sessions", {})
      const refused = yield* dispatch.call<ToolServices>("send_whatsapp_text", { ...send, to: "x" })
      for (const result of [ok, refused]) expect(textOf(result).startsWith("[NOTICE] simulated\n")).toBe(true)
      expect(refused.isError).toBe(true)
    }).pipe(Effect.provide(layerTools())))

  it.effect("a defect in a tool is an isError result that says it may have taken effect, never a crash", () =>
    Effect.gen(function*() {
      const result = yield* makeDispatch({ tools }).call<ToolServices>("send_whatsapp_text", send).pipe(
        Effect.provideService(ChatKazi, ChatKazi.of({ ...({} as ChatKazi["Type"]), sendText: () => Effect.die("boom") }))
      )
      expect(result.isError).toBe(true)
      expect(textOf(result)).toContain("may or may not have taken effect")
    }).pipe(Effect.provide(layerTools())))
})

describe("serveStdio's layer", () => {
  it("must provide every service of the given tools: a layer that leaves one out does not compile", () => {
    const serve = () =>
      serveStdio({
        name: "t",
        version: "1",
        tools,
        // @ts-expect-error SendGuard and MediaProbe are missing
        layer: ChatKazi.layerTest()
      })
    const complete = () => serveStdio({ name: "t", version: "1", tools, layer: layerTools() })
    expect([typeof serve, typeof complete]).toEqual(["function", "function"])
  })
})
