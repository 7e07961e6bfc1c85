#!/usr/bin/env node
/**
 * The `chatkazi-mcp` command (scripts/bundle.mjs copies this file to dist/chatkazi-mcp.mjs, with the
 * cache key filled in). It runs the bundled server, dist/chatkazi-mcp-server.cjs, through V8's code
 * cache: compiling that 2.4 MB bundle is most of a cold start, and Node 20 has no compile cache of
 * its own. Node 22's `module.enableCompileCache` keeps only what V8 compiles eagerly; this cache is
 * taken once the server has been running for a while, so it also holds every function compiled
 * lazily during the start and the first requests.
 *
 * The cache is one file per Node version and architecture in a directory of the user's own
 * ($XDG_CACHE_HOME/chatkazi-mcp, else ~/.cache/chatkazi-mcp; ~/Library/Caches on macOS,
 * %LOCALAPPDATA% on Windows), created 0700, and used only while it is owned by the user and
 * writable by no one else: cached code is code that runs. It is written whole or not at all
 * (temporary file, then rename), rewritten when missing, stale, corrupt or refused by V8, and any
 * failure only means compiling as if there were none. It never writes to stdout, which carries
 * JSON-RPC. NODE_DISABLE_COMPILE_CACHE=1 turns it off; NODE_DEBUG=chatkazi-mcp reports on stderr
 * what it did.
 */
import { createHash } from "node:crypto"
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { homedir } from "node:os"
import { dirname, isAbsolute, join } from "node:path"
import { fileURLToPath } from "node:url"
import { debuglog } from "node:util"
import vm from "node:vm"

/** sha256 of this launcher and the bundle, written in by the build that wrote both. */
const BUILD = "%BUILD%"
/** The cache is taken this long after the start, once the host has initialized and listed tools. */
const WRITE_AFTER_MS = 3_000

const debug = debuglog("chatkazi-mcp")
const server = fileURLToPath(new URL("./chatkazi-mcp-server.cjs", import.meta.url))

const cacheDirectory = () => {
  const xdg = process.env.XDG_CACHE_HOME
  const base = xdg && isAbsolute(xdg) ? xdg
    : process.platform === "darwin" ? join(homedir(), "Library", "Caches")
    : process.platform === "win32" ? process.env.LOCALAPPDATA || join(homedir(), "AppData", "Local")
    : join(homedir(), ".cache")
  // Never a directory relative to wherever the host started us.
  if (!isAbsolute(base)) throw new Error("no home directory")
  return join(base, "chatkazi-mcp")
}

/** Owned by this user and writable by no one else (Windows has neither, and says yes). */
const isOwnAlone = (stats) =>
  typeof process.getuid !== "function" || (stats.uid === process.getuid() && (stats.mode & 0o022) === 0)

/** Throws unless `directory` is a real directory of this user that no one else can write to. */
const checkOwnership = (directory) => {
  const stats = lstatSync(directory)
  if (!stats.isDirectory()) throw new Error(`${directory} is not a directory`)
  if (!isOwnAlone(stats)) {
    throw new Error(`${directory} is not this user's alone`)
  }
}

/**
 * The file's contents, if it is a plain file of this user's that no one else can write to, with one
 * name: checked on the open file, so it cannot be swapped for a link between the check and the read.
 */
const readOwnFile = (file) => {
  const fd = openSync(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0))
  try {
    const stats = fstatSync(fd)
    if (!stats.isFile() || stats.nlink !== 1 || !isOwnAlone(stats)) throw new Error(`${file} is not this user's alone`)
    return readFileSync(fd)
  } finally {
    closeSync(fd)
  }
}

const checksum = (data) => createHash("sha256").update(data).digest("hex")
/** The file begins with what it was made for and a checksum of the rest: V8 checks no checksum. */
const header = (data) => `chatkazi-mcp code cache\n${BUILD}\n${checksum(data)}\n`
const HEADER_LENGTH = header(Buffer.alloc(0)).length

/** The cache's file and its code, or no file when caching is off or the directory is not safe. */
const openCache = () => {
  const disabled = process.env.NODE_DISABLE_COMPILE_CACHE
  if (disabled && disabled !== "0") return { file: undefined, data: undefined }
  let directory, file
  try {
    directory = cacheDirectory()
    file = join(directory, `chatkazi-mcp-server-${process.version}-${process.arch}.v8cache`)
    checkOwnership(directory)
  } catch (error) {
    // A directory that does not exist yet is made when the cache is written.
    if (error?.code === "ENOENT" && file !== undefined) {
      debug("no code cache yet at %s", file)
      return { directory, file, data: undefined }
    }
    debug("code cache off: %s", error?.message)
    return { file: undefined, data: undefined }
  }
  try {
    const contents = readOwnFile(file)
    const data = contents.subarray(HEADER_LENGTH)
    if (contents.toString("latin1", 0, HEADER_LENGTH) !== header(data)) {
      debug("code cache %s is stale or damaged: replacing it", file)
      return { directory, file, data: undefined }
    }
    return { directory, file, data }
  } catch (error) {
    debug(error?.code === "ENOENT" ? "no code cache yet at %s" : "cannot read code cache %s: %s", file, error?.message)
    return { directory, file, data: undefined }
  }
}

const writeCache = (script, directory, file) => {
  const temporary = `${file}.${process.pid}.tmp`
  try {
    const data = script.createCachedData()
    mkdirSync(directory, { recursive: true, mode: 0o700 })
    checkOwnership(directory)
    writeFileSync(temporary, Buffer.concat([Buffer.from(header(data), "latin1"), data]), { mode: 0o600, flag: "wx" })
    renameSync(temporary, file)
    debug("code cache written to %s (%d bytes)", file, data.length)
  } catch (error) {
    rmSync(temporary, { force: true })
    debug("code cache not written: %s", error?.message)
  }
}

/**
 * Compiles the bundle, with the cached code when there is some; says whether the cache is to be
 * (re)written. Neither the cache's buffer nor the unwrapped source is kept: they would stay in
 * memory for the life of the server.
 */
const compile = () => {
  const { directory, file, data } = openCache()
  // The build keeps the bundle ASCII, so latin1 reads it exactly, and faster than utf8 decoding.
  const source = readFileSync(server, "latin1")
  // Node's own CommonJS wrapper, so the bundle runs as it would under `require`.
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: server,
    cachedData: data,
    // import() inside the bundle resolves as in the main context (Node 20.12+; older ones have none).
    ...(vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER ? { importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER } : {})
  })
  if (data !== undefined) debug("code cache %s %s", file, script.cachedDataRejected ? "refused by V8: replacing it" : "used")
  return { script, directory, file, stale: file !== undefined && (data === undefined || script.cachedDataRejected === true) }
}

/** Runs the server; keeps the compiled script (for the cache) only while the cache is to be written. */
const main = () => {
  const { script, directory, file, stale } = compile()
  const module = { exports: {}, filename: server, id: server, loaded: false }
  script.runInThisContext()(module.exports, createRequire(server), module, server, dirname(server))
  module.loaded = true
  if (!stale) return
  let written = false
  const write = () => {
    if (written) return
    written = true
    writeCache(script, directory, file)
  }
  setTimeout(write, WRITE_AFTER_MS).unref()
  // The plain stdio server also writes it on exit, for hosts (and benchmarks) that stop it sooner.
  // Commands that run once and exit (--help, check) do not: they compile too little of the server.
  if (process.argv.length === 2) process.once("exit", write)
}

main()
