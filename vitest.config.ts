import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // End-to-end suites spawn the built server; two cores are plenty for two workers.
    maxWorkers: 2,
    minWorkers: 1
  }
})
