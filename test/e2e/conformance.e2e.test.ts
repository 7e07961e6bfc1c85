/**
 * The MCP conformance suite (`@modelcontextprotocol/conformance`, server scenarios) against the
 * built server in `http` mode. The suite needs Node 22: it runs on the pinned binary in
 * test/runtimes, so this file is left out of `npm test` and run once by `npm run test:runtimes`
 * (`npm run test:conformance` alone, after `npm ci --prefix test/runtimes`).
 *
 * The suite cannot send an `Authorization` header, so the server runs in shared-key mode on
 * loopback without tokens, over a scripted ChatKazi that must receive nothing.
 *
 * Every scenario the suite runs is either applicable (must pass) or listed as not applicable with
 * its reason, and those must fail only for that reason: a new scenario in a newer suite, or a
 * scenario failing for another reason, fails this test.
 */
import { execFile } from "node:child_process"
import { existsSync } from "node:fs"
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { HttpServerProcess } from "../support/HttpServerProcess.js"
import { ScriptedGateway } from "../support/ScriptedGateway.js"
import { repoRoot } from "../support/serverEntry.js"

const node22 = join(repoRoot, "test", "runtimes", "node_modules", "node22", "bin", "node")
const conformanceCli = join(repoRoot, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js")

/** Scenarios this server must pass. */
const applicable = [
  "server-initialize",
  "ping",
  "logging-set-level",
  "completion-complete",
  "tools-list",
  "resources-list",
  "prompts-list",
  "dns-rebinding-protection"
]

/**
 * Scenarios that exercise the suite's reference server: its fixture tools, prompts and resources
 * (`test_simple_text`, `test_simple_prompt`, `test://static-text`, ...), or features this server
 * does not offer. Each must fail with the error that says so, and nothing else.
 */
const notApplicable: Record<string, RegExp> = {
  "tools-call-simple-text": /Unknown tool "test_simple_text"/,
  "tools-call-image": /Unknown tool "test_image_content"/,
  "tools-call-audio": /Unknown tool "test_audio_content"/,
  "tools-call-embedded-resource": /Unknown tool "test_embedded_resource"/,
  "tools-call-mixed-content": /Unknown tool "test_multiple_content_types"/,
  "tools-call-with-logging": /Unknown tool "test_tool_with_logging"/,
  "tools-call-error": /Unknown tool "test_error_handling"/,
  "tools-call-with-progress": /Unknown tool "test_tool_with_progress"/,
  "tools-call-sampling": /Unknown tool "test_sampling"/,
  "tools-call-elicitation": /Unknown tool "test_elicitation"/,
  "elicitation-sep1034-defaults": /Unknown tool "test_elicitation_sep1034_defaults"/,
  "elicitation-sep1330-enums": /Unknown tool "test_elicitation_sep1330_enums"/,
  "resources-read-text": /Resource not found: test:\/\/static-text/,
  "resources-read-binary": /Resource not found: test:\/\/static-binary/,
  "resources-templates-read": /Resource not found: test:\/\/template\/123\/data/,
  // No `resources.subscribe` capability: a stateless server has no stream to send updates on.
  "resources-subscribe": /Method not found/,
  "resources-unsubscribe": /Method not found/,
  "prompts-get-simple": /Unknown prompt "test_simple_prompt"/,
  "prompts-get-with-args": /Unknown prompt "test_prompt_with_arguments"/,
  "prompts-get-embedded-resource": /Unknown prompt "test_prompt_with_embedded_resource"/,
  "prompts-get-with-image": /Unknown prompt "test_prompt_with_image"/,
  // Needs `Mcp-Session-Id` and a GET stream; this server is stateless (POST only), so it checks nothing.
  "server-sse-multiple-streams": /Server did not provide session ID/
}

interface Check {
  readonly id: string
  readonly status: "SUCCESS" | "FAILURE" | "WARNING" | "INFO" | "SKIPPED"
  readonly errorMessage?: string
  readonly details?: unknown
}

/** Runs every active server scenario once; returns each scenario's checks by name. */
const runConformance = async (url: string): Promise<Map<string, Array<Check>>> => {
  const outputDir = await mkdtemp(join(tmpdir(), "chatkazi-conformance-"))
  try {
    // Exits 1 when any scenario fails, which the not-applicable ones do: the checks decide.
    await new Promise<void>((resolve, reject) =>
      execFile(node22, [conformanceCli, "server", "--url", url, "--output-dir", outputDir], { timeout: 60_000 }, (error) =>
        error !== null && typeof error.code !== "number" ? reject(error) : resolve())
    )
    const scenarios = new Map<string, Array<Check>>()
    for (const entry of await readdir(outputDir)) {
      const name = entry.match(/^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/)?.[1]
      if (name === undefined) continue
      scenarios.set(name, JSON.parse(await readFile(join(outputDir, entry, "checks.json"), "utf8")) as Array<Check>)
    }
    return scenarios
  } finally {
    await rm(outputDir, { recursive: true, force: true })
  }
}

describe("MCP conformance suite (server scenarios) against http mode", () => {
  let gateway: ScriptedGateway
  let server: HttpServerProcess
  let scenarios: Map<string, Array<Check>>

  beforeAll(async () => {
    if (!existsSync(node22)) {
      throw new Error(`Node 22 for the conformance suite is missing (${node22}): run \`npm ci --prefix test/runtimes\`.`)
    }
    gateway = await ScriptedGateway.start()
    server = await HttpServerProcess.start({ CHATKAZI_API_KEY: "sk-conformance", CHATKAZI_BASE_URL: gateway.baseUrl })
    scenarios = await runConformance(await server.url())
  }, 90_000)

  afterAll(async () => {
    await server?.kill()
    await gateway?.close()
  })

  it("runs only scenarios this file has decided on", () => {
    expect([...scenarios.keys()].sort()).toEqual([...applicable, ...Object.keys(notApplicable)].sort())
  })

  it.each(applicable)("passes %s", (name) => {
    const checks = scenarios.get(name) ?? []
    expect(checks.filter((c) => c.status === "FAILURE" || c.status === "WARNING")).toEqual([])
    expect(checks.some((c) => c.status === "SUCCESS")).toBe(true)
  })

  it("refuses a rebinding Host and Origin, and accepts its own loopback ones", () => {
    const checks = scenarios.get("dns-rebinding-protection") ?? []
    expect(Object.fromEntries(checks.map((c) => [c.id, c.status]))).toEqual({
      "localhost-host-rebinding-rejected": "SUCCESS",
      "localhost-host-valid-accepted": "SUCCESS"
    })
  })

  it.each(Object.entries(notApplicable))("%s does not apply, and fails only for that reason", (name, reason) => {
    const unmet = (scenarios.get(name) ?? []).filter((c) => c.status === "FAILURE" || c.status === "WARNING")
    expect(unmet.length).toBeGreaterThan(0)
    for (const check of unmet) {
      expect(check.errorMessage ?? JSON.stringify(check.details)).toMatch(reason)
    }
  })

  it("sends nothing to ChatKazi", () => {
    expect(gateway.requests.map((r) => `${r.method} ${r.path}`)).toEqual([])
  })
})
