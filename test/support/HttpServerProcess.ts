/**
 * Runs the built server in `http` mode as a subprocess (`node dist/chatkazi-mcp.mjs http --port 0`),
 * reads the URL from its listening line, and connects SDK clients to it over Streamable HTTP, each
 * with its own `Authorization` header. Records stderr for the request log and secret checks.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { freePort } from "./freePort.js"
import { type Exit, serverEnvironment, type ServerEnv } from "./McpHarness.js"
import { serverEntry, serverNode } from "./serverEntry.js"

export interface HttpStartOptions {
  readonly args?: ReadonlyArray<string>
  /** How long to wait for the listening line. */
  readonly startTimeoutMs?: number
}

export class HttpServerProcess {
  private stderrText = ""
  private readonly stderrWaiters = new Set<() => void>()

  private constructor(
    readonly child: ChildProcessWithoutNullStreams,
    readonly exited: Promise<Exit>
  ) {
    child.stderr.on("data", (chunk: Buffer) => {
      if (this.stderrText.length < 16 * 1024 * 1024) this.stderrText += chunk.toString("utf8")
      for (const waiter of [...this.stderrWaiters]) waiter()
    })
  }

  /** Starts `http --port 0 --host 127.0.0.1` (plus `args`) and waits for its listening line. */
  static async start(env: ServerEnv, options: HttpStartOptions = {}): Promise<HttpServerProcess> {
    const server = HttpServerProcess.spawn(env, options)
    await server.url(options.startTimeoutMs)
    return server
  }

  /**
   * Starts on a free port chosen first, so that CHATKAZI_PUBLIC_URL can name it: the origin OAuth
   * and the webhook URL are built on. `publicUrl` overrides it (a replica behind another's URL).
   */
  static async startPublic(env: ServerEnv, options: { readonly publicUrl?: string } = {}): Promise<HttpServerProcess> {
    const port = await freePort()
    return HttpServerProcess.start(
      { ...env, CHATKAZI_PUBLIC_URL: options.publicUrl ?? `http://127.0.0.1:${port}` },
      { args: ["--port", String(port), "--host", "127.0.0.1"] }
    )
  }

  /** Spawns without waiting: for servers expected to refuse to start. */
  static spawn(env: ServerEnv, options: HttpStartOptions = {}): HttpServerProcess {
    const args = options.args ?? ["--port", "0", "--host", "127.0.0.1"]
    const child = spawn(serverNode, [serverEntry, "http", ...args], {
      env: serverEnvironment(env),
      stdio: ["pipe", "pipe", "pipe"]
    })
    const exited = new Promise<Exit>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })))
    return new HttpServerProcess(child, exited)
  }

  get stderr(): string {
    return this.stderrText
  }

  /** The request log: one parsed JSON object per line that is one. */
  get requestLog(): Array<Record<string, unknown>> {
    return this.stderrText.split("\n").flatMap((line) => {
      if (!line.startsWith("{")) return []
      try {
        return [JSON.parse(line) as Record<string, unknown>]
      } catch {
        return []
      }
    })
  }

  /** `http://127.0.0.1:<port>/mcp`, from the listening line. */
  async url(timeoutMs = 10_000): Promise<string> {
    const found = () => this.stderrText.match(/Listening on (http:\/\/\S+\/mcp)/)?.[1]
    await this.waitForStderr(() => found() !== undefined, timeoutMs)
    return found()!
  }

  /** The server's origin, e.g. for `/healthz`. */
  async origin(): Promise<string> {
    return new URL(await this.url()).origin
  }

  /** Resolves once `predicate` holds over stderr; rejects after `timeoutMs` or when the process exits first. */
  waitForStderr(predicate: (stderr: string) => boolean, timeoutMs = 10_000): Promise<void> {
    if (predicate(this.stderrText)) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!predicate(this.stderrText)) return
        done()
        resolve()
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`server stderr did not match within ${timeoutMs} ms:\n${this.stderrText}`))
      }, timeoutMs)
      void this.exited.then((exit) => {
        if (predicate(this.stderrText)) return
        done()
        reject(new Error(`server exited (${JSON.stringify(exit)}) first:\n${this.stderrText}`))
      })
      const done = () => {
        clearTimeout(timer)
        this.stderrWaiters.delete(check)
      }
      this.stderrWaiters.add(check)
    })
  }

  /** An SDK client connected over Streamable HTTP, sending `Authorization: Bearer <bearer>` when given. */
  async connect(bearer?: string, headers: Record<string, string> = {}): Promise<Client> {
    const transport = new StreamableHTTPClientTransport(new URL(await this.url()), {
      requestInit: { headers: { ...headers, ...(bearer === undefined ? {} : { Authorization: `Bearer ${bearer}` }) } }
    })
    const client = new Client({ name: "chatkazi-http-e2e", version: "0.0.0" })
    await client.connect(transport)
    return client
  }

  /** Resolves to the exit, or "still running" after `ms`. */
  exitWithin(ms = 15_000): Promise<Exit | "still running"> {
    return Promise.race([
      this.exited,
      new Promise<"still running">((resolve) => setTimeout(() => resolve("still running"), ms).unref())
    ])
  }

  /** Makes sure the process is gone (cleanup). */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    this.child.kill("SIGKILL")
    await this.exited
  }
}

