/**
 * Running tools the way the MCP server does (decode the raw arguments, run the program) against
 * test layers, and checking what the host would receive.
 */
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv"
import { Effect, Layer, Schema } from "effect"
import { Account } from "../../src/services/Account.js"
import { ChatKazi, type ChatKaziApi } from "../../src/services/ChatKazi.js"
import { ChatKaziTest } from "../../src/services/ChatKaziTest.js"
import { Confirmations } from "../../src/services/Confirmations.js"
import { Linking, type LinkingSettings } from "../../src/services/Linking.js"
import { MediaProbe, type MediaProbeApi } from "../../src/services/MediaProbe.js"
import { SafetyConfig, type SafetySettings } from "../../src/services/SafetyConfig.js"
import { SendGuard } from "../../src/services/SendGuard.js"
import { StateStore } from "../../src/services/StateStore.js"
import type { ChatKaziError } from "../../src/errors/ChatKaziError.js"
import { layerTools } from "../../src/testing.js"
import { type AnyTool, decodeInput, objectJsonSchema, type Tool, type ToolReply } from "../../src/tools/Tool.js"

/** The account tests act for. */
export const TEST_ACCOUNT = Account.fromKey("ck_test_account")

/**
 * A fresh SendGuard and Confirmations on a fresh memory store each time the layer is built, so tests
 * never share what was sent or which codes were issued; and the account they act for.
 */
export const guardLayer = (safety: Partial<SafetySettings> = {}) =>
  Layer.mergeAll(
    SendGuard.layerTest(safety),
    Confirmations.layer.pipe(
      Layer.provide(Layer.sync(SafetyConfig, () => SafetyConfig.make(safety))),
      Layer.provide(StateStore.layerMemory)
    ),
    Layer.succeed(Account, TEST_ACCOUNT)
  )

export interface ToolEnv {
  /** Session ids and their states in the in-memory gateway. */
  readonly sessions?: Readonly<Record<string, string>>
  readonly safety?: Partial<SafetySettings>
  readonly probe?: Layer.Layer<MediaProbe>
  readonly linking?: Partial<LinkingSettings>
}

/**
 * The in-memory gateway (with its recorder), a fresh SendGuard, a media probe (trusting by default),
 * and a fresh linking memory.
 */
export const toolLayer = (env: ToolEnv = {}) =>
  Layer.merge(
    layerTools({ sessions: env.sessions ?? {}, ...(env.safety ? { safety: env.safety } : {}), ...(env.probe ? { mediaProbe: env.probe } : {}) }),
    Linking.layerTest(env.linking)
  )

/** A probe that answers from a script and records the URLs it was asked about. */
export const scriptedProbe = (check: MediaProbeApi["check"]) => {
  const checked: Array<string> = []
  const layer = Layer.succeed(MediaProbe, {
    check: (url) => Effect.suspend(() => {
      checked.push(url)
      return check(url)
    })
  })
  return { checked, layer }
}

/** A ChatKazi whose given operations answer as told; any other operation is a defect in the test. */
export const stubChatKazi = (operations: Partial<ChatKaziApi>) =>
  Layer.succeed(
    ChatKazi,
    new Proxy(operations as ChatKaziApi, {
      get: (target, name) =>
        name in target
          ? target[name as keyof ChatKaziApi]
          : (..._: ReadonlyArray<unknown>) => Effect.dieMessage(`stubChatKazi: ${String(name)} was not expected`)
    })
  )

/** What the MCP server does with a call: decode the raw arguments (all problems at once), then run. */
export const callTool = <I, IE, O, OE, R>(
  tool: Tool<I, IE, O, OE, R>,
  args: unknown
): Effect.Effect<ToolReply<O>, ChatKaziError, R> => Effect.flatMap(decodeInput(tool, args), (input) => tool.run(input))

/** The problems of an `InvalidInput`; any other error fails the test. */
export const problemsOf = (error: ChatKaziError): ReadonlyArray<string> => {
  if (error._tag !== "InvalidInput") throw new Error(`expected InvalidInput, got ${error._tag}`)
  return error.problems
}

const validator = new AjvJsonSchemaValidator()

/**
 * The `structuredContent` the server would send: the data encoded with the tool's output schema
 * (nothing left over), then checked against the listed JSON Schema the way the SDK client checks it.
 */
export const structuredContent = (tool: AnyTool, data: unknown) =>
  Effect.gen(function*() {
    const encoded = yield* Schema.encodeUnknown(tool.output, { onExcessProperty: "error", errors: "all" })(data)
    const verdict = validator.getValidator(objectJsonSchema(tool.output) as never)(encoded)
    if (!verdict.valid) return yield* Effect.dieMessage(`structuredContent of ${tool.name} fails its outputSchema: ${verdict.errorMessage}`)
    return encoded as Record<string, unknown>
  })

/** The PNG file signature. */
export const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
