/**
 * MCP logging: the server declares the `logging` capability, honours `logging/setLevel`, and what a
 * request's Effect program logs (retries, refused sends, warnings) goes to the client as
 * `notifications/message` at its level, besides stderr. The logger is added per request, so each
 * notification travels with the request that caused it (on HTTP, in that request's stream).
 *
 * Only text reaches the client: the string parts of a log message and the messages of errors, never
 * an object (a request object would carry the API key header).
 */
import type { Server } from "@modelcontextprotocol/sdk/server/index.js"
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js"
import {
  type LoggingLevel,
  type ServerNotification,
  type ServerRequest,
  SetLevelRequestSchema
} from "@modelcontextprotocol/sdk/types.js"
import { Effect, FiberRef, HashSet, Logger, type LogLevel } from "effect"

const SEVERITY: ReadonlyArray<LoggingLevel> = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]

const mcpLevel = (level: LogLevel.LogLevel): LoggingLevel => {
  switch (level._tag) {
    case "Fatal":
      return "critical"
    case "Error":
      return "error"
    case "Warning":
      return "warning"
    case "Info":
      return "info"
    default:
      return "debug"
  }
}

const textOf = (message: unknown): string =>
  (Array.isArray(message) ? message : [message])
    .flatMap((part) => typeof part === "string" ? [part] : part instanceof Error ? [part.message] : [])
    .join(" ")

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>

/** Adds a logger to an effect that sends what it logs to the client of one request. */
export type WithClientLog = (extra: Extra) => <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>

/**
 * Declares the capability and handles `logging/setLevel` (until it is called, `info` and above are
 * sent). The level lives as long as the Server: the process on stdio, one request on stateless HTTP.
 * Call before the server connects.
 */
export const registerLogging = (server: Server): WithClientLog => {
  let minimum: LoggingLevel = "info"
  server.registerCapabilities({ logging: {} })
  server.setRequestHandler(SetLevelRequestSchema, async (request) => {
    minimum = request.params.level
    return {}
  })
  return (extra) => {
    const logger = Logger.make<unknown, void>(({ logLevel, message }) => {
      const level = mcpLevel(logLevel)
      const text = textOf(message)
      if (text === "" || SEVERITY.indexOf(level) < SEVERITY.indexOf(minimum)) return
      extra.sendNotification({ method: "notifications/message", params: { level, logger: "chatkazi-mcp", data: text } })
        .catch(() => undefined)
    })
    return (effect) => Effect.locallyWith(effect, FiberRef.currentLoggers, HashSet.add(logger))
  }
}
