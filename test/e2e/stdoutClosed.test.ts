/**
 * A host that dies or closes its end of our stdout must not make the server crash with an
 * unhandled EPIPE: it shuts down and exits 0.
 */
import { spawn } from "node:child_process"
import { describe, expect, it } from "vitest"
import { serverEnvironment } from "../support/McpHarness.js"
import { serverEntry, serverNode } from "../support/serverEntry.js"

describe("when the host closes the server's stdout", () => {
  it("exits 0 without an unhandled error", async () => {
    const child = spawn(serverNode, [serverEntry], {
      env: serverEnvironment({ CHATKAZI_API_KEY: "ck_test", CHATKAZI_BASE_URL: "http://127.0.0.1:9/api/v1" }),
      stdio: ["pipe", "pipe", "pipe"]
    })
    let stderr = ""
    child.stderr.on("data", (chunk) => (stderr += chunk))
    child.stdout.destroy()
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
    const initialize = {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "test", version: "1" } }
    }
    child.stdin.write(`${JSON.stringify(initialize)}\n`)
    const code = await Promise.race([
      exited,
      new Promise<"still running">((resolve) => setTimeout(() => resolve("still running"), 15_000).unref())
    ])
    if (code === "still running") child.kill("SIGKILL")
    expect(stderr).not.toMatch(/Unhandled|EPIPE.*\n\s+at /)
    expect(code).toBe(0)
  })
})
