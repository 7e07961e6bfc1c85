/**
 * `npm run demo` itself, as a new user runs it: exit 0 and the walkthrough's key lines.
 * (`npm test` builds first, so the demo finds the server built and does not rebuild it.)
 * Under another Node (`CHATKAZI_TEST_NODE`, see test:runtimes) the demo script runs on that Node.
 */
import { spawn, spawnSync } from "node:child_process"
import { describe, expect, it } from "vitest"
import { join } from "node:path"
import { repoRoot } from "../support/serverEntry.js"

const runDemo = () =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const otherNode = process.env.CHATKAZI_TEST_NODE
    const [command, args] = otherNode
      ? [otherNode, [join(repoRoot, "scripts/demo.mjs")]]
      : [process.platform === "win32" ? "npm.cmd" : "npm", ["run", "--silent", "demo"]]
    const child = spawn(command, args, {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" }
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk) => (stdout += chunk))
    child.stderr.on("data", (chunk) => (stderr += chunk))
    child.once("exit", (code) => resolve({ code, stdout, stderr }))
  })

describe("npm run demo", () => {
  it("walks through the whole flow against --sandbox and exits 0", { timeout: 120_000 }, async () => {
    const { code, stdout, stderr } = await runDemo()
    expect(code, `stdout:\n${stdout}\nstderr:\n${stderr}`).toBe(0)
    for (
      const line of [
        "1. The tools the server offers",
        "wait_for_session     Wait for a WhatsApp session to reach a state",
        "sandbox_messages",
        "[SANDBOX] This is the chatkazi-mcp sandbox",
        "Started. Session \"demo\": connecting",
        "QR payload: 2@chatkazi-sandbox",
        "Session \"demo\" is connected after",
        "The server asks the user first:",
        "| Send this WhatsApp text message in your name? It cannot be taken back.",
        "| > Hello from the chatkazi-mcp sandbox!",
        "Sent the text message to 254712345678 from session \"demo\"",
        "The user approved it.",
        "A message arrived after",
        "⟦sender-text⟧Thanks, I got your message",
        "Sent the document to 254712345678 from session \"demo\"",
        "Refused, as it should be",
        "The sandbox received 2 message(s); none was delivered to WhatsApp",
        "Logged out. Session \"demo\": logged_out",
        "Demo finished: no real WhatsApp message was sent."
      ]
    ) {
      expect(stdout).toContain(line)
    }
    expect(stdout).toMatch(/\.\.\. progress [\d.]+\/60 s: qr_ready after/)
    // The QR drawn in the terminal: rows of half blocks.
    expect(stdout).toMatch(/[▀▄█]{5,}/)
    // Every command its last lines point to exists.
    const pointers = [...stdout.slice(stdout.indexOf("Demo finished")).matchAll(/`node ([^`]+)`/g)].map((m) => m[1]!.split(" "))
    expect(pointers.length).toBeGreaterThan(0)
    for (const [entry, ...args] of pointers) {
      const run = spawnSync(process.execPath, [entry!, ...args], { cwd: repoRoot, encoding: "utf8", env: { PATH: process.env.PATH ?? "" } })
      expect(run.stderr, args.join(" ")).not.toMatch(/unknown command|Cannot find module/)
      expect(run.stdout.length, args.join(" ")).toBeGreaterThan(0)
    }
  })
})
