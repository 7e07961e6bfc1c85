/**
 * Prompts: guided flows a host offers its user (often as slash commands), each walking the model
 * through the tools in the right order. Their arguments are Effect Schemas decoded like tool input,
 * so a bad argument is refused with every problem listed (JSON-RPC -32602) before any prompt is made.
 */
import type { Server } from "@modelcontextprotocol/sdk/server/index.js"
import {
  ErrorCode,
  GetPromptRequestSchema,
  type GetPromptResult,
  ListPromptsRequestSchema,
  type Prompt
} from "@modelcontextprotocol/sdk/types.js"
import { Effect, Either, Schema } from "effect"
import { MessageText, OptionalSessionId, Recipient } from "../tools/Inputs.js"
import { SCAN_HOW } from "../tools/LinkCode.js"
import { decodeArguments, objectJsonSchema } from "../tools/Tool.js"
import { ProtocolError } from "./protocolError.js"

interface PromptDefinition<I> {
  readonly name: string
  readonly title: string
  readonly description: string
  readonly args: Schema.Schema<I, any>
  /** The tools the prompt leads the model to: it is offered only where all of them are (not in read-only mode). */
  readonly tools: ReadonlyArray<string>
  readonly text: (input: I) => string
}

const definePrompt = <I>(prompt: PromptDefinition<I>): PromptDefinition<I> => prompt

export const linkWhatsapp = definePrompt({
  name: "link_whatsapp",
  title: "Link a WhatsApp number",
  description: "Link the user's phone to a ChatKazi WhatsApp session: start it, show the QR code, wait until it is connected.",
  args: Schema.Struct({ sessionId: OptionalSessionId }),
  tools: ["get_session_status", "start_session", "get_session_qr", "wait_for_session"],
  text: ({ sessionId }) =>
    [
      `Link my WhatsApp to the ChatKazi session "${sessionId}":`,
      `1. Call get_session_status for "${sessionId}". If it is already connected, tell me so and stop. If it is ` +
      "not_started, disconnected or logged_out, or does not exist, call start_session for it. If start_session " +
      "reports a conflict, call get_session_status again and follow its next step.",
      `2. Call get_session_qr for "${sessionId}" and show me the QR code image it returns, so I can scan it in ` +
      `${SCAN_HOW}. If it gives a pairing code instead, tell me the code.`,
      `3. Call wait_for_session for "${sessionId}". Whenever it returns a new QR code or pairing code ` +
      "(showToUser: true), show it to me and call wait_for_session again. If it times out while I am still " +
      "scanning, call it again.",
      "4. When the session is connected, confirm it to me in one sentence. If it ends in another state, tell me " +
      "the state and the next step the tool gave."
    ].join("\n")
})

export const sendWhatsappMessage = definePrompt({
  name: "send_whatsapp_message",
  title: "Send a WhatsApp message",
  description: "Send one WhatsApp text message through ChatKazi after checking that the session is connected.",
  args: Schema.Struct({ to: Recipient, text: MessageText, sessionId: OptionalSessionId }),
  tools: ["get_session_status", "send_whatsapp_text"],
  text: ({ sessionId, text, to }) =>
    [
      `Send this WhatsApp message from the ChatKazi session "${sessionId}" to ${to}:`,
      "",
      text,
      "",
      `1. Call get_session_status for "${sessionId}". If it is not connected, do not send: tell me its state and ` +
      "the next step, and stop.",
      "2. Call send_whatsapp_text once with exactly this recipient and text. Do not call it again to check that it " +
      "worked: a repeat could send the message twice. If it answers with a preview and a confirmationCode instead, " +
      "show me the preview and repeat the call with the code only if I agree.",
      "3. Report the result in one sentence: the message id, or the error's guidance as the tool gave it."
    ].join("\n")
})

export const prompts: ReadonlyArray<PromptDefinition<any>> = [linkWhatsapp, sendWhatsappMessage]

/** The prompts whose arguments include a session id (for completion). */
export const promptsWithSessionId = prompts.map((prompt) => prompt.name)

export const describePrompt = (prompt: PromptDefinition<any>): Prompt => {
  const schema = objectJsonSchema(prompt.args) as unknown as {
    properties: Record<string, { description?: string }>
    required?: ReadonlyArray<string>
  }
  return {
    name: prompt.name,
    title: prompt.title,
    description: prompt.description,
    arguments: Object.entries(schema.properties).map(([name, property]) => ({
      name,
      ...(property.description === undefined ? {} : { description: property.description }),
      required: schema.required?.includes(name) ?? false
    }))
  }
}

/** The prompts whose tools are all offered. */
export const promptsFor = (offeredTools: ReadonlyArray<string>): ReadonlyArray<PromptDefinition<any>> =>
  prompts.filter((prompt) => prompt.tools.every((tool) => offeredTools.includes(tool)))

/** The prompt's messages, or a -32602 error naming every problem with its arguments. */
export const getPrompt = (
  name: string,
  args: Readonly<Record<string, string>> | undefined,
  offered: ReadonlyArray<PromptDefinition<any>> = prompts
): GetPromptResult => {
  const prompt = offered.find((p) => p.name === name)
  if (prompt === undefined) {
    throw new ProtocolError(
      ErrorCode.InvalidParams,
      `Unknown prompt "${name}". The prompts are: ${offered.map((p) => p.name).join(", ")}.`
    )
  }
  const decoded = Effect.runSync(Effect.either(decodeArguments(prompt.args, args ?? {})))
  if (Either.isLeft(decoded)) {
    throw new ProtocolError(
      ErrorCode.InvalidParams,
      `Invalid arguments for the prompt ${name}: ${decoded.left.problems.join("; ")}.`
    )
  }
  return {
    description: prompt.description,
    messages: [{ role: "user", content: { type: "text", text: prompt.text(decoded.right) } }]
  }
}

/**
 * Each prompt described once, when first listed: the JSON Schema of its arguments costs about 0.2 ms,
 * and stateless HTTP registers the prompts on a new server for every request.
 */
const descriptions = new Map<PromptDefinition<any>, Prompt>()
const described = (prompt: PromptDefinition<any>): Prompt => {
  let description = descriptions.get(prompt)
  if (description === undefined) descriptions.set(prompt, description = describePrompt(prompt))
  return description
}

/** Registers `prompts/list` and `prompts/get` for the prompts `offeredTools` allow. Call before the server connects. */
export const registerPrompts = (server: Server, offeredTools: ReadonlyArray<string>): void => {
  const offered = promptsFor(offeredTools)
  server.registerCapabilities({ prompts: {} })
  server.setRequestHandler(ListPromptsRequestSchema, async () => ({ prompts: offered.map(described) }))
  server.setRequestHandler(
    GetPromptRequestSchema,
    async (request) => getPrompt(request.params.name, request.params.arguments, offered)
  )
}
