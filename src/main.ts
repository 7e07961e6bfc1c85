#!/usr/bin/env node
/**
 * The `chatkazi-mcp` command: wiring only. Config and HTTP feed the ChatKazi service; the safety
 * settings and one state store feed the guards, the approval step, the linking memory and the
 * inbox; the tools run on them over stdio (or HTTP). The sandbox, the HTTP server and `check` are
 * imported only when asked for, so the normal start stays light.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Console, Effect, Exit, Layer, Option } from "effect"
import type { ChatKaziError } from "./errors/ChatKaziError.js"
import { createRequire } from "node:module"
import { type Command, helpText, parseCommand } from "./cli.js"
import { Account } from "./services/Account.js"
import { ChatKazi } from "./services/ChatKazi.js"
import { ChatKaziConfig } from "./services/ChatKaziConfig.js"
import { Confirmations } from "./services/Confirmations.js"
import { Linking } from "./services/Linking.js"
import { StderrLogger } from "./server/logging.js"
import { messagesResource } from "./server/messagesResource.js"
import { stdioReceiving } from "./server/receiving.js"
import { serveStdio } from "./server/stdio.js"
import { MediaProbe } from "./services/MediaProbe.js"
import { SafetyConfig } from "./services/SafetyConfig.js"
import { SendGuard } from "./services/SendGuard.js"
import { StateStore } from "./services/StateStore.js"
import { tools } from "./tools/registry.js"

const { name, version } = createRequire(import.meta.url)("../package.json") as { name: string; version: string }

const Gateway = Layer.mergeAll(ChatKazi.layerFetch, MediaProbe.layer, Account.layer).pipe(
  Layer.provide(ChatKaziConfig.layer),
  Layer.provide(FetchHttpClient.layer)
)

/**
 * The send guards, the approval step and the linking memory, on their state: Redis when
 * CHATKAZI_REDIS_URL is set, else this process's memory.
 */
const Guards = (store: Layer.Layer<StateStore, ChatKaziError>) =>
  Layer.mergeAll(SendGuard.layer, Confirmations.layer, Linking.layerConfig).pipe(
    Layer.provideMerge(Layer.merge(SafetyConfig.layer, store))
  )

/** The sandbox sends nothing real and has no account: its guards keep their state in memory. */
const SandboxGuards = Layer.merge(Guards(StateStore.layerMemory), Account.layerKey("sandbox"))

/** Where state lives in live mode: one store (a layer is built once) for guards, linking and the inbox. */
const Store = StateStore.layerConfig

/** Incoming messages: the inbox on the store, and the webhook listener when CHATKAZI_WEBHOOK_PORT is set. */
const Receiving = stdioReceiving.pipe(Layer.provide(Store))

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
        Effect.flatMap(({ serveSandbox }) => serveSandbox({ name, version, tools, guards: SandboxGuards, settings: command.settings }))
      )
    case "SandboxServer":
      return Effect.promise(() => import("./sandbox/SandboxServer.js")).pipe(
        Effect.flatMap(({ runSandboxServer }) => runSandboxServer({ port: command.port, settings: command.settings, webhookUrl: command.webhookUrl }))
      )
    case "ServeHttp":
      return Effect.promise(() =>
        Promise.all([import("./server/http.js"), import("./server/httpServices.js"), import("./server/httpFeatures.js")])
      ).pipe(
        Effect.flatMap(([{ serveHttp }, { callerContext, processServices }, { httpFeatures }]) =>
          serveHttp({
            name,
            version,
            tools,
            host: command.host,
            port: command.port,
            shared: processServices({ stateStore: StateStore.layerConfig, httpClient: FetchHttpClient.layer }),
            forCaller: callerContext,
            extend: httpFeatures
          })
        ),
        Effect.tapError((error) =>
          Effect.logError(
            `Cannot start: ${error._tag === "InvalidConfig" ? `${error.setting}: ${error.problem}` : error.message}`
          )
        )
      )
    case "Check":
      return Effect.promise(() => import("./check.js")).pipe(
        Effect.flatMap(({ runCheck }) => runCheck),
        Effect.provide(FetchHttpClient.layer),
        Effect.flatMap((ok) => ok ? Effect.void : Effect.fail(command))
      )
    case "Serve":
      return serveStdio({
        name,
        version,
        tools,
        layer: Layer.mergeAll(Gateway, Guards(Store), Receiving),
        resources: (runtime, server) => [messagesResource(runtime, (uri) => server.sendResourceUpdated({ uri }))],
        onReady: ready
      })
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
