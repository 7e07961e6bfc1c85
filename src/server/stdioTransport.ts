/**
 * MCP over stdio, one JSON-RPC message per line, answering every message. It replaces the SDK's
 * `StdioServerTransport`, which drops a line it cannot parse without an answer and closes itself when
 * a message is over its buffer limit. Here every line goes through `screen` (jsonRpc.ts): what the
 * SDK could not answer is answered here, and a line over `maxMessageBytes` is skipped, answered with
 * an error, and the next line is served.
 */
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js"
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js"
import type { Readable, Writable } from "node:stream"
import { type ErrorAnswer, parseError, screen, tooLarge } from "./jsonRpc.js"

/** 4 MiB: far above any real request (a text message is at most 64 K characters; media go by URL). */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024

export interface StdioTransportOptions {
  readonly maxMessageBytes?: number
  /** Told about every message that was refused, for the log (never the message itself). */
  readonly onRefused?: (reason: string) => void
}

const NEWLINE = 0x0a

export class StdioTransport implements Transport {
  onclose?: () => void
  onerror?: (error: Error) => void
  onmessage?: (message: JSONRPCMessage) => void

  private readonly maxMessageBytes: number
  private pending: Array<Buffer> = []
  private pendingBytes = 0
  /** Set while the rest of an oversized line is being skipped: the bytes seen so far. */
  private skipping: number | undefined
  private closed = false

  constructor(
    private readonly stdin: Readable,
    private readonly stdout: Writable,
    private readonly options: StdioTransportOptions = {}
  ) {
    this.maxMessageBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES
  }

  private readonly onData = (chunk: Buffer) => this.read(chunk)
  private readonly onStdinError = (error: Error) => this.onerror?.(error)

  async start(): Promise<void> {
    this.stdin.on("data", this.onData)
    this.stdin.on("error", this.onStdinError)
  }

  private read(chunk: Buffer) {
    let start = 0
    while (start <= chunk.length && !this.closed) {
      const newline = chunk.indexOf(NEWLINE, start)
      const end = newline === -1 ? chunk.length : newline
      this.collect(chunk.subarray(start, end))
      if (newline === -1) return
      this.endOfLine()
      start = newline + 1
    }
  }

  private collect(piece: Buffer) {
    if (piece.length === 0) return
    if (this.skipping !== undefined) {
      this.skipping += piece.length
    } else if (this.pendingBytes + piece.length > this.maxMessageBytes) {
      this.skipping = this.pendingBytes + piece.length
      this.pending = []
      this.pendingBytes = 0
    } else {
      this.pending.push(piece)
      this.pendingBytes += piece.length
    }
  }

  private endOfLine() {
    if (this.skipping !== undefined) {
      const bytes = this.skipping
      this.skipping = undefined
      this.refuse(tooLarge(bytes, this.maxMessageBytes), `a message of ${bytes} bytes is over the ${this.maxMessageBytes}-byte limit`)
      return
    }
    const line = Buffer.concat(this.pending, this.pendingBytes).toString("utf8").replace(/\r$/, "")
    this.pending = []
    this.pendingBytes = 0
    if (line.trim() === "") return
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      this.refuse(parseError(), "a line that is not JSON")
      return
    }
    const screened = screen(value)
    if (screened._tag === "Message") this.onmessage?.(screened.message)
    else this.refuse(screened.answer, screened.reason)
  }

  private refuse(answer: ErrorAnswer | undefined, reason: string) {
    this.options.onRefused?.(reason)
    if (answer !== undefined) void this.write(answer)
  }

  send(message: JSONRPCMessage): Promise<void> {
    return this.write(message)
  }

  private write(message: JSONRPCMessage | ErrorAnswer): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed || !this.stdout.writable) return resolve()
      if (this.stdout.write(JSON.stringify(message) + "\n")) resolve()
      else this.stdout.once("drain", resolve)
    })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.stdin.off("data", this.onData)
    this.stdin.off("error", this.onStdinError)
    if (this.stdin.listenerCount("data") === 0) this.stdin.pause()
    this.pending = []
    this.onclose?.()
  }
}
