/**
 * The MCP server over stdio: lists the tools with the JSON Schemas of their Effect Schemas, and
 * runs each call as an Effect in a runtime built from the Layer graph. Every failure becomes an
 * `isError` result with guidance; nothing but JSON-RPC is written to stdout: every log line goes
 * to stderr, whoever calls this. The MCP SDK is loaded only when serving starts, so a library user
 * who only runs tool programs does not need it.
 */
import type { Server } from "@modelcontextprotocol/sdk/server/index.js"
import { Context, Deferred, Effect, Either, Exit, Layer, Option, Runtime } from "effect"
import type { Readable, Writable } from "node:stream"
import type { ChatKaziError } from "../errors/ChatKaziError.js"
import { SafetyConfig } from "../services/SafetyConfig.js"
import type { AnyTool, ToolRequirements } from "../tools/Tool.js"
import { makeCalls } from "./calls.js"
import { makeDispatch } from "./dispatch.js"
import { StderrLogger } from "./logging.js"
import type { ResourceProvider } from "./resourceProviders.js"

export interface StdioOptions<Tools extends ReadonlyArray<AnyTool>> {
  readonly name: string
  readonly version: string
  readonly tools: Tools
  /**
   * Everything the tools need: a layer that leaves one of their services out does not compile. If
   * building it fails (no API key, a bad setting), the server still starts and every call answers
   * with that failure's guidance.
   */
  readonly layer: Layer.Layer<ToolRequirements<Tools[number]>, ChatKaziError>
  /** Run once the transport is connected, e.g. to log that the server is ready. */
  readonly onReady?: Effect.Effect<void>
  readonly instructions?: string
  /** Put before every result's text, e.g. to say this is the sandbox. */
  readonly notice?: string
  /** Resources to offer, built on the services' runtime (not offered when the services failed to build). */
  readonly resources?: (
    runtime: Runtime.Runtime<ToolRequirements<Tools[number]>>,
    server: Server
  ) => ReadonlyArray<ResourceProvider>
  /** How long calls still running at shutdown may take to answer. */
  readonly shutdownGraceMs?: number
  /** Longest message (line) accepted; longer ones are skipped and answered with an error. */
  readonly maxMessageBytes?: number
  readonly stdin?: Readable
  readonly stdout?: Writable
}

/** Serves until stdin closes or the fiber is interrupted (SIGINT/SIGTERM through `runMain`). */
export const serveStdio = <const Tools extends ReadonlyArray<AnyTool>>(options: StdioOptions<Tools>): Effect.Effect<void> =>
  Effect.scoped(
    Effect.gen(function*() {
      type R = ToolRequirements<Tools[number]>
      const stdin = options.stdin ?? process.stdin
      const services = yield* Effect.either(Layer.toRuntime(options.layer))
      if (Either.isLeft(services)) {
        yield* Effect.logWarning(`Starting without ChatKazi access. ${services.left.message}`)
      }
      const fallback = yield* Effect.runtime<never>()
      const runtime: Runtime.Runtime<R> = Either.isRight(services) ? services.right : (fallback as Runtime.Runtime<R>)
      const readOnly = Either.isRight(services) &&
        Option.exists(Context.getOption(services.right.context, SafetyConfig), (safety) => safety.readOnly)
      const dispatch = makeDispatch({
        tools: options.tools,
        readOnly,
        notice: options.notice,
        unavailable: Either.isLeft(services) ? services.left : undefined
      })

      const [{ makeMcpServer }, { StdioTransport }] = yield* Effect.promise(() =>
        Promise.all([import("./mcpServer.js"), import("./stdioTransport.js")])
      )
      const calls = makeCalls()
      const server = makeMcpServer({
        name: options.name,
        version: options.version,
        instructions: options.instructions,
        dispatch,
        runtime,
        calls,
        notice: options.notice,
        onError: (error) => Runtime.runSync(fallback)(Effect.logWarning("MCP transport error", error.message)),
        resources: Either.isRight(services) && options.resources !== undefined
          ? (server) => options.resources!(runtime, server)
          : undefined
      })

      const closed = yield* Deferred.make<void>()
      const close = () => Deferred.unsafeDone(closed, Exit.void)
      const stdout = options.stdout ?? process.stdout
      const transport = new StdioTransport(stdin, stdout, {
        ...(options.maxMessageBytes === undefined ? {} : { maxMessageBytes: options.maxMessageBytes }),
        onRefused: (reason) => Runtime.runSync(fallback)(Effect.logWarning(`Refused a message from the client: ${reason}`))
      })
      transport.onclose = close
      // A host that closed our stdout (EPIPE) is gone: shut down cleanly instead of crashing.
      stdout.on("error", close)
      stdin.once("end", close)
      stdin.once("close", close)
      yield* Effect.acquireRelease(
        Effect.promise(() => server.connect(transport)),
        () =>
          calls.drain(options.shutdownGraceMs ?? 3_000).pipe(
            Effect.andThen(Effect.promise(() => server.close()))
          )
      )
      if (options.onReady) yield* options.onReady
      yield* Deferred.await(closed)
    })
  ).pipe(Effect.provide(StderrLogger))
