/**
 * Bundles the `chatkazi-mcp` command (src/main.ts and everything it imports, dependencies
 * included) into one minified ESM module with no runtime dependencies, behind a two-line `bin`.
 * What is loaded with a dynamic `import()` (the sandbox, the QR drawing library) goes into
 * chunks beside it, so a normal start does not compile them: `npm run bench` and a 15-start
 * comparison measured about 10% less time to the `initialize` answer than with everything inlined.
 */
import { build } from "esbuild"
import { chmodSync, rmSync, writeFileSync } from "node:fs"

const outdir = "dist"
const chunks = "dist/chunks"
const entry = "dist/chatkazi-mcp.mjs"
const server = "chatkazi-mcp-server"

/**
 * The SDK's Server and Client import their default JSON Schema validator, Ajv (about 140 kB
 * minified with its formats and URI parser), even when given another one. Our server passes its
 * own (src/server/stdio.ts), so the bundle gets a stand-in that fails loudly if anything
 * ever constructs the default.
 */
const withoutAjv = {
  name: "without-ajv",
  setup(build) {
    build.onResolve({ filter: /\/validation\/ajv-provider\.js$/ }, () => ({ path: "ajv-provider", namespace: "without-ajv" }))
    build.onLoad({ filter: /.*/, namespace: "without-ajv" }, () => ({
      contents: `export class AjvJsonSchemaValidator {
        constructor() { throw new Error("chatkazi-mcp is bundled without Ajv: pass a jsonSchemaValidator") }
      }`
    }))
  }
}

/**
 * Effect's Schema imports fast-check (about 90 kB with pure-rand) for `Arbitrary`, which the server
 * never uses; loading it was part of every start. The bundle gets an empty stand-in: anything that
 * did use an arbitrary would fail at once, naming this.
 */
const withoutFastCheck = {
  name: "without-fast-check",
  setup(build) {
    build.onResolve({ filter: /^\.\/FastCheck\.js$/ }, (args) =>
      /[\\/]effect[\\/]dist[\\/]esm$/.test(args.resolveDir) ? { path: "fast-check", namespace: "without-fast-check" } : undefined)
    build.onLoad({ filter: /.*/, namespace: "without-fast-check" }, () => ({
      contents: `module.exports = new Proxy({}, {
        get(_, key) {
          if (typeof key !== "string" || key === "__esModule") return undefined
          return () => { throw new Error("chatkazi-mcp is bundled without fast-check: Schema arbitraries are unavailable") }
        }
      })`
    }))
  }
}

rmSync(chunks, { recursive: true, force: true })
await build({
  entryPoints: { [server]: "src/main.ts" },
  outdir,
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  outExtension: { ".js": ".mjs" },
  bundle: true,
  minify: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // Bundled CommonJS dependencies (qrcode, pngjs) call `require("zlib")` and friends, which an
  // ES module does not have: give the bundle one.
  banner: { js: `import { createRequire as __bundleRequire } from "node:module"; const require = __bundleRequire(import.meta.url);` },
  plugins: [withoutAjv, withoutFastCheck],
  logLevel: "warning"
})

// The bin itself only turns on Node's module compile cache (Node 22 and later; Node 20 has none and
// skips it) before the server is loaded: the cache covers only modules loaded after that call, and
// compiling the bundle is most of a cold start. NODE_DISABLE_COMPILE_CACHE=1 turns it off.
writeFileSync(
  entry,
  `#!/usr/bin/env node
import module from "node:module"
module.enableCompileCache?.()
await import("./${server}.mjs")
`
)
chmodSync(entry, 0o755)
