/**
 * The MCP server over Streamable HTTP, stateless: every `POST /mcp` stands alone (a new SDK server
 * and transport for it, no `Mcp-Session-Id`), so any replica can answer any request. Calls go
 * through the same dispatch as stdio; progress of long calls streams as SSE on the response.
 *
 * `makeHttpApp` builds the app, as Node's request listener; an `HttpExtension` adds routes (the
 * webhook, OAuth's), another way to authorize `/mcp`, and resources. `serveHttp` reads the settings,
 * builds the services and the extension on them, listens, and drains calls at shutdown.
 */
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js"
import { Config, Context, Data, Effect, Layer, Option, type Redacted, Runtime } from "effect"
import express, { type Express, type NextFunction, type Request, type Response } from "express"
import { createServer, type IncomingMessage, type RequestListener, type Server as NodeServer, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { InvalidConfig } from "../errors/ChatKaziError.js"
import { Account, type AccountInfo } from "../services/Account.js"
import { setting } from "../services/ChatKaziConfig.js"
import { SafetyConfig } from "../services/SafetyConfig.js"
import { StateStore } from "../services/StateStore.js"
import { WEBHOOK_PATH } from "../services/WebhookConfig.js"
import type { AnyTool } from "../tools/Tool.js"
import { type Calls, makeCalls } from "./calls.js"
import { type Dispatch, makeDispatch } from "./dispatch.js"
import { type Admission, admit, describeAccess, type HttpAccess, isLoopback, readHttpAccess } from "./httpAccess.js"
import { readTrustProxy, type TrustProxy } from "./httpProxy.js"
import { makeMcpServer } from "./mcpServer.js"
import type { ResourceProvider } from "./resourceProviders.js"

export const DEFAULT_HTTP_PORT = 8080
export const MAX_BODY_BYTES = 4 * 1024 * 1024

/** What a product adds to the bare MCP endpoint; every part optional. */
export interface HttpExtension<R> {
  /**
   * Decides who a `/mcp` request is for; by default from `access` and its `Authorization` header.
   * (OAuth replaces this to map its access tokens to a caller's ChatKazi key.)
   */
  readonly authorize?: (req: IncomingMessage) => Promise<Admission>
  /** The `WWW-Authenticate` value of a 401 (unless the refusal carries its own). */
  readonly challenge?: string
  /** Mounts more routes (the webhook, OAuth's) on the express app, behind the Host guard; no body parser runs before them. */
  readonly routes?: (app: Express) => void
  /** Resources each request's MCP server offers, on that caller's runtime (stateless: no subscriptions). */
  readonly resources?: (runtime: Runtime.Runtime<R>) => ReadonlyArray<ResourceProvider>
  /**
   * More `Host` names accepted on a loopback bind, besides localhost: the public URL's, when a reverse
   * proxy on this machine forwards the original `Host`.
   */
  readonly hostnames?: ReadonlyArray<string>
}

export interface HttpAppOptions<R> extends HttpExtension<R> {
  readonly name: string
  readonly version: string
  readonly instructions?: string | undefined
  readonly notice?: string | undefined
  readonly dispatch: Dispatch
  readonly calls: Calls
  /** Where the server listens: on loopback, a `Host` other than localhost is refused (DNS rebinding). */
  readonly host: string
  readonly access: HttpAccess
  /** Express's `trust proxy`: which peers' `X-Forwarded-For` names the client (see httpProxy.ts). */
  readonly trustProxy?: TrustProxy
  /** Browser origins allowed to call `/mcp`; a request with any other `Origin` gets 403. */
  readonly allowedOrigins: ReadonlyArray<string>
  /** The runtime for one caller's calls (the account is that key's), and how to release it when the request is over. */
  readonly runtimeFor: (apiKey: Redacted.Redacted<string>, account: AccountInfo) => Promise<CallerRuntime<R>>
  /** What `GET /healthz` reports. */
  readonly health: () => Promise<Health>
  /** True once shutdown began: new requests get 503. */
  readonly isClosing: () => boolean
  /** Where the one JSON line per request goes. */
  readonly log: (line: string) => void
  /** Where the SDK's own transport errors are reported. */
  readonly onError?: (error: Error) => void
}

export interface CallerRuntime<R> {
  readonly runtime: Runtime.Runtime<R>
  readonly release: () => void
}

export interface Health {
  readonly ok: boolean
  readonly stateStore: { readonly kind: string; readonly reachable: boolean }
}

/** What the request log line says about a request, filled in as it is understood. */
interface RequestFacts {
  method?: string
  tool?: string
  account?: string
}

const rpcError = (res: ServerResponse, status: number, code: number, message: string): void => {
  const body = JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null })
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(body) })
  res.end(body)
}

/**
 * The app as Node's request listener. What every request goes through (the request log, the 503 while
 * closing, the Host guard) and `/mcp` itself are plain Node handlers; express serves the rest
 * (`/healthz`, the webhook, OAuth's routes). Express's router and middleware chain cost about a third
 * of a millisecond of CPU per request, as much as a third of the bare SDK transport's whole request.
 */
export const makeHttpApp = <R>(options: HttpAppOptions<R>): RequestListener => {
  const app = express()
  app.disable("x-powered-by")
  app.set("trust proxy", options.trustProxy ?? false)
  app.get("/healthz", async (_req, res) => {
    res.setHeader("Cache-Control", "no-store")
    res.status(200).json(await options.health())
  })
  options.routes?.(app)
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => internalError(options, res, err))

  const mcp = mcpEndpoint(options)
  const hostCheck = isLoopback(options.host)
    ? hostGuard(["localhost", "127.0.0.1", "[::1]", ...(options.hostnames ?? [])])
    : undefined
  return (req, res) => {
    const facts = requestLog(options.log, req, res)
    if (options.isClosing()) {
      res.setHeader("Connection", "close")
      return rpcError(res, 503, -32000, "The server is shutting down; retry on another replica or in a moment.")
    }
    if (hostCheck !== undefined && !hostCheck(req, res)) return
    if (isMcpPath(req.url ?? "/")) return void mcp(req, res, facts).catch((err) => internalError(options, res, err))
    app(req, res)
  }
}

/** `/mcp` as express routed it: in any letter case, with or without a trailing slash or a query. */
const isMcpPath = (url: string): boolean => {
  const end = url.indexOf("?")
  const path = end < 0 ? url : url.slice(0, end)
  return /^\/mcp\/?$/i.test(path)
}

const internalError = <R>(options: HttpAppOptions<R>, res: ServerResponse, err: unknown): void => {
  options.onError?.(err instanceof Error ? err : new Error(String(err)))
  if (!res.headersSent) rpcError(res, 500, -32603, "Internal error")
  else res.end()
}

/** `POST /mcp`: the Origin check, who the caller is, the body, then a new SDK server and transport for it. */
const mcpEndpoint = <R>(options: HttpAppOptions<R>) => {
  const originAllowed = originCheck(options.allowedOrigins, isLoopback(options.host))
  const authorize = options.authorize ??
    ((req: IncomingMessage) => Promise.resolve(admit(options.access, req.headers.authorization)))
  const readJson = jsonBody(express.json({ limit: MAX_BODY_BYTES }))

  return async (req: IncomingMessage, res: ServerResponse, facts: RequestFacts): Promise<void> => {
    if (req.method !== "POST") {
      res.setHeader("Allow", "POST")
      return rpcError(res, 405, -32000, "Method not allowed: this server is stateless, send JSON-RPC with POST.")
    }
    if (!originAllowed(req)) return rpcError(res, 403, -32000, "Forbidden: this Origin is not in CHATKAZI_ALLOWED_ORIGINS.")
    const admission = await authorize(req)
    if (admission._tag === "Unavailable") return rpcError(res, 503, -32000, `Unavailable: ${admission.reason}.`)
    if (admission._tag === "Refused") {
      res.setHeader("WWW-Authenticate", admission.challenge ?? options.challenge ?? "Bearer realm=\"chatkazi-mcp\"")
      return rpcError(res, 401, -32001, `Unauthorized: ${admission.reason}.`)
    }
    const account = Account.fromKey(admission.apiKey)
    facts.account = account.id
    const body = await readJson(req, res)
    if (body._tag === "Refused") return rpcError(res, body.status, body.code, body.message)
    describeRequest(facts, body.value)

    const building = options.runtimeFor(admission.apiKey, account)
    // Listened for before anything is awaited: a client that leaves while its runtime is being built
    // must not have its call run afterwards, unobserved.
    let gone = false
    let closeServer = () => {}
    res.once("close", () => {
      gone = true
      closeServer()
      void building.then((caller) => caller.release(), () => undefined)
    })
    const caller = await building
    if (gone) return
    const server = makeMcpServer({
      name: options.name,
      version: options.version,
      instructions: options.instructions,
      dispatch: options.dispatch,
      runtime: caller.runtime,
      calls: options.calls,
      notice: options.notice,
      resources: () => options.resources?.(caller.runtime) ?? [],
      ...(options.onError ? { onError: options.onError } : {})
    })
    // No session id generator: stateless, no `Mcp-Session-Id`.
    const transport = new StreamableHTTPServerTransport({})
    // A client that goes away cancels its calls: closing the server aborts their signals.
    closeServer = () => {
      // Closing, the SDK makes a "Connection closed" error for any request to the client still open
      // (usually none), every time; its stack trace alone cost about 40 µs.
      const stackTraceLimit = Error.stackTraceLimit
      Error.stackTraceLimit = 0
      try {
        void transport.close()
        void server.close()
      } finally {
        Error.stackTraceLimit = stackTraceLimit
      }
    }
    await server.connect(transport)
    await transport.handleRequest(req, res, body.value)
  }
}

type Body =
  | { readonly _tag: "Read"; readonly value: unknown }
  | { readonly _tag: "Refused"; readonly status: number; readonly code: number; readonly message: string }

/**
 * The request's JSON, refused as JSON-RPC errors as express.json refuses it: 413, 400 with -32700 for
 * JSON that does not parse, other 4xx as they are. A body of another content type is left unread
 * (undefined) for the SDK to refuse. The usual body (see `isPlainJson`) is read here; express.json's
 * content type, charset and decoder machinery cost about 70 µs of CPU a request. Any other body
 * (compressed, chunked, another charset, too large) goes through express.json itself.
 */
const jsonBody = (parser: (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void) => {
  const throughParser = (req: IncomingMessage, res: ServerResponse): Promise<Body> =>
    new Promise((resolve, reject) =>
      parser(req, res, (err) => {
        if (err === undefined) return resolve({ _tag: "Read", value: (req as { body?: unknown }).body })
        const type = (err as { type?: unknown } | null)?.type
        if (type === "entity.too.large") {
          return resolve(refusedBody(413, -32000, `Request body too large: at most ${MAX_BODY_BYTES} bytes.`))
        }
        if (type === "entity.parse.failed") return resolve(PARSE_ERROR)
        const status = (err as { status?: unknown } | null)?.status
        if (typeof status === "number" && status >= 400 && status < 500) return resolve(refusedBody(status, -32000, "Bad request"))
        reject(err)
      })
    )
  return (req: IncomingMessage, res: ServerResponse): Promise<Body> => isPlainJson(req) ? readPlainJson(req) : throughParser(req, res)
}

/** JSON in UTF-8, not compressed, of a length given and within the limit: what MCP clients send. */
const isPlainJson = (req: IncomingMessage): boolean => {
  const { "content-encoding": encoding, "content-length": length, "content-type": type } = req.headers
  if (type === undefined || !PLAIN_JSON_TYPES.has(type.toLowerCase())) return false
  if (encoding !== undefined && encoding.toLowerCase() !== "identity") return false
  return length !== undefined && /^\d{1,8}$/.test(length) && Number(length) <= MAX_BODY_BYTES &&
    req.headers["transfer-encoding"] === undefined
}

const PLAIN_JSON_TYPES = new Set(["application/json", "application/json; charset=utf-8"])

const readPlainJson = (req: IncomingMessage): Promise<Body> =>
  new Promise((resolve) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.once("end", () => resolve(parseJson(Buffer.concat(chunks).toString("utf8"))))
    // The client left before the whole body came (express.json answers that with 400 too).
    const cut = () => resolve(refusedBody(400, -32000, "Bad request"))
    req.once("error", cut)
    req.once("close", () => req.complete || cut())
  })

/** As express.json parses: a byte order mark dropped, an empty body is `{}`, and only an object or array is accepted. */
const parseJson = (text: string): Body => {
  const json = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  if (json.length === 0) return { _tag: "Read", value: {} }
  if (!/^[\x20\x09\x0a\x0d]*[{[]/.test(json)) return PARSE_ERROR
  try {
    return { _tag: "Read", value: JSON.parse(json) }
  } catch {
    return PARSE_ERROR
  }
}

const refusedBody = (status: number, code: number, message: string): Body => ({ _tag: "Refused", status, code, message })

const PARSE_ERROR = refusedBody(400, -32700, "Parse error: Invalid JSON")

/**
 * On a loopback bind, only these `Host` names (any port): a page on another name that resolves to
 * 127.0.0.1 (DNS rebinding) is refused. The SDK's `hostHeaderValidation`, without express.
 */
const hostGuard = (allowed: ReadonlyArray<string>) => (req: IncomingMessage, res: ServerResponse): boolean => {
  const refusal = hostRefusal(allowed, req.headers.host)
  if (refusal !== undefined) rpcError(res, 403, -32000, refusal)
  return refusal === undefined
}

const hostRefusal = (allowed: ReadonlyArray<string>, host: string | undefined): string | undefined => {
  if (!host) return "Missing Host header"
  if (!URL.canParse(`http://${host}`)) return `Invalid Host header: ${host}`
  const hostname = new URL(`http://${host}`).hostname
  return allowed.includes(hostname) ? undefined : `Invalid Host: ${hostname}`
}

/**
 * An `Origin` (sent by browsers) must be one of `allowed`; requests without one pass. On a loopback
 * bind the server's own origin passes too: its `Host` was already checked to be loopback, so no
 * rebinding page can claim it (the MCP conformance suite's DNS-rebinding scenario expects this).
 */
const originCheck = (allowed: ReadonlyArray<string>, loopback: boolean) => (req: IncomingMessage): boolean => {
  const origin = req.headers.origin
  return origin === undefined || allowed.includes(normalizeOrigin(origin)) ||
    (loopback && isOwnOrigin(origin, req.headers.host))
}

const normalizeOrigin = (origin: string): string => URL.canParse(origin) ? new URL(origin).origin : origin.trim()

const isOwnOrigin = (origin: string, host: string | undefined): boolean =>
  host !== undefined && URL.canParse(origin) && URL.canParse(`http://${host}`) &&
  new URL(origin).origin === new URL(`http://${host}`).origin

/** Which JSON-RPC method (and tool) a body carries, for the request log. */
const describeRequest = (into: RequestFacts, body: unknown) => {
  const messages = Array.isArray(body) ? body : [body]
  const methods = messages.flatMap((m) => typeof m?.method === "string" ? [m.method.slice(0, 64)] : [])
  if (methods.length > 0) into.method = methods.join(",")
  const tools = messages.flatMap((m) =>
    m?.method === "tools/call" && typeof m.params?.name === "string" ? [m.params.name.slice(0, 64)] : []
  )
  if (tools.length > 0) into.tool = tools.join(",")
}

/**
 * The path without its query, and without a webhook's hook id: that id lets anyone post into an inbox.
 * Matched case-insensitively, as express routes it.
 */
const loggedPath = (url: string): string => {
  const path = url.split("?")[0]!
  return (path.toLowerCase().startsWith(WEBHOOK_PATH) ? `${WEBHOOK_PATH}<hookId>` : path).slice(0, 64)
}

/**
 * One JSON line per request once it is answered: never a key or token, only a prefix of the account
 * hash. Returns what the `/mcp` handler fills in for it. A route may replace the logged path through
 * express's `originalUrl` (the webhook's does).
 */
const requestLog = (log: (line: string) => void, req: IncomingMessage, res: ServerResponse): RequestFacts => {
  const facts: RequestFacts = {}
  const started = performance.now()
  res.once("close", () => {
    const path = loggedPath((req as { originalUrl?: string }).originalUrl ?? req.url ?? "/")
    if (path === "/healthz" && res.statusCode === 200) return
    const { account, method, tool } = facts
    log(JSON.stringify({
      time: new Date().toISOString(),
      http: `${req.method} ${path}`,
      method: method ?? null,
      tool: tool ?? null,
      status: res.statusCode,
      ms: Math.round(performance.now() - started),
      account: account === undefined ? null : Account.logId(account),
      ...(res.writableFinished ? {} : { aborted: true })
    }))
  })
  return facts
}

export interface HttpOptions<S, R> {
  readonly name: string
  readonly version: string
  readonly tools: ReadonlyArray<AnyTool>
  readonly instructions?: string
  readonly notice?: string
  readonly host: string
  /** `--port`; when absent, `PORT`, else 8080. 0 picks a free port (printed in the listening line). */
  readonly port: number | undefined
  /** Built once: what every caller shares, the state store included. */
  readonly shared: Layer.Layer<S | StateStore, InvalidConfig>
  /**
   * A caller's services, made from the shared ones: a plain Context, not a Layer, since building a
   * Layer per request (each bringing its own key) cost about 1 ms of CPU and these need no release.
   */
  readonly forCaller: (apiKey: Redacted.Redacted<string>, shared: Context.Context<S | StateStore>) => Context.Context<R>
  /** How long calls in flight at SIGTERM/SIGINT may take to finish. */
  readonly shutdownGraceMs?: number
  readonly log?: (line: string) => void
  /** What the app serves beyond `/mcp` and `/healthz`, built once on the shared services. */
  readonly extend?: (
    shared: Runtime.Runtime<S | StateStore>
  ) => Effect.Effect<HttpExtension<S | StateStore | R>, InvalidConfig>
}

/** Listens until interrupted (SIGINT/SIGTERM through `runMain`), then stops accepting and drains. */
export const serveHttp = <S, R>(options: HttpOptions<S, R>): Effect.Effect<void, InvalidConfig | ListenFailed> =>
  Effect.scoped(
    Effect.gen(function*() {
      const port = options.port ?? (yield* portFromEnv)
      const access = yield* readHttpAccess(options.host)
      const trustProxy = yield* readTrustProxy(options.host)
      const allowedOrigins = yield* readAllowedOrigins
      const shared = yield* Layer.toRuntime(options.shared)
      const store = Context.get(shared.context, StateStore)
      const readOnly = Option.exists(Context.getOption(shared.context as Context.Context<unknown>, SafetyConfig), (s) => s.readOnly)
      const dispatch = makeDispatch({ tools: options.tools, readOnly, notice: options.notice })
      const calls = makeCalls()
      const runFork = Runtime.runFork(shared)
      const extension = options.extend === undefined ? {} : yield* options.extend(shared)

      const buildCaller = (apiKey: Redacted.Redacted<string>): CallerRuntime<S | StateStore | R> => ({
        runtime: Runtime.make({
          context: Context.merge(shared.context, options.forCaller(apiKey, shared.context)),
          runtimeFlags: shared.runtimeFlags,
          fiberRefs: shared.fiberRefs
        }),
        release: () => {}
      })
      // With a shared key there is one caller: build its services once. With callers' own keys, each
      // account's are kept for its next requests, as the shared key's are.
      const sharedCaller = access._tag === "SharedKey" ? buildCaller(access.apiKey) : undefined
      const callers = recentCallers<CallerRuntime<S | StateStore | R>>(MAX_KEPT_CALLERS)
      const runtimeFor = (apiKey: Redacted.Redacted<string>, account: AccountInfo) =>
        Promise.resolve(sharedCaller ?? callers.get(account.id, () => buildCaller(apiKey)))

      let closing = false
      const app = makeHttpApp({
        name: options.name,
        version: options.version,
        instructions: options.instructions,
        notice: options.notice,
        dispatch,
        calls,
        host: options.host,
        access,
        trustProxy,
        allowedOrigins,
        runtimeFor,
        health: () =>
          Runtime.runPromise(shared)(
            // A load balancer's probe must get an answer even when the store hangs.
            Effect.timeoutTo(store.ping, { duration: 2_000, onSuccess: (up) => up, onTimeout: () => false })
          ).then((reachable) => ({
            ok: reachable,
            stateStore: { kind: store.description, reachable }
          })),
        isClosing: () => closing,
        log: options.log ?? ((line) => void process.stderr.write(`${line}\n`)),
        onError: (error) => runFork(Effect.logWarning("MCP HTTP transport error", error.message)),
        ...extension
      })

      const server = yield* Effect.acquireRelease(
        listen(app, port, options.host),
        (server) =>
          Effect.gen(function*() {
            closing = true
            server.close()
            yield* calls.drain(options.shutdownGraceMs ?? 10_000)
            // Answers written, keep-alive sockets would hold the process: give them a moment, then cut.
            yield* Effect.async<void>((resume) => {
              const timer = setTimeout(() => resume(Effect.void), 1_000)
              server.once("close", () => {
                clearTimeout(timer)
                resume(Effect.void)
              })
              server.closeIdleConnections()
            })
            server.closeAllConnections()
          })
      )
      const address = server.address() as AddressInfo
      const url = `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}/mcp`
      yield* Effect.logInfo(
        `Listening on ${url}; auth: ${describeAccess(access)}; state store: ${store.description}` +
          (readOnly ? "; read-only" : "")
      )
      return yield* Effect.never
    })
  )

/**
 * How many accounts' services bring-your-own-key mode keeps. Building them (a ChatKazi client with the
 * key, the media probe, a runtime) cost about 90 µs of CPU per request; they hold no state of a
 * request, so one account's requests share them, as all requests share the shared key's.
 */
const MAX_KEPT_CALLERS = 1_000

/** The values of the `limit` most recently used keys; the least recently used goes first. */
const recentCallers = <A>(limit: number) => {
  const kept = new Map<string, A>()
  return {
    get: (key: string, make: () => A): A => {
      const found = kept.get(key)
      // Re-inserted on every use: a Map iterates in insertion order, so its first key is the stalest.
      if (found !== undefined) kept.delete(key)
      const value = found ?? make()
      kept.set(key, value)
      if (kept.size > limit) kept.delete(kept.keys().next().value!)
      return value
    }
  }
}

export class ListenFailed extends Data.TaggedError("ListenFailed")<{ readonly message: string }> {}

const listen = (app: RequestListener, port: number, host: string): Effect.Effect<NodeServer, ListenFailed> =>
  Effect.async<NodeServer, ListenFailed>((resume) => {
    const server = createServer(app)
    // Long calls stream for minutes; the defaults would cut a slow upload but not a stream.
    server.requestTimeout = 60_000
    server.once("error", (error) => resume(Effect.fail(new ListenFailed({ message: `Cannot listen on ${host}:${port}: ${error.message}` }))))
    server.listen(port, host, () => resume(Effect.succeed(server)))
  })

const portFromEnv = setting("PORT", Config.string("PORT").pipe(Config.withDefault(""))).pipe(
  Effect.flatMap((raw) => {
    if (raw.trim() === "") return Effect.succeed(DEFAULT_HTTP_PORT)
    const n = Number(raw)
    return Number.isInteger(n) && n >= 0 && n <= 65_535
      ? Effect.succeed(n)
      : Effect.fail(new InvalidConfig({ setting: "PORT", problem: `expected a port number from 0 to 65535, got "${raw}"` }))
  })
)

const readAllowedOrigins = setting(
  "CHATKAZI_ALLOWED_ORIGINS",
  Config.string("CHATKAZI_ALLOWED_ORIGINS").pipe(Config.withDefault(""))
).pipe(
  Effect.flatMap((raw) =>
    Effect.forEach(raw.split(",").map((o) => o.trim()).filter((o) => o !== ""), (origin) =>
      URL.canParse(origin) && /^https?:$/.test(new URL(origin).protocol)
        ? Effect.succeed(new URL(origin).origin)
        : Effect.fail(
          new InvalidConfig({
            setting: "CHATKAZI_ALLOWED_ORIGINS",
            problem: `"${origin}" is not an origin; list them like https://app.example.com,http://localhost:5173`
          })
        ))
  )
)
