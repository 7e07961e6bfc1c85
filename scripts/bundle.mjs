/**
 * Bundles the `chatkazi-mcp` command (src/main.ts and everything it imports, dependencies
 * included) into one minified CommonJS file with no runtime dependencies,
 * dist/chatkazi-mcp-server.cjs, behind the `bin` (scripts/launcher.mjs), which runs it through a V8
 * code cache. CommonJS because V8's code cache is reachable only for a `vm.Script`, not for an ES
 * module; one file because CommonJS output cannot be split: what is loaded with a dynamic
 * `import()` (the sandbox, HTTP, the QR drawing library) is inlined but still evaluated only when
 * first imported, and with the cache it costs next to nothing to carry.
 */
import { build } from "esbuild"
import { createHash } from "node:crypto"
import { chmodSync, readFileSync, rmSync, writeFileSync } from "node:fs"

const server = "dist/chatkazi-mcp-server.cjs"
const entry = "dist/chatkazi-mcp.mjs"
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

// What earlier builds wrote beside the bundle.
rmSync("dist/chunks", { recursive: true, force: true })
rmSync("dist/chatkazi-mcp-server.mjs", { force: true })

const { outputFiles: [output] } = await build({
  entryPoints: ["src/main.ts"],
  outfile: server,
  write: false,
  bundle: true,
  minify: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  // main.ts reads package.json beside dist/ through import.meta.url, which CommonJS does not have.
  // "use strict" first: the code was written as ES modules, always strict (esbuild's own directive
  // would come after the banner, where it does nothing).
  define: { "import.meta.url": "__bundleUrl" },
  banner: { js: `"use strict"; var __bundleUrl = require("node:url").pathToFileURL(__filename).href;` },
  plugins: [withoutAjv, withoutFastCheck],
  logLevel: "warning"
})

// Escaped to ASCII (esbuild leaves a few characters in regular expressions as they are) so the
// launcher can read it as latin1, several ms faster than decoding UTF-8 into a two-byte string.
const bundle = output.text
  .replace(/^#!.*\n/, "")
  .replace(/[^\0-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
writeFileSync(server, bundle)

const launcher = readFileSync("scripts/launcher.mjs", "utf8")
const key = createHash("sha256").update(launcher).update(bundle).digest("hex")
writeFileSync(entry, launcher.replace("%BUILD%", key))
chmodSync(entry, 0o755)
