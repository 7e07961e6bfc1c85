/**
 * The command line: parsing as a unit, then the built bin's --help, --version, a usage error, and
 * `sandbox --port 0` as a real HTTP server that stops on SIGTERM.
 */
import { spawn, spawnSync } from "node:child_process"
import { describe, expect, it } from "vitest"
import { DEFAULT_SANDBOX_PORT, helpText, parseCommand } from "../../src/cli.js"
import { serverEntry, serverNode } from "../support/serverEntry.js"

describe("parseCommand", () => {
  it("serves live MCP by default", () => {
    expect(parseCommand([])).toEqual({ _tag: "Serve" })
  })

  it("reads check, which takes no sandbox options", () => {
    expect(parseCommand(["check"])).toEqual({ _tag: "Check" })
    expect(parseCommand(["check", "--port", "1"])).toMatchObject({ _tag: "Invalid" })
    expect(parseCommand(["check", "--sandbox"])).toMatchObject({ _tag: "Invalid" })
  })

  it("every command the help shows parses", () => {
    const usage = helpText("chatkazi-mcp", "0.0.0").split("\n\n")[1]!
    const commands = [...usage.matchAll(/^ {2}(chatkazi-mcp[^ ]*(?: (?!\s)[^ ]+)*)/gm)].map((m) => m[1]!)
    expect(commands).toContain("chatkazi-mcp check")
    for (const command of commands) {
      for (const variant of command.replace(/ \[--port N\]/, " --port 0").replace(/ \[--host H\]/, " --host 127.0.0.1").split(" | ")) {
        const argv = variant.split(" ").filter((word) => word !== "chatkazi-mcp")
        expect(parseCommand(argv), variant).not.toMatchObject({ _tag: "Invalid" })
      }
    }
  })

  it("reads --sandbox, sandbox --port and their options", () => {
    expect(parseCommand(["--sandbox"])).toEqual({ _tag: "ServeSandbox", settings: {} })
    expect(parseCommand(["sandbox"])).toEqual({ _tag: "SandboxServer", port: DEFAULT_SANDBOX_PORT, settings: {} })
    expect(
      parseCommand(["sandbox", "--port", "0", "--api-key", "k", "--max-sessions=3", "--scan-after", "1.5", "--scan-after-polls", "never"])
    ).toEqual({
      _tag: "SandboxServer",
      port: 0,
      settings: { apiKey: "k", maxSessions: 3, scanAfterMs: 1500, scanAfterPolls: undefined }
    })
    expect(parseCommand(["--sandbox", "--scan-after", "never"])).toEqual({
      _tag: "ServeSandbox",
      settings: { scanAfterMs: undefined }
    })
  })

  it("answers --help and --version before anything else", () => {
    expect(parseCommand(["--sandbox", "--help"])).toEqual({ _tag: "Help" })
    expect(parseCommand(["-v"])).toEqual({ _tag: "Version" })
  })

  it("refuses what it does not understand, saying why", () => {
    const problem = (argv: Array<string>) => {
      const command = parseCommand(argv)
      return command._tag === "Invalid" ? command.problem : `parsed as ${command._tag}`
    }
    expect(problem(["--bogus"])).toContain("--bogus")
    expect(problem(["serve"])).toBe("unknown command \"serve\"")
    expect(problem(["sandbox", "--port", "70000"])).toContain("--port expects a port number")
    expect(problem(["--sandbox", "--port", "8080"])).toContain("--port is for \"sandbox\"")
    expect(problem(["--max-sessions", "2"])).toBe("--max-sessions only applies to the sandbox")
    expect(problem(["sandbox", "--max-sessions", "0"])).toContain("at least 1")
    expect(problem(["sandbox", "--sandbox"])).toContain("not both")
  })
})

// Each spawns the built server; on a busy two-core machine a cold start takes seconds.
describe("the chatkazi-mcp bin", { timeout: 90_000 }, () => {
  const run = (...args: Array<string>) => spawnSync(serverNode, [serverEntry, ...args], { encoding: "utf8" })

  it("prints usage for --help and the version for --version, on stdout, and exits 0", () => {
    const help = run("--help")
    expect(help.status).toBe(0)
    expect(help.stdout).toContain("Usage:")
    expect(help.stdout).toContain("--sandbox")
    expect(help.stdout).toContain("sandbox [--port N]")
    const version = run("--version")
    expect(version.status).toBe(0)
    expect(version.stdout.trim()).toMatch(/^chatkazi-mcp \d+\.\d+\.\d+/)
  })

  it("exits non-zero with the problem on stderr for a bad argument", () => {
    const bad = run("--bogus")
    expect(bad.status).not.toBe(0)
    expect(bad.stdout).toBe("")
    expect(bad.stderr).toContain("--bogus")
    expect(bad.stderr).toContain("--help")
  })

  it("runs the simulator on 127.0.0.1 with `sandbox --port 0`, says where on stderr, and stops on SIGTERM", async () => {
    // A closed port, so forwarding fails and says so; the hook id must be in neither line.
    const hookId = "HookIdThatLetsAnyonePost0123456789abcdefXYZ"
    const child = spawn(serverNode, [serverEntry, "sandbox", "--port", "0", "--webhook-url", `http://127.0.0.1:9/Webhooks/chatkazi/${hookId}`], {
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stderr = ""
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve))
    try {
      const origin = await new Promise<string>((resolve, reject) => {
        child.stderr.on("data", (chunk) => {
          stderr += chunk
          const found = stderr.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/)
          if (found) resolve(found[1]!)
        })
        child.once("exit", () => reject(new Error(`exited early:\n${stderr}`)))
      })
      const unauthorized = await fetch(`${origin}/api/v1/sessions`)
      expect(unauthorized.status).toBe(401)
      const sessions = await fetch(`${origin}/api/v1/sessions`, { headers: { "x-api-key": "any" } })
      expect(await sessions.json()).toEqual({ success: true, data: [{ sessionId: "default", status: "not_started" }] })
      expect((await fetch(`${origin}/sandbox/messages`)).status).toBe(200)
      const inbound = await fetch(`${origin}/sandbox/inbound`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ from: "254700000001", text: "walk-in", id: "w-1" })
      })
      expect(inbound.status).toBe(200)
      await expect.poll(() => stderr, { timeout: 10_000 }).toContain("could not be reached")
      expect(stderr).toContain("posted to http://127.0.0.1:9/Webhooks/chatkazi/<hookId>")
      expect(stderr).not.toContain(hookId)
    } finally {
      child.kill("SIGTERM")
    }
    expect(await exited).toBe(0)
  })
})
