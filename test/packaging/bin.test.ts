/**
 * What `npx -y chatkazi-mcp` gets: a package of the bundle and the library build only, with no
 * runtime dependencies, whose `bin` is the bundle and answers MCP over stdio on its own.
 * `npm test` builds before it tests.
 */
import { execFileSync, spawn } from "node:child_process"
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { repoRoot, serverEntry, serverNode } from "../support/serverEntry.js"

const pkg = JSON.parse(readFileSync(resolve(repoRoot, "package.json"), "utf8")) as {
  version: string
  bin: Record<string, string>
  dependencies?: Record<string, string>
  peerDependencies: Record<string, string>
  peerDependenciesMeta: Record<string, { optional?: boolean }>
}

interface Answer {
  readonly id?: number
  readonly result?: any
  readonly error?: { message: string }
}

/** Runs `entry`, writes the requests as JSON-RPC lines, and collects the answers until all came. */
const converse = (
  entry: string,
  requests: ReadonlyArray<{ method: string; params?: unknown }>,
  env: Record<string, string>,
  args: ReadonlyArray<string> = []
) =>
  new Promise<Array<Answer>>((done, fail) => {
    // Run from an empty directory with no NODE_PATH: the bundle must not need node_modules.
    const cwd = mkdtempSync(join(tmpdir(), "chatkazi-bin-"))
    const child = spawn(serverNode, [entry, ...args], { cwd, env: { PATH: process.env.PATH ?? "", ...env } })
    const answers: Array<Answer> = []
    let stdout = ""
    let stderr = ""
    child.stderr.on("data", (chunk) => (stderr += chunk))
    child.stdout.on("data", (chunk) => {
      stdout += chunk
      const lines = stdout.split("\n")
      stdout = lines.pop()!
      answers.push(...lines.filter((line) => line.trim() !== "").map((line) => JSON.parse(line) as Answer))
      if (answers.length === requests.length) child.stdin.end()
    })
    child.on("error", fail)
    child.on("exit", (code) => {
      rmSync(cwd, { recursive: true, force: true })
      if (answers.length === requests.length) done(answers)
      else fail(new Error(`exited with ${code} after ${answers.length} answers: ${stderr}`))
    })
    requests.forEach((request, i) => child.stdin.write(JSON.stringify({ jsonrpc: "2.0", id: i + 1, ...request }) + "\n"))
  })

const initialize = {
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "packaging-test", version: "1" } }
}

/** The files `npm publish` would ship, as npm itself lists them. */
const packedPaths = (): ReadonlyArray<string> => {
  const [packed] = JSON.parse(
    execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: repoRoot, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
  ) as Array<{ files: Array<{ path: string }> }>
  return packed!.files.map((file) => file.path)
}

describe("the published package", () => {
  it("holds the bundle and the library build, nothing else", () => {
    const paths = packedPaths()
    expect(paths).toContain(pkg.bin["chatkazi-mcp"])
    expect(paths).toContain("dist/index.js")
    expect(paths).toContain("dist/index.d.ts")
    expect(paths).toContain("dist/testing.js")
    expect(paths).toContain("dist/testing.d.ts")
    const unexpected = paths.filter((path) =>
      !(path === "package.json" || path === "README.md" || path === "LICENSE" || path === pkg.bin["chatkazi-mcp"] ||
        path === "dist/chatkazi-mcp-server.cjs" || /^dist\/.+\.(js|d\.ts)$/.test(path))
    )
    expect(unexpected).toEqual([])
    expect(paths.filter((path) => /\.map$|^src\/|^test\/|^dist\/main\./.test(path))).toEqual([])
  })

  it("installs no runtime dependencies: the library's are optional peers", () => {
    expect(pkg.dependencies ?? {}).toEqual({})
    for (const name of ["effect", "@effect/platform", "@modelcontextprotocol/sdk", "qrcode"]) {
      expect(pkg.peerDependencies[name]).toBeDefined()
      expect(pkg.peerDependenciesMeta[name]?.optional).toBe(true)
    }
  })

  it("the library entry imports no package but its declared peers (and Node's own)", async () => {
    const { build } = await import("esbuild")
    const imported = new Set<string>()
    await build({
      entryPoints: [resolve(repoRoot, "dist/index.js")],
      bundle: true,
      write: false,
      platform: "node",
      format: "esm",
      logLevel: "silent",
      plugins: [{
        name: "record-packages",
        setup(build) {
          build.onResolve({ filter: /^[^./]/ }, (args) => {
            imported.add(args.path.startsWith("@") ? args.path.split("/").slice(0, 2).join("/") : args.path.split("/")[0]!)
            return { path: args.path, external: true }
          })
        }
      }]
    })
    const undeclared = [...imported].filter((name) => !name.startsWith("node:") && !(name in pkg.peerDependencies))
    expect(undeclared).toEqual([])
  })

  it.each(["dist/index.js", "dist/testing.js"])(
    "%s loads neither the MCP SDK nor qrcode until a server starts or a QR is drawn",
    async (entry) => {
      const { build } = await import("esbuild")
      const { metafile } = await build({
        entryPoints: [resolve(repoRoot, entry)],
        bundle: true,
        write: false,
        metafile: true,
        platform: "node",
        format: "esm",
        logLevel: "silent",
        plugins: [{
          name: "packages-external",
          setup(build) {
            build.onResolve({ filter: /^[^./]/ }, (args) => ({ path: args.path, external: true }))
          }
        }]
      })
      // Follow static imports only: a dynamic import() loads when it runs.
      const loaded = new Set<string>()
      const seen = new Set<string>()
      const visit = (path: string) => {
        if (seen.has(path)) return
        seen.add(path)
        for (const edge of metafile.inputs[path]?.imports ?? []) {
          if (edge.kind !== "import-statement") continue
          if (edge.external) loaded.add(edge.path)
          else visit(edge.path)
        }
      }
      visit(Object.keys(metafile.inputs).find((path) => resolve(repoRoot, path) === resolve(repoRoot, entry))!)
      expect([...loaded].filter((name) => name.startsWith("@modelcontextprotocol/") || name === "qrcode")).toEqual([])
      expect([...loaded]).toContain("effect")
    }
  )

  it("runs the bundle as its bin: one executable file with a node shebang", () => {
    expect(pkg.bin["chatkazi-mcp"]).toMatch(/\.mjs$/)
    expect(serverEntry).toBe(resolve(repoRoot, pkg.bin["chatkazi-mcp"]!))
    expect(readFileSync(serverEntry, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true)
    expect(statSync(serverEntry).mode & 0o111).not.toBe(0)
  })

  it("runs the server bundle in strict mode, like the ES modules it was built from", () => {
    const bundle = readFileSync(resolve(repoRoot, "dist/chatkazi-mcp-server.cjs"), "latin1")
    expect(bundle.startsWith(`"use strict";`)).toBe(true)
    // The launcher reads it as latin1: that is exact only for ASCII.
    expect(/[^\0-\x7f]/.test(bundle)).toBe(false)
  })
})

describe("the bundled server, away from node_modules", () => {
  let gateway: ReturnType<typeof createServer>
  let baseUrl = ""

  beforeAll(async () => {
    gateway = createServer((request, response) => {
      response.setHeader("content-type", "application/json")
      response.end(JSON.stringify(
        request.url?.startsWith("/session/qr")
          ? { success: true, data: { sessionId: "main", status: "qr_ready", qr: "2@packaging-test-payload" } }
          : { success: true, data: { sessionId: "main", status: "connected" } }
      ))
    })
    await new Promise<void>((listening) => gateway.listen(0, "127.0.0.1", listening))
    baseUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((closed) => gateway.close(() => closed())))

  it("answers initialize with the package's version, lists the tools and calls one", async () => {
    const [init, list, status] = await converse(
      serverEntry,
      [
        initialize,
        { method: "tools/list" },
        { method: "tools/call", params: { name: "get_session_status", arguments: { sessionId: "main" } } }
      ],
      { CHATKAZI_API_KEY: "test-key", CHATKAZI_BASE_URL: baseUrl }
    )
    expect(init!.result.serverInfo).toEqual({ name: "chatkazi-mcp", version: pkg.version })
    expect(list!.result.tools.map((tool: { name: string }) => tool.name)).toContain("send_whatsapp_text")
    expect(status!.result.isError).toBeUndefined()
    expect(status!.result.structuredContent).toMatchObject({ sessionId: "main", state: "connected" })
  })

  it("draws a QR code with the qrcode library it carries inside", async () => {
    const [, qr] = await converse(
      serverEntry,
      [initialize, { method: "tools/call", params: { name: "get_session_qr", arguments: { sessionId: "main" } } }],
      { CHATKAZI_API_KEY: "test-key", CHATKAZI_BASE_URL: baseUrl }
    )
    const image = qr!.result.content.find((part: { type: string }) => part.type === "image")
    expect(image).toMatchObject({ mimeType: "image/png" })
    expect(Buffer.from(image.data, "base64").subarray(1, 4).toString()).toBe("PNG")
  })

  it("runs from exactly the files the package ships: version, lazily loaded QR drawing and sandbox", async () => {
    const copy = mkdtempSync(join(tmpdir(), "chatkazi-installed-"))
    try {
      for (const path of packedPaths().filter((path) => path.startsWith("dist/"))) {
        mkdirSync(dirname(join(copy, path)), { recursive: true })
        cpSync(join(repoRoot, path), join(copy, path))
      }
      writeFileSync(join(copy, "package.json"), JSON.stringify({ name: "chatkazi-mcp", version: "9.9.9-test", type: "module" }))
      const bin = join(copy, pkg.bin["chatkazi-mcp"]!)
      const [init, qr] = await converse(
        bin,
        [initialize, { method: "tools/call", params: { name: "get_session_qr", arguments: { sessionId: "main" } } }],
        { CHATKAZI_API_KEY: "test-key", CHATKAZI_BASE_URL: baseUrl }
      )
      expect(init!.result.serverInfo.version).toBe("9.9.9-test")
      expect(qr!.result.content.map((part: { type: string }) => part.type)).toEqual(["text", "image"])
      const sandbox = await converse(bin, [initialize, { method: "tools/list" }], {}, ["--sandbox"])
      expect(sandbox[1]!.result.tools.map((tool: { name: string }) => tool.name)).toContain("sandbox_messages")
    } finally {
      rmSync(copy, { recursive: true, force: true })
    }
  })
})
