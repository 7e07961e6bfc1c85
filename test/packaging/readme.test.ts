/**
 * The README's library examples work as written: each `ts` block of "Use it as a library" is
 * compiled with `tsc --strict` against the packed package (`npm pack`, installed in a fresh
 * directory beside its peers from this checkout) and run with no CHATKAZI_* settings and no network.
 * `npm test` builds before it tests.
 */
import { execFileSync, spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { repoRoot, serverNode } from "../support/serverEntry.js"

const readme = readFileSync(resolve(repoRoot, "README.md"), "utf8")
const section = readme.slice(readme.indexOf("### Use it as a library"), readme.indexOf("\n## ", readme.indexOf("### Use it as a library")))
const examples = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!)
const installLine = section.match(/```sh\n(npm install [^\n]+)\n```/)?.[1]

/** Installed beside the package: what the install line names, taken from this checkout's node_modules. */
const PEERS = ["effect", "@effect/platform", "@modelcontextprotocol/sdk", "qrcode", "@types/node"]

describe("the README's library section", () => {
  const dir = mkdtempSync(join(tmpdir(), "chatkazi-readme-"))

  beforeAll(() => {
    const [packed] = JSON.parse(
      execFileSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", dir], {
        cwd: repoRoot,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"]
      })
    ) as Array<{ filename: string }>
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "readme-examples", private: true, type: "module" }))
    execFileSync("npm", ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", join(dir, packed!.filename)], {
      cwd: dir,
      stdio: "ignore"
    })
    for (const name of PEERS) {
      mkdirSync(join(dir, "node_modules", name, ".."), { recursive: true })
      symlinkSync(resolve(repoRoot, "node_modules", name), join(dir, "node_modules", name), "dir")
    }
    examples.forEach((code, i) => writeFileSync(join(dir, `example${i + 1}.ts`), code))
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          types: ["node"],
          skipLibCheck: true,
          outDir: "out"
        },
        include: ["example*.ts"]
      })
    )
  }, 120_000)
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it("gives one install line with Effect v3 ranges, naming every peer the examples import", () => {
    expect(installLine).toBeDefined()
    expect(installLine).toContain('"effect@^3.')
    const imported = new Set(examples.flatMap((code) => [...code.matchAll(/from "([^"]+)"/g)].map((m) => m[1]!)))
    for (const name of imported) {
      const pkg = name.startsWith("@") ? name.split("/").slice(0, 2).join("/") : name.split("/")[0]!
      if (pkg !== "chatkazi-mcp") expect(installLine).toContain(`${pkg}@`)
    }
    expect(section).toContain("ESM only")
  })

  it("has examples, and they compile with tsc --strict against the packed package", () => {
    expect(examples.length).toBeGreaterThanOrEqual(3)
    const tsc = spawnSync(process.execPath, [resolve(repoRoot, "node_modules/typescript/bin/tsc"), "-p", dir], { encoding: "utf8" })
    expect(tsc.stdout + tsc.stderr).toBe("")
    expect(tsc.status).toBe(0)
  }, 60_000)

  it("run as written, with no settings and no network: each exits 0 and says something", () => {
    const runs = examples.map((_, i) => {
      const run = spawnSync(serverNode, [join(dir, "out", `example${i + 1}.js`)], {
        cwd: dir,
        encoding: "utf8",
        input: "",
        timeout: 20_000,
        env: { PATH: process.env.PATH ?? "" }
      })
      expect(run.status, `example ${i + 1}:\n${run.stdout}\n${run.stderr}`).toBe(0)
      expect((run.stdout + run.stderr).trim(), `example ${i + 1}`).not.toBe("")
      // A server's stdout is for JSON-RPC only.
      if (examples[i]!.includes("serveStdio(")) expect(run.stdout).toBe("")
      return run
    })
    const first = runs[0]!
    expect(first.stdout).toContain('Sent the text message to 254712345678 from session "default"')
    expect(first.stdout.trim().split("\n").at(-1)).toBe("1")
  }, 60_000)
})
