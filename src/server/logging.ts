/**
 * stdout is the JSON-RPC channel, so every log line goes to stderr.
 */
import { Logger } from "effect"

export const StderrLogger = Logger.replace(Logger.defaultLogger, Logger.withConsoleError(Logger.logfmtLogger))
