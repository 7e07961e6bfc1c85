/**
 * A stand-in for the ChatKazi gateway on 127.0.0.1: a real node:http server whose answers are
 * scripted per request (a queue per method and path, then a default), and which records every
 * request it receives so tests can assert exactly what reached "ChatKazi" and how often.
 *
 * It also serves media files (HEAD and GET, with sizes and content types), because a server whose
 * CHATKAZI_BASE_URL is on 127.0.0.1 may send media URLs on 127.0.0.1 too.
 */
import { once } from "node:events"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo, Socket } from "node:net"

/** One scripted answer. Everything is optional: `{}` is a 200 with `{"success":true}`. */
export interface Reply {
  readonly status?: number
  /** Sent as JSON (`Content-Type: application/json`). */
  readonly json?: unknown
  /** Sent as it is; takes precedence over `json`. */
  readonly body?: string
  readonly headers?: Readonly<Record<string, string>>
  /** Waits this long before answering. */
  readonly delayMs?: number
  /** Never answers; the connection stays open until the client gives up or the gateway stops. */
  readonly hang?: true
  /** Writes the headers (announcing a longer body) and this much of the body, then destroys the socket. */
  readonly resetAfter?: string
}

/** A reply computed from the request, e.g. to echo the session id back. */
export type Responder = Reply | ((request: RecordedRequest) => Reply)

export interface RecordedRequest {
  readonly seq: number
  readonly method: string
  /** The path without the query, as received (so a `//` would show). */
  readonly path: string
  readonly query: Readonly<Record<string, string>>
  readonly rawUrl: string
  readonly headers: Readonly<Record<string, string | Array<string> | undefined>>
  readonly body: string
  /** The body parsed as JSON, or undefined when it is empty or not JSON. */
  readonly json: unknown
  readonly receivedAt: number
  /** Set when the client closed the connection before an answer was written (a hang cut by a timeout). */
  abortedAt?: number
}

export interface MediaFile {
  readonly size: number
  readonly contentType?: string
  /** Answer HEAD with this status instead (e.g. 405), so the server falls back to a ranged GET. */
  readonly headStatus?: number
}

const MAX_BODY_BYTES = 8 * 1024 * 1024
const MAX_MEDIA_BYTES = 4 * 1024 * 1024
const MAX_RECORDED = 50_000

const key = (method: string, path: string) => `${method.toUpperCase()} ${path}`

export class ScriptedGateway {
  /** The prefix the API lives under, like the real `https://api.chatkazi.app/api/v1`. */
  static readonly apiPrefix = "/api/v1"

  readonly requests: Array<RecordedRequest> = []
  private readonly queues = new Map<string, Array<Responder>>()
  private readonly defaults = new Map<string, Responder>()
  private readonly media = new Map<string, MediaFile>()
  private readonly sockets = new Set<Socket>()
  private readonly waiters = new Set<() => void>()
  private seq = 0

  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(): Promise<ScriptedGateway> {
    const server = createServer()
    server.keepAliveTimeout = 1_000
    server.listen(0, "127.0.0.1")
    await once(server, "listening")
    const gateway = new ScriptedGateway(server, (server.address() as AddressInfo).port)
    server.on("connection", (socket) => {
      gateway.sockets.add(socket)
      socket.once("close", () => gateway.sockets.delete(socket))
    })
    server.on("request", (req, res) => gateway.handle(req, res))
    return gateway
  }

  /** `http://127.0.0.1:<port>` */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`
  }

  /** What CHATKAZI_BASE_URL should be set to. */
  get baseUrl(): string {
    return `${this.origin}${ScriptedGateway.apiPrefix}`
  }

  /** A full URL on this server, for media. */
  url(path: string): string {
    return `${this.origin}${path}`
  }

  /** Queues answers for the next requests to `method path` (the path below the API prefix). */
  on(method: string, path: string, ...replies: Array<Responder>): this {
    const k = key(method, ScriptedGateway.apiPrefix + path)
    this.queues.set(k, [...(this.queues.get(k) ?? []), ...replies])
    return this
  }

  /** The answer for `method path` once its queue is empty. */
  setDefault(method: string, path: string, reply: Responder): this {
    this.defaults.set(key(method, ScriptedGateway.apiPrefix + path), reply)
    return this
  }

  /** Serves a media file at `path` (not under the API prefix) for HEAD and GET, with Range support. */
  serveMedia(path: string, file: MediaFile): string {
    this.media.set(path, file)
    return this.url(path)
  }

  /** Forgets scripts and recorded requests (media files stay). */
  reset(): void {
    this.queues.clear()
    this.defaults.clear()
    this.requests.length = 0
  }

  /** Requests matching method and API path (below the prefix); either may be omitted. */
  received(method?: string, path?: string): Array<RecordedRequest> {
    return this.requests.filter((r) =>
      (method === undefined || r.method === method.toUpperCase()) &&
      (path === undefined || r.path === ScriptedGateway.apiPrefix + path)
    )
  }

  count(method?: string, path?: string): number {
    return this.received(method, path).length
  }

  /** Requests to the API (below the prefix), leaving out media downloads. */
  get apiRequests(): Array<RecordedRequest> {
    return this.requests.filter((r) => r.path.startsWith(`${ScriptedGateway.apiPrefix}/`))
  }

  /** Resolves once `predicate` holds over the recorded requests; rejects after `timeoutMs`. */
  async waitFor(predicate: (requests: ReadonlyArray<RecordedRequest>) => boolean, timeoutMs = 10_000): Promise<void> {
    if (predicate(this.requests)) return
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (predicate(this.requests)) {
          done()
          resolve()
        }
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`ScriptedGateway: condition not met within ${timeoutMs} ms; saw ${this.describe()}`))
      }, timeoutMs)
      const done = () => {
        clearTimeout(timer)
        this.waiters.delete(check)
      }
      this.waiters.add(check)
    })
  }

  /** A compact list of what was received, for failure messages. */
  describe(): string {
    return this.requests.map((r) => `${r.method} ${r.rawUrl}`).join(", ") || "no requests"
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private notify() {
    for (const waiter of [...this.waiters]) waiter()
  }

  private handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Array<Buffer> = []
    let size = 0
    let tooLarge = false
    req.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) tooLarge = true
      else chunks.push(chunk)
    })
    req.on("end", () => {
      const url = new URL(req.url ?? "/", this.origin)
      const body = Buffer.concat(chunks).toString("utf8")
      const recorded: RecordedRequest = {
        seq: ++this.seq,
        method: req.method ?? "GET",
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        rawUrl: req.url ?? "/",
        headers: { ...req.headers },
        body,
        json: parseJson(body),
        receivedAt: Date.now()
      }
      if (this.requests.length < MAX_RECORDED) this.requests.push(recorded)
      res.once("close", () => {
        if (!res.writableFinished) {
          recorded.abortedAt = Date.now()
          this.notify()
        }
      })
      this.notify()
      if (tooLarge) return send(res, { status: 413, json: { message: "body too large" } })
      const file = this.media.get(url.pathname)
      if (file !== undefined) return serveFile(req, res, file)
      const reply = this.next(recorded)
      const answer = typeof reply === "function" ? reply(recorded) : reply
      if (answer.hang) return
      if (answer.delayMs !== undefined && answer.delayMs > 0) {
        setTimeout(() => send(res, answer), answer.delayMs)
      } else {
        send(res, answer)
      }
    })
  }

  private next(request: RecordedRequest): Responder {
    const k = key(request.method, request.path)
    const queue = this.queues.get(k)
    if (queue !== undefined && queue.length > 0) return queue.shift()!
    return this.defaults.get(k) ?? { status: 404, json: { success: false, message: `not scripted: ${k}` } }
  }
}

const parseJson = (body: string): unknown => {
  if (body === "") return undefined
  try {
    return JSON.parse(body)
  } catch {
    return undefined
  }
}

const send = (res: ServerResponse, reply: Reply) => {
  if (res.destroyed) return
  const status = reply.status ?? 200
  const text = reply.body ?? JSON.stringify(reply.json ?? { success: status < 400 })
  const headers: Record<string, string> = {
    "content-type": reply.body === undefined ? "application/json" : "text/plain; charset=utf-8",
    ...reply.headers
  }
  if (reply.resetAfter !== undefined) {
    res.writeHead(status, { ...headers, "content-length": String(Buffer.byteLength(reply.resetAfter) + 1_000) })
    res.write(reply.resetAfter, () => res.socket?.destroy())
    return
  }
  res.writeHead(status, { ...headers, "content-length": String(Buffer.byteLength(text)) })
  res.end(text)
}

const serveFile = (req: IncomingMessage, res: ServerResponse, file: MediaFile) => {
  const size = Math.min(file.size, MAX_MEDIA_BYTES)
  const type = file.contentType === undefined ? {} : { "content-type": file.contentType }
  if (req.method === "HEAD") {
    res.writeHead(file.headStatus ?? 200, { ...type, "content-length": String(size) })
    return res.end()
  }
  const range = req.headers.range?.match(/^bytes=(\d+)-(\d*)$/)
  if (range && size > 0) {
    const start = Math.min(Number(range[1]), size - 1)
    const end = Math.min(range[2] === "" ? size - 1 : Number(range[2]), size - 1)
    const part = Buffer.alloc(Math.max(0, end - start + 1), 0x42)
    res.writeHead(206, { ...type, "content-length": String(part.length), "content-range": `bytes ${start}-${end}/${size}` })
    return res.end(part)
  }
  res.writeHead(200, { ...type, "content-length": String(size) })
  res.end(Buffer.alloc(size, 0x42))
}
