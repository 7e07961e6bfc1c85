/**
 * Bundles the `chatkazi-mcp` command (src/main.ts and everything it imports, dependencies
 * included) into one minified ESM file with no runtime dependencies: the package's `bin`.
 * Modules loaded with a dynamic `import()` are inlined too and only run when first imported.
 */
import { build } from "esbuild"
import { chmodSync } from "node:fs"

const outfile = "dist/chatkazi-mcp.mjs"

await build({
  entryPoints: ["src/main.ts"],
  outfile,
  bundle: true,
  minify: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // Bundled CommonJS dependencies (qrcode, pngjs) call `require("zlib")` and friends, which an
  // ES module does not have: give the bundle one.
  banner: { js: `import { createRequire as __bundleRequire } from "node:module"; const require = __bundleRequire(import.meta.url);` },
  logLevel: "warning"
})
chmodSync(outfile, 0o755)
