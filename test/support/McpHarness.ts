/**
 * Runs the built server (the package's `bin`, see serverEntry.ts) as a subprocess and drives it with
 * the official MCP SDK `Client`, recording everything the process writes so tests can check that
 * stdout carries JSON-RPC only and that no secret appears anywhere.
 *
 * Two ways to connect:
 * - "sdk": the SDK's own `StdioClientTransport` (what hosts use), tapped to record every message
 *   and every stdout line it could not parse as JSON-RPC;
 * - "raw": our own child_process transport, for what the SDK transport hides: every raw stdout line,
 *   the exit code, closing stdin on its own, and signals.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { getDefaultEnvironment, StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js"
import {
  type CallToolResult,
  CallToolResultSchema,
  type ClientCapabilities,
  type JSONRPCMessage,
  JSONRPCMessageSchema,
  type Tool
} from "@modelcontextprotocol/sdk/types.js"
import { Ajv, type ValidateFunction } from "ajv"
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { serverEntry, serverNode } from "./serverEntry.js"

/** A value no output may ever contain. */
export const SECRET_API_KEY = "ck_e2e_SECRET-4f9c1d7a-never-print-me"

export type ServerEnv = Readonly<Record<string, string | undefined>>

export interface StartOptions {
  readonly transport?: "sdk" | "raw"
  /** Per-request timeout of the client; a call that takes longer fails the test (no hangs). */
  readonly requestTimeoutMs?: number
  /** What the client declares it can do, e.g. `{ elicitation: {} }` (then answer with `client.setRequestHandler`). */
  readonly capabilities?: ClientCapabilities
}

export interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

/** The environment the server gets: the SDK's safe defaults plus the given settings (undefined ones left out). */
export const serverEnvironment = (env: ServerEnv): Record<string, string> => {
  const result: Record<string, string> = { ...getDefaultEnvironment() }
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined) result[name] = value
  }
  return result
}

export class McpHarness {
  /** Every JSON-RPC message the server sent, as JSON text. */
  readonly messages: Array<string> = []
  /** stdout lines that were not JSON-RPC messages (must stay empty). */
  readonly protocolErrors: Array<string> = []
  /** Raw stdout lines ("raw" transport only). */
  readonly stdoutLines: Array<string> = []
  private stderrChunks: Array<string> = []
  private stderrBytes = 0
  private readonly requestTimeoutMs: number
  private listedTools: ReadonlyArray<Tool> | undefined

  private constructor(
    readonly client: Client,
    private readonly transport: TappedSdkTransport | RawStdioTransport,
    options: StartOptions
  ) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000
  }

  static async start(env: ServerEnv, options: StartOptions = {}): Promise<McpHarness> {
    const environment = serverEnvironment(env)
    const transport = options.transport === "raw"
      ? new RawStdioTransport(environment)
      : new TappedSdkTransport(environment)
    const client = new Client(
      { name: "chatkazi-e2e", version: "0.0.0" },
      options.capabilities === undefined ? undefined : { capabilities: options.capabilities }
    )
    const harness = new McpHarness(client, transport, options)
    transport.record = {
      message: (m) => harness.messages.push(JSON.stringify(m)),
      protocolError: (line) => harness.protocolErrors.push(line),
      stdoutLine: (line) => harness.stdoutLines.push(line),
      stderr: (chunk) => {
        // Bounded: a runaway logger must not exhaust the test's memory.
        if (harness.stderrBytes < 16 * 1024 * 1024) {
          harness.stderrChunks.push(chunk)
          harness.stderrBytes += chunk.length
        }
      }
    }
    await client.connect(transport)
    return harness
  }

  /** All of stderr so far. */
  get stderr(): string {
    return this.stderrChunks.join("")
  }

  /** Lists the tools (which also makes the client validate `structuredContent` against output schemas). */
  async listTools(): Promise<ReadonlyArray<Tool>> {
    const { tools } = await this.client.listTools(undefined, { timeout: this.requestTimeoutMs })
    this.listedTools = tools
    return tools
  }

  async tools(): Promise<ReadonlyArray<Tool>> {
    return this.listedTools ?? this.listTools()
  }

  /** Calls a tool; the SDK validates the result shape (and `structuredContent` once tools were listed). */
  async call(name: string, args?: Record<string, unknown>): Promise<CallToolResult> {
    const result = await this.client.callTool(
      { name, ...(args === undefined ? {} : { arguments: args }) },
      CallToolResultSchema,
      { timeout: this.requestTimeoutMs }
    )
    return CallToolResultSchema.parse(result)
  }

  /** The child process, for the "raw" transport. */
  get child(): ChildProcessWithoutNullStreams {
    if (!(this.transport instanceof RawStdioTransport)) throw new Error("only the raw transport exposes the process")
    return this.transport.child
  }

  /** Resolves when the process has exited ("raw" transport). */
  get exited(): Promise<Exit> {
    if (!(this.transport instanceof RawStdioTransport)) throw new Error("only the raw transport exposes the exit")
    return this.transport.exited
  }

  /** Everything the process wrote or answered, for secret checks. */
  get allOutput(): string {
    return [...this.stdoutLines, ...this.messages, ...this.protocolErrors, this.stderr].join("\n")
  }

  async close(): Promise<void> {
    await this.client.close().catch(() => undefined)
    if (this.transport instanceof RawStdioTransport) await this.transport.kill()
  }
}

interface Recorder {
  message(message: JSONRPCMessage): void
  protocolError(line: string): void
  stdoutLine(line: string): void
  stderr(chunk: string): void
}

const noRecorder: Recorder = { message() {}, protocolError() {}, stdoutLine() {}, stderr() {} }

/** The SDK's `StdioClientTransport`, with every message and parse failure recorded on the way in. */
class TappedSdkTransport implements Transport {
  record: Recorder = noRecorder
  onclose?: () => void
  onerror?: (error: Error) => void
  onmessage?: (message: JSONRPCMessage) => void
  private readonly inner: StdioClientTransport

  constructor(env: Record<string, string>) {
    this.inner = new StdioClientTransport({ command: serverNode, args: [serverEntry], env, stderr: "pipe" })
    this.inner.stderr?.on("data", (chunk: Buffer) => this.record.stderr(chunk.toString("utf8")))
  }

  start() {
    this.inner.onmessage = (message) => {
      this.record.message(message)
      this.onmessage?.(message)
    }
    // The SDK reports a stdout line that is not a JSON-RPC message as an error.
    this.inner.onerror = (error) => {
      this.record.protocolError(String(error))
      this.onerror?.(error)
    }
    this.inner.onclose = () => this.onclose?.()
    return this.inner.start()
  }

  send(message: JSONRPCMessage) {
    return this.inner.send(message)
  }

  close() {
    return this.inner.close()
  }
}

/** A stdio transport over our own child process: raw stdout lines, exit code, stdin and signals. */
class RawStdioTransport implements Transport {
  record: Recorder = noRecorder
  onclose?: () => void
  onerror?: (error: Error) => void
  onmessage?: (message: JSONRPCMessage) => void
  readonly child: ChildProcessWithoutNullStreams
  readonly exited: Promise<Exit>
  private pending = ""

  constructor(env: Record<string, string>) {
    this.child = spawn(serverNode, [serverEntry], { env, stdio: ["pipe", "pipe", "pipe"] })
    this.exited = new Promise((resolve) => this.child.once("exit", (code, signal) => resolve({ code, signal })))
    this.child.stdin.on("error", () => undefined)
  }

  async start() {
    this.child.stdout.on("data", (chunk: Buffer) => this.read(chunk.toString("utf8")))
    this.child.stdout.on("end", () => {
      if (this.pending !== "") this.line(this.pending)
      this.pending = ""
    })
    this.child.stderr.on("data", (chunk: Buffer) => this.record.stderr(chunk.toString("utf8")))
    this.child.once("close", () => this.onclose?.())
    if (this.child.pid === undefined) {
      await new Promise<void>((resolve, reject) => {
        this.child.once("spawn", resolve)
        this.child.once("error", reject)
      })
    }
  }

  private read(text: string) {
    const parts = (this.pending + text).split("\n")
    this.pending = parts.pop() ?? ""
    for (const part of parts) this.line(part)
  }

  private line(raw: string) {
    const line = raw.replace(/\r$/, "")
    this.record.stdoutLine(line)
    let parsed: unknown
    try {
      parsed = JSON.parse(line)
    } catch {
      this.record.protocolError(line)
      return
    }
    const message = JSONRPCMessageSchema.safeParse(parsed)
    if (!message.success) {
      this.record.protocolError(line)
      return
    }
    this.record.message(message.data)
    this.onmessage?.(message.data)
  }

  send(message: JSONRPCMessage) {
    return new Promise<void>((resolve, reject) => {
      if (!this.child.stdin.writable) return reject(new Error("the server's stdin is closed"))
      this.child.stdin.write(JSON.stringify(message) + "\n", (error) => (error ? reject(error) : resolve()))
    })
  }

  /** Closes stdin, like a host that goes away. */
  async close() {
    this.child.stdin.end()
  }

  /** Makes sure the process is gone (only used in cleanup). */
  async kill() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.stdin.end()
      const timer = setTimeout(() => this.child.kill("SIGKILL"), 5_000)
      await this.exited
      clearTimeout(timer)
    }
  }
}

/** The text of a result's text blocks, joined. */
export const textOf = (result: CallToolResult): string =>
  result.content.flatMap((block) => (block.type === "text" ? [block.text] : [])).join("\n")

/**
 * Checks `structuredContent` against the tool's declared `outputSchema` with Ajv (the validator the
 * SDK itself uses), independently of the SDK client's own check. Returns the problems, if any.
 */
export const outputSchemaProblems = (tool: Tool, result: CallToolResult): ReadonlyArray<string> => {
  if (tool.outputSchema === undefined) return ["the tool declares no outputSchema"]
  if (result.structuredContent === undefined) return ["the result has no structuredContent"]
  let validate = validators.get(tool.outputSchema)
  if (validate === undefined) {
    validate = ajv.compile(tool.outputSchema)
    validators.set(tool.outputSchema, validate)
  }
  return validate(result.structuredContent)
    ? []
    : (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? "is invalid"}`)
}

const ajv = new Ajv({ strict: false, allErrors: true })
const validators = new WeakMap<object, ValidateFunction>()
