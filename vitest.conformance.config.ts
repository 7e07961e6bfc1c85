import { configDefaults, defineConfig } from "vitest/config"
import base, { conformanceTest } from "./vitest.config.js"

/** The MCP conformance suite alone (it needs test/runtimes' Node 22); `npm run test:conformance`. */
export default defineConfig({
  ...base,
  test: { ...base.test, include: [conformanceTest], exclude: configDefaults.exclude }
})
