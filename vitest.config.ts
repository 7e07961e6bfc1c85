import { configDefaults, defineConfig } from "vitest/config"

/** Needs Node 22 from test/runtimes: run once by `npm run test:runtimes` (vitest.conformance.config.ts). */
export const conformanceTest = "test/e2e/conformance.e2e.test.ts"

interface Task {
  readonly type: string
  readonly mode?: string
  readonly result?: { readonly state?: string }
  readonly tasks?: ReadonlyArray<Task>
}

/** One plain closing line ("tests: N passed, N failed, N skipped") that any CI log reader understands. */
class PlainSummary {
  onFinished(files: ReadonlyArray<Task> = []) {
    const count = { passed: 0, failed: 0, skipped: 0 }
    const visit = (task: Task): void => {
      if (task.type === "test") {
        const state = task.result?.state
        if (state === "pass") count.passed++
        else if (state === "fail") count.failed++
        else count.skipped++
      }
      task.tasks?.forEach(visit)
    }
    files.forEach(visit)
    console.log(`tests: ${count.passed} passed, ${count.failed} failed, ${count.skipped} skipped`)
  }
}

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: [...configDefaults.exclude, conformanceTest],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // End-to-end suites spawn the built server; two cores are plenty for two workers.
    maxWorkers: 2,
    minWorkers: 1,
    reporters: ["default", new PlainSummary()]
  }
})
