/**
 * chatkazi-mcp as a library, for Effect apps that compose the tool programs: the services and their
 * layers, the domain models, the typed errors, the tools, the stdio MCP server, and the sandbox (a
 * ChatKazi simulator with its HTTP app and in-process layers). Test layers are in
 * `chatkazi-mcp/testing`. Importing this entry loads neither the MCP SDK nor qrcode: `serveStdio`
 * loads the SDK when it starts, and `get_session_qr` loads qrcode when it draws a code.
 */

// Errors: one union, each member's `message` says what happened and what to do next.
export * from "./errors/ChatKaziError.js"

// Domain models and services, each with its layers (`X.layer`, `X.layerTest`, `X.layerXxx`).
export * from "./services/Domain.js"
export { Account, type AccountInfo } from "./services/Account.js"
export { ChatKazi, type ChatKaziApi } from "./services/ChatKazi.js"
export { ChatKaziConfig, type ChatKaziSettings, DEFAULT_BASE_URL } from "./services/ChatKaziConfig.js"
export { ChatKaziTest, type ChatKaziTestApi, type Operation, type RecordedCall } from "./services/ChatKaziTest.js"
export {
  fetchTransport,
  type GatewayRequest,
  type GatewayTransport,
  httpClientTransport,
  type TransportFailure
} from "./services/GatewayTransport.js"
export {
  type ConfirmationSettings,
  Confirmations,
  type ConfirmationsApi,
  type MessageContent,
  type PendingSend,
  type Verdict
} from "./services/Confirmations.js"
export * from "./services/Elicitation.js"
export { Linking, type LinkingApi, type LinkingSettings } from "./services/Linking.js"
export * from "./services/Inbox.js"
export * from "./services/IncomingMessage.js"
export * from "./services/WebhookConfig.js"
export { type MediaFacts, MediaProbe, type MediaProbeApi } from "./services/MediaProbe.js"
export { Progress, type ProgressReport } from "./services/Progress.js"
export { SafetyConfig, type SafetySettings } from "./services/SafetyConfig.js"
export { type GuardedReceipt, type OutgoingMessage, SendGuard, type SendGuardApi } from "./services/SendGuard.js"
export { type PaceVerdict, StateStore, type StateStoreApi, StoreUnavailable } from "./services/StateStore.js"
// Tools: definitions whose `run` is an Effect program, the registry, and the input schemas they share.
export * from "./tools/Inputs.js"
export { tools, type ToolServices } from "./tools/registry.js"
export {
  type AnyTool,
  defineTool,
  type Tool,
  type ToolAnnotations,
  type ToolImage,
  type ToolReply,
  type ToolRequirements
} from "./tools/Tool.js"
export { getSessionQr } from "./tools/getSessionQr.js"
export { getSessionStatus } from "./tools/getSessionStatus.js"
export { getWebhookUrl } from "./tools/getWebhookUrl.js"
export { listMessages } from "./tools/listMessages.js"
export * from "./tools/LinkCard.js"
export { linkCardState } from "./tools/linkCardState.js"
export { linkCardResource, listedTools, readUiResource, uiResourceProvider, UI_EXTENSION, UI_MIME_TYPE } from "./server/uiResource.js"
export { listSessions } from "./tools/listSessions.js"
export { logoutSession } from "./tools/logoutSession.js"
export { sendWhatsappMedia } from "./tools/sendWhatsappMedia.js"
export { sendWhatsappText } from "./tools/sendWhatsappText.js"
export { startSession } from "./tools/startSession.js"
export { waitForMessage } from "./tools/waitForMessage.js"
export { waitForSession } from "./tools/waitForSession.js"

// The MCP server over stdio (it sends every log line to stderr itself).
export { StderrLogger } from "./server/logging.js"
export { serveStdio, type StdioOptions } from "./server/stdio.js"

// The sandbox: a simulated ChatKazi, in process or as an HTTP app. The standalone socket server
// stays with the command: it needs @effect/platform-node.
export { DEFAULT_SANDBOX_SETTINGS, SandboxConfig, type SandboxSettings } from "./sandbox/SandboxConfig.js"
export * as SandboxGateway from "./sandbox/SandboxGateway.js"
export * as SandboxHttpClient from "./sandbox/SandboxHttpClient.js"
export * as SandboxMediaProbe from "./sandbox/SandboxMediaProbe.js"
export { sandboxMessages } from "./tools/sandboxMessages.js"
export {
  type AcceptedMessage,
  type Receipt,
  Refusal,
  type SessionInfo,
  Simulator,
  type SimulatorApi,
  type SimulatorState
} from "./sandbox/Simulator.js"
export * as SimulatorRules from "./sandbox/Simulator.js"
export { SimulatorApp } from "./sandbox/SimulatorApp.js"
export { SANDBOX_NOTICE, serveSandbox, type SandboxModeOptions } from "./server/sandbox.js"
