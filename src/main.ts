#!/usr/bin/env node
/**
 * The `chatkazi-mcp` command: wiring only. Config and HTTP feed the ChatKazi service and the
 * guards, which feed the tools, which the stdio MCP server runs. The sandbox (a simulated
 * gateway) is imported only when asked for, so the normal start stays light.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Console, Effect, Exit, Layer, Option } from "effect"
import { createRequire } from "node:module"
import { type Command, helpText, parseCommand } from "./cli.js"
import { ChatKazi } from "./services/ChatKazi.js"
import { ChatKaziConfig } from "./services/ChatKaziConfig.js"
import { StderrLogger } from "./server/logging.js"
import { serveStdio } from "./server/stdio.js"
import { MediaProbe } from "./services/MediaProbe.js"
import { SafetyConfig } from "./services/SafetyConfig.js"
import { SendGuard } from "./services/SendGuard.js"
import { tools } from "./tools/registry.js"

const { name, version } = createRequire(import.meta.url)("../package.json") as { name: string; version: string }

const Gateway = Layer.mergeAll(ChatKazi.layer, MediaProbe.layer).pipe(
  Layer.provide(ChatKaziConfig.layer),
  Layer.provide(FetchHttpClient.layer)
)

const Guards = SendGuard.layer.pipe(Layer.provideMerge(SafetyConfig.layer))

/** One line on stderr once the server is up: what it will use, never the key. */
const ready = Effect.gen(function*() {
  const config = yield* ChatKaziConfig
  const safety = yield* SafetyConfig
  yield* Effect.logInfo(
    `${name} ${version} ready on stdio: ChatKazi at ${config.baseUrl}, timeout ${config.timeoutMs} ms, ` +
      `${safety.readOnly ? "read-only" : "sends allowed"} (allowlist: ${
        Option.match(safety.allowedRecipients, { onNone: () => "anyone", onSome: (list) => list.join(",") })
      }; at most ${safety.maxSendsPerMinute} sends a minute per session; duplicates within ${safety.dedupeWindowSeconds} s suppressed)`
  )
}).pipe(
  Effect.provide(Layer.merge(ChatKaziConfig.layer, SafetyConfig.layer)),
  // Without working settings a warning with the guidance was logged at start instead.
  Effect.catchAll(() => Effect.logInfo(`${name} ${version} ready on stdio, without ChatKazi access (see the warning above)`))
)

const run = (command: Command): Effect.Effect<void, unknown> => {
  switch (command._tag) {
    case "Help":
      return Console.log(helpText(name, version))
    case "Version":
      return Console.log(`${name} ${version}`)
    case "Invalid":
      return Console.error(`${name}: ${command.problem}\nRun "npx ${name} --help" for usage.`).pipe(
        Effect.zipRight(Effect.fail(command))
      )
    case "ServeSandbox":
      return Effect.promise(() => import("./server/sandbox.js")).pipe(
        Effect.flatMap(({ serveSandbox }) => serveSandbox({ name, version, tools, guards: Guards, settings: command.settings }))
      )
    case "SandboxServer":
      return Effect.promise(() => import("./sandbox/SandboxServer.js")).pipe(
        Effect.flatMap(({ runSandboxServer }) => runSandboxServer({ port: command.port, settings: command.settings }))
      )
    case "Check":
      return Effect.promise(() => import("./check.js")).pipe(
        Effect.flatMap(({ runCheck }) => runCheck),
        Effect.provide(FetchHttpClient.layer),
        Effect.flatMap((ok) => ok ? Effect.void : Effect.fail(command))
      )
    case "Serve":
      return serveStdio({ name, version, tools, layer: Layer.mergeAll(Gateway, Guards), onReady: ready })
  }
}

run(parseCommand(process.argv.slice(2))).pipe(
  Effect.provide(StderrLogger),
  NodeRuntime.runMain({
    disableErrorReporting: true,
    disablePrettyLogger: true,
    // Exit as soon as the server is done: idle HTTP keep-alive sockets must not hold the host waiting.
    teardown: (exit) => process.exit(Exit.isFailure(exit) && !Cause.isInterruptedOnly(exit.cause) ? 1 : 0)
  })
)
