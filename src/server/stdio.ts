/**
 * The MCP server over stdio: lists the tools with the JSON Schemas of their Effect Schemas, and
 * runs each call as an Effect in a runtime built from the Layer graph. Every failure becomes an
 * `isError` result with guidance; nothing but JSON-RPC is written to stdout.
 */
import type { Server } from "@modelcontextprotocol/sdk/server/index.js"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js"
import { Context, Deferred, Effect, Either, Exit, Layer, Option, Runtime } from "effect"
import type { Readable, Writable } from "node:stream"
import type { ChatKaziError } from "../errors/ChatKaziError.js"
import { SafetyConfig } from "../services/SafetyConfig.js"
import type { AnyTool } from "../tools/Tool.js"
import { makeCalls } from "./calls.js"
import { makeDispatch } from "./dispatch.js"
import { makeMcpServer } from "./mcpServer.js"
import type { ResourceProvider } from "./resourceProviders.js"

export interface StdioOptions<R> {
  readonly name: string
  readonly version: string
  readonly tools: ReadonlyArray<AnyTool>
  /**
   * Everything the tools need. If building it fails (no API key, a bad setting), the server still
   * starts and every call answers with that failure's guidance.
   */
  readonly layer: Layer.Layer<R, ChatKaziError>
  readonly instructions?: string
  /** Put before every result's text, e.g. to say this is the sandbox. */
  readonly notice?: string
  /** Resources to offer, built on the services' runtime (not offered when the services failed to build). */
  readonly resources?: (runtime: Runtime.Runtime<R>, server: Server) => ReadonlyArray<ResourceProvider>
  /** How long calls still running at shutdown may take to answer. */
  readonly shutdownGraceMs?: number
  readonly stdin?: Readable
  readonly stdout?: Writable
}

/** Serves until stdin closes or the fiber is interrupted (SIGINT/SIGTERM through `runMain`). */
export const serveStdio = <R>(options: StdioOptions<R>): Effect.Effect<void> =>
  Effect.scoped(
    Effect.gen(function*() {
      const stdin = options.stdin ?? process.stdin
      const services = yield* Effect.either(Layer.toRuntime(options.layer))
      if (Either.isLeft(services)) {
        yield* Effect.logWarning(`Starting without ChatKazi access. ${services.left.guidance}`)
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
      const transport = new StdioServerTransport(stdin, stdout)
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
      yield* Deferred.await(closed)
    })
  )
