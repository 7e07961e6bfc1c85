/**
 * Where the built server is: the package's `bin` entry, so end-to-end tests run exactly what
 * `npx chatkazi-mcp` runs. `npm test` builds before it tests.
 */
import { readFileSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { fileURLToPath } from "node:url"

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..")

const pkg = JSON.parse(readFileSync(resolve(repoRoot, "package.json"), "utf8")) as {
  bin: Record<string, string>
}

export const serverEntry = resolve(repoRoot, pkg.bin["chatkazi-mcp"]!)

/**
 * The Node.js that runs the built server: the machine's, or the one `CHATKAZI_TEST_NODE` names
 * (`npm run test:runtimes` sets it to each pinned version in test/runtimes).
 */
export const serverNode = process.env.CHATKAZI_TEST_NODE || process.execPath
