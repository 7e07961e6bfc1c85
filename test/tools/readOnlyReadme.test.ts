/** The README's list of what read-only mode offers is the code's: every tool marked read-only, and no other. */
import { readFileSync } from "node:fs"
import { resolve } from "node:path"
import { expect, it } from "vitest"
import { tools } from "../../src/tools/registry.js"
import { sandboxMessages } from "../../src/tools/sandboxMessages.js"
import { repoRoot } from "../support/serverEntry.js"

it("README: read-only mode lists exactly the tools marked read-only", () => {
  const readme = readFileSync(resolve(repoRoot, "README.md"), "utf8")
  const bullet = readme.match(/- \*\*Read-only mode\*\*[\s\S]*?(?=\n- |\n\n)/)?.[0] ?? ""
  const named = [...bullet.matchAll(/`([a-z_]+)`/g)].map((match) => match[1]).sort()
  const readOnly = [...tools, sandboxMessages].filter((tool) => tool.annotations.readOnlyHint).map((tool) => tool.name).sort()
  expect(named).toEqual(readOnly)
})
