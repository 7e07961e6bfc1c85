/**
 * The MCP server over stdio: lists the tools with the JSON Schemas of their Effect Schemas, and
 * runs each call as an Effect in a runtime built from the Layer graph. Every failure becomes an
 * `isError` result with guidance; nothing but JSON-RPC is written to stdout.
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js"
import {
  type CallToolResult,
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema
} from "@modelcontextprotocol/sdk/types.js"
import type { jsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/types.js"
import {
  Cause,
  Context,
  Deferred,
  Effect,
  Either,
  Exit,
  Fiber,
  FiberId,
  Layer,
  Option,
  Runtime
} from "effect"
import type { Readable, Writable } from "node:stream"
import type { ChatKaziError } from "../errors/ChatKaziError.js"
import { Progress } from "../services/Progress.js"
import { SafetyConfig } from "../services/SafetyConfig.js"
import type { AnyTool } from "../tools/Tool.js"
import { makeDispatch, stoppedResult } from "./dispatch.js"

export interface McpServerOptions<R> {
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
  /** How long calls still running at shutdown may take to answer. */
  readonly shutdownGraceMs?: number
  readonly stdin?: Readable
  readonly stdout?: Writable
}

/** Serves until stdin closes or the fiber is interrupted (SIGINT/SIGTERM through `runMain`). */
export const serveStdio = <R>(options: McpServerOptions<R>): Effect.Effect<void> =>
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

      const server = new Server(
        { name: options.name, version: options.version },
        {
          capabilities: { tools: {} },
          ...(options.instructions ? { instructions: options.instructions } : {}),
          jsonSchemaValidator: noElicitation
        }
      )
      server.onerror = (error) => Runtime.runSync(fallback)(Effect.logWarning("MCP transport error", error.message))

      // Each call in flight, with the way to answer it as stopped: at shutdown, once the grace period is
      // over, calls still running are answered at once, without waiting for a send that holds its request
      // open until CHATKAZI_TIMEOUT_MS. (One long-lived promise raced by every call would keep every
      // call's result alive.)
      const inFlight = new Map<Fiber.RuntimeFiber<CallToolResult>, () => void>()
      const stopCalls = () => inFlight.forEach((stop) => stop())
      server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [...dispatch.tools] }))
      server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
        const { name, arguments: args, _meta } = request.params
        const progressToken = _meta?.progressToken
        const progress: Progress["Type"] = {
          report: (report) =>
            progressToken === undefined ? Effect.void : Effect.ignore(Effect.tryPromise(() =>
              extra.sendNotification({ method: "notifications/progress", params: { progressToken, ...report } })
            ))
        }
        const fiber = Runtime.runFork(runtime)(
          dispatch.call<R>(name, args).pipe(
            Effect.provideService(Progress, progress),
            Effect.catchTag("InvalidCall", (invalid) => Effect.die(protocolError(ErrorCode.InvalidParams, invalid.message)))
          )
        )
        const cancel = () => fiber.unsafeInterruptAsFork(FiberId.none)
        extra.signal.addEventListener("abort", cancel, { once: true })
        const exit = await new Promise<Exit.Exit<CallToolResult> | undefined>((resolve) => {
          inFlight.set(fiber, () => resolve(undefined))
          fiber.addObserver(resolve)
        })
        extra.signal.removeEventListener("abort", cancel)
        inFlight.delete(fiber)
        if (exit !== undefined && Exit.isFailure(exit)) {
          const defect = Cause.dieOption(exit.cause)
          if (Option.isSome(defect) && defect.value instanceof ProtocolError) throw defect.value
        }
        return exit !== undefined && Exit.isSuccess(exit) ? exit.value : stoppedResult(dispatch.find(name), options.notice)
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
          drain(inFlight, options.shutdownGraceMs ?? 3_000, stopCalls).pipe(
            Effect.andThen(Effect.promise(() => server.close()))
          )
      )
      yield* Deferred.await(closed)
    })
  )

/**
 * The SDK validates answers to elicitation requests with this; by default it builds an Ajv instance
 * (and the bundle would carry Ajv) at every start. This server never asks the user for input.
 */
const noElicitation: jsonSchemaValidator = {
  getValidator: () => () => ({ valid: false, data: undefined, errorMessage: "this server does not elicit input" })
}

/** Lets calls in flight finish for up to `graceMs`, then stops the rest (they answer that they were stopped). */
const drain = (inFlight: ReadonlyMap<Fiber.RuntimeFiber<CallToolResult>, unknown>, graceMs: number, stopCalls: () => void) =>
  Effect.gen(function*() {
    if (inFlight.size === 0) return
    yield* Effect.logInfo(`Shutting down: waiting up to ${graceMs} ms for ${inFlight.size} call(s) in flight`)
    // Interruptible, or the timeout could not end the wait: a finalizer runs uninterruptibly.
    yield* Fiber.awaitAll([...inFlight.keys()]).pipe(Effect.interruptible, Effect.timeoutOption(graceMs))
    const running = [...inFlight.keys()]
    stopCalls()
    yield* Effect.forEach(running, (fiber) => Fiber.interruptFork(fiber), { discard: true })
    // Let the request handlers write their answers before the transport closes.
    yield* Effect.sleep(20)
  })

/** Thrown from a request handler, the SDK answers with this JSON-RPC error code and message as they are. */
class ProtocolError extends Error {
  constructor(readonly code: number, message: string) {
    super(message)
  }
}

const protocolError = (code: number, message: string) => new ProtocolError(code, message)
