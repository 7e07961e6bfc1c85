/**
 * A real `redis-server` (the Debian package) for tests: on a free 127.0.0.1 port, nothing written to
 * disk (`--save '' --appendonly no`), stopped by its PID. It can be killed and started again on the
 * same port, for outage tests.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { once } from "node:events"
import { freePort } from "./freePort.js"


const running = new Set<ChildProcess>()
// A test that crashes must not leave servers behind.
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL")
})

export class RedisServer {
  private child: ChildProcess | undefined

  private constructor(readonly port: number, private readonly extraArgs: ReadonlyArray<string>) {}

  /** Starts a server; `extraArgs` are added to its command line (e.g. `["--requirepass", "pw"]`). */
  static async start(extraArgs: ReadonlyArray<string> = []): Promise<RedisServer> {
    for (let attempt = 0;; attempt++) {
      const server = new RedisServer(await freePort(), extraArgs)
      try {
        await server.restart()
        return server
      } catch (error) {
        // Another process took the port between our probe and redis' bind: take another one.
        if (attempt >= 3) throw error
      }
    }
  }

  /** `redis://127.0.0.1:<port>` */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  get pid(): number | undefined {
    return this.child?.pid
  }

  /** Starts it again (on the same port) after `kill`; resolves once it accepts connections. */
  async restart(): Promise<void> {
    if (this.child !== undefined) throw new Error("redis-server is already running")
    const child = spawn(
      "redis-server",
      ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...this.extraArgs],
      { stdio: ["ignore", "pipe", "pipe"] }
    )
    running.add(child)
    let output = ""
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`redis-server did not start within 10 s:\n${output}`)), 10_000)
      const fail = (error: Error) => {
        clearTimeout(timer)
        child.kill("SIGKILL")
        reject(error)
      }
      child.stdout!.on("data", (chunk: Buffer) => {
        output += chunk.toString("utf8")
        if (output.includes("Ready to accept connections")) {
          clearTimeout(timer)
          resolve()
        }
      })
      child.stderr!.on("data", (chunk: Buffer) => void (output += chunk.toString("utf8")))
      child.once("error", fail)
      child.once("exit", (code) => fail(new Error(`redis-server exited with ${code}:\n${output}`)))
    })
    child.stdout!.resume()
    child.removeAllListeners("exit")
    this.child = child
  }

  /** Kills it at once (SIGKILL), like a crash; resolves when the process is gone. */
  async kill(): Promise<void> {
    const child = this.child
    if (child === undefined) return
    this.child = undefined
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, "exit")
      child.kill("SIGKILL")
      await exited
    }
    running.delete(child)
  }

  async stop(): Promise<void> {
    await this.kill()
  }
}
