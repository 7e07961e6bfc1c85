/**
 * The bin's V8 code cache, as a user would notice it: the first start writes it in a directory of
 * their own (0700, the file 0600), later starts use it, and nothing about it (missing, damaged,
 * made by another Node, refused, unwritable, planted where others can write) keeps the server from
 * answering or puts anything but JSON-RPC on stdout. NODE_DEBUG=chatkazi-mcp says on stderr what
 * the launcher did. `npm test` builds before it tests.
 */
import { createHash } from "node:crypto"
import { spawn } from "node:child_process"
import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync
} from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { serverEntry, serverNode } from "../support/serverEntry.js"

interface Run {
  readonly stdout: ReadonlyArray<string>
  readonly stderr: string
  readonly code: number | null
}

/** Starts the bin with `cacheHome` as XDG_CACHE_HOME, initializes, lists the tools and closes stdin. */
const start = (cacheHome: string, env: Record<string, string> = {}, cwd?: string) =>
  new Promise<Run>((done, fail) => {
    const child = spawn(serverNode, [serverEntry], {
      ...(cwd === undefined ? {} : { cwd }),
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        XDG_CACHE_HOME: cacheHome,
        NODE_DEBUG: "chatkazi-mcp",
        CHATKAZI_API_KEY: "test-key",
        CHATKAZI_BASE_URL: "http://127.0.0.1:9",
        ...env
      }
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk) => {
      stdout += chunk
      if (stdout.split("\n").filter((line) => line.trim() !== "").length === 2) child.stdin.end()
    })
    child.stderr.on("data", (chunk) => (stderr += chunk))
    child.on("error", fail)
    child.on("exit", (code) => done({ stdout: stdout.split("\n").filter((line) => line !== ""), stderr, code }))
    child.stdin.write(
      JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "cache-test", version: "1" } }
      }) + "\n" + JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }) + "\n"
    )
  })

/** The server answered both requests, and stdout carried those answers and nothing else. */
const expectServed = (run: Run) => {
  expect(run.code).toBe(0)
  expect(run.stdout).toHaveLength(2)
  const [init, list] = run.stdout.map((line) => JSON.parse(line))
  expect(init).toMatchObject({ jsonrpc: "2.0", id: 1, result: { serverInfo: { name: "chatkazi-mcp" } } })
  expect(list.result.tools.map((tool: { name: string }) => tool.name)).toContain("send_whatsapp_text")
}

const directoryIn = (cacheHome: string) => join(cacheHome, "chatkazi-mcp")
const cacheFileIn = (cacheHome: string) => {
  const files = existsSync(directoryIn(cacheHome)) ? readdirSync(directoryIn(cacheHome)) : []
  return files.length === 1 ? join(directoryIn(cacheHome), files[0]!) : undefined
}

let cacheHome = ""
beforeEach(() => {
  cacheHome = mkdtempSync(join(tmpdir(), "chatkazi-cache-"))
})
afterEach(() => rmSync(cacheHome, { recursive: true, force: true }))

describe("the bin's code cache", () => {
  it("is written by the first start in a private directory and used by the next", async () => {
    const first = await start(cacheHome)
    expectServed(first)
    expect(first.stderr).toMatch(/no code cache yet/)
    const file = cacheFileIn(cacheHome)
    expect(file).toMatch(new RegExp(`/chatkazi-mcp-server-v[\\d.]+-${process.arch}\\.v8cache$`))
    expect(statSync(directoryIn(cacheHome)).mode & 0o777).toBe(0o700)
    expect(statSync(file!).mode & 0o777).toBe(0o600)
    const written = statSync(file!).mtimeMs

    const second = await start(cacheHome)
    expectServed(second)
    expect(second.stderr).toMatch(/code cache \S+ used/)
    expect(second.stderr).not.toMatch(/written/)
    expect(statSync(file!).mtimeMs).toBe(written)
  })

  it("is neither read nor written with NODE_DISABLE_COMPILE_CACHE=1", async () => {
    expectServed(await start(cacheHome, { NODE_DISABLE_COMPILE_CACHE: "1" }))
    expect(existsSync(directoryIn(cacheHome))).toBe(false)
  })

  it("replaces a damaged cache file, and the start after uses the new one", async () => {
    mkdirSync(directoryIn(cacheHome), { mode: 0o700 })
    expectServed(await start(cacheHome))
    const file = cacheFileIn(cacheHome)!
    writeFileSync(file, readFileSync(file).subarray(0, 5000))

    const damaged = await start(cacheHome)
    expectServed(damaged)
    expect(damaged.stderr).toMatch(/stale or damaged: replacing it/)
    expect(damaged.stderr).toMatch(/code cache written/)
    expect((await start(cacheHome)).stderr).toMatch(/code cache \S+ used/)
  })

  it("replaces a cache that V8 refuses, as one made by another Node version", async () => {
    expectServed(await start(cacheHome))
    const file = cacheFileIn(cacheHome)!
    // Same header layout as the launcher's; the V8 version hash (bytes 4-7 of its data) changed.
    const [title, build] = readFileSync(file, "latin1").split("\n", 2)
    const headerLength = `${title}\n${build}\n`.length + 65
    const data = Buffer.from(readFileSync(file).subarray(headerLength))
    data.writeInt32LE(~data.readInt32LE(4), 4)
    const checksum = createHash("sha256").update(data).digest("hex")
    writeFileSync(file, Buffer.concat([Buffer.from(`${title}\n${build}\n${checksum}\n`, "latin1"), data]))

    const refused = await start(cacheHome)
    expectServed(refused)
    expect(refused.stderr).toMatch(/refused by V8: replacing it/)
    expect((await start(cacheHome)).stderr).toMatch(/code cache \S+ used/)
  })

  it("still starts when the cache directory cannot be made", async () => {
    const notADirectory = join(cacheHome, "file")
    writeFileSync(notADirectory, "")
    const run = await start(notADirectory)
    expectServed(run)
    expect(run.stderr).toMatch(/code cache (off|not written)/)
  })

  it("is not kept relative to the working directory when there is no home directory", async () => {
    const run = await start("relative/cache", { HOME: "" }, cacheHome)
    expectServed(run)
    expect(run.stderr).toMatch(/code cache off: no home directory/)
    expect(readdirSync(cacheHome)).toEqual([])
  })

  it("ignores a directory that others can write to, and what was planted in it", async () => {
    const directory = directoryIn(cacheHome)
    mkdirSync(directory)
    chmodSync(directory, 0o777)
    expectServed(await start(cacheHome, { XDG_CACHE_HOME: join(cacheHome, "own") }))
    const genuine = cacheFileIn(join(cacheHome, "own"))!
    const planted = join(directory, genuine.split("/").pop()!)
    writeFileSync(planted, readFileSync(genuine))

    const run = await start(cacheHome)
    expectServed(run)
    expect(run.stderr).toMatch(/code cache off: .* is not this user's alone/)
    expect(run.stderr).not.toMatch(/used|written/)
    expect(readdirSync(directory)).toEqual([planted.split("/").pop()])
  })

  it.each([
    ["a link to a file elsewhere", (file: string, elsewhere: string) => symlinkSync(elsewhere, file)],
    ["a second name of a file elsewhere", (file: string, elsewhere: string) => linkSync(elsewhere, file)]
  ])("does not read a cache file that is %s, and replaces it with its own", async (_, link) => {
    expectServed(await start(cacheHome))
    const file = cacheFileIn(cacheHome)!
    const elsewhere = join(cacheHome, "elsewhere.v8cache")
    renameSync(file, elsewhere)
    link(file, elsewhere)

    const run = await start(cacheHome)
    expectServed(run)
    expect(run.stderr).toMatch(/cannot read code cache .*(is not this user's alone|ELOOP)/)
    expect(run.stderr).toMatch(/code cache written/)
    expect(statSync(file).nlink).toBe(1)
    expect((await start(cacheHome)).stderr).toMatch(/code cache \S+ used/)
  })
})
