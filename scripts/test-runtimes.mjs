#!/usr/bin/env node
/**
 * `npm run test:runtimes`: the end-to-end part of the suite (everything that runs the built server:
 * test/e2e, test/packaging and the *.e2e.test.ts files) again on each Node.js pinned in
 * test/runtimes. The server is built once by `npm test`; vitest itself stays on the machine's Node
 * and starts the server with the pinned one (CHATKAZI_TEST_NODE). Then, once, the MCP conformance
 * suite, which itself needs the pinned Node 22 (vitest.conformance.config.ts). Exits non-zero if any
 * run fails.
 */
import { spawnSync } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const runtimes = join(root, "test", "runtimes")
const pinned = Object.keys(JSON.parse(readFileSync(join(runtimes, "package.json"), "utf8")).devDependencies)
const endToEnd = ["test/e2e", "test/packaging", ".e2e.test.ts"]

if (!existsSync(join(root, "dist", "chatkazi-mcp.mjs"))) {
  console.error("Build the server first (npm run build, or npm test).")
  process.exit(1)
}

let failed = false
for (const name of pinned) {
  const node = join(runtimes, "node_modules", name, "bin", "node")
  const version = spawnSync(node, ["--version"], { encoding: "utf8" }).stdout.trim()
  console.log(`\n=== end-to-end suite on Node ${version} (${name}) ===`)
  const run = spawnSync(process.execPath, [join(root, "node_modules", "vitest", "vitest.mjs"), "run", ...endToEnd], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, CHATKAZI_TEST_NODE: node }
  })
  if (run.status !== 0) failed = true
}

console.log("\n=== MCP conformance suite, server scenarios against http mode (the suite on Node 22) ===")
const conformance = spawnSync(
  process.execPath,
  [join(root, "node_modules", "vitest", "vitest.mjs"), "run", "--config", "vitest.conformance.config.ts"],
  { cwd: root, stdio: "inherit" }
)
if (conformance.status !== 0) failed = true

process.exit(failed ? 1 : 0)
