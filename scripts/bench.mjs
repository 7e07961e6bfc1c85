/**
 * `npm run bench`: how this server compares with the least a stdio bridge can do.
 *
 * A local stand-in for the ChatKazi gateway answers on 127.0.0.1 (in a worker thread, so serving
 * it does not share the driver's event loop). Three servers are driven over their stdio with raw
 * JSON-RPC lines, in one run and interleaved, so a busy machine slows them alike:
 *
 * - bundle:    the package's `bin` (the esbuild bundle), what `npx -y chatkazi-mcp` runs;
 * - unbundled: the tsc build, `node dist/main.js`;
 * - floor:     a hand-written bridge below (parse a line, one fetch, write a line);
 * - no-cache:  the bundle with its code cache turned off (NODE_DISABLE_COMPILE_CACHE=1).
 *
 * Run it on another Node with that node: `test/runtimes/node_modules/node22/bin/node scripts/bench.mjs`.
 *
 * Figures: cold start (spawn to the `initialize` answer), per-call latency of sequential
 * `get_session_status` calls, a batch of 100 concurrent `send_whatsapp_text` calls, and resident
 * memory (VmRSS) of fresh servers after each 1,000 of 10,000 calls. Each is also given as a ratio
 * to the floor's. Then the bundle over HTTP (`http --port 0`, each request bringing its key) beside
 * the bundle over stdio and a bare HTTP floor (the SDK's stateless Streamable HTTP transport and one
 * fetch per call): requests per second, p50/p99 and the server's CPU per request of
 * `get_session_status` with 1 and 32 clients calling at once (entries given with --also are served
 * over HTTP too). It prints figures and checks nothing: it is not a test.
 *
 * The server's own CPU time (from /proc) up to its initialize answer and per sequential call is
 * shown too: on a busy machine it says more about the overhead than elapsed time does.
 *
 * Options: --quick (fewer rounds, for trying it out), --cpu-prof (profile the bundle during the
 * per-call phase; the .cpuprofile lands in ./prof), --also NAME=FILE (one more entry to run
 * alongside, e.g. a bundle built before a change, for before/after figures from the same run).
 */
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:http"
import { availableParallelism, loadavg, tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { isMainThread, parentPort, Worker } from "node:worker_threads"

const quick = process.argv.includes("--quick")
const cpuProf = process.argv.includes("--cpu-prof")
const also = process.argv.flatMap((arg, i) => process.argv[i - 1] === "--also" ? [arg.split("=")] : [])

const SETTINGS = {
  coldStarts: quick ? 5 : 15,
  sequentialCalls: quick ? 200 : 1000,
  warmupCalls: quick ? 50 : 200,
  batches: quick ? 3 : 9,
  batchSize: 100,
  memoryCalls: quick ? 2000 : 10_000,
  memoryChunk: 1000,
  memoryConcurrency: 10,
  transportCalls: quick ? 1000 : 4000,
  transportClients: [1, 32]
}

// ---------------------------------------------------------------------------------------------
// The gateway stand-in: instant, fixed answers, shaped like ChatKazi's.

const runGateway = () => {
  let sent = 0
  const server = createServer((request, response) => {
    const chunks = []
    request.on("data", (chunk) => chunks.push(chunk))
    request.on("end", () => {
      const url = new URL(request.url, "http://127.0.0.1")
      let body
      if (request.headers["x-api-key"] !== "bench-key") {
        response.statusCode = 401
        body = { success: false, message: "bad key" }
      } else if (request.method === "GET" && url.pathname === "/session/status") {
        body = { success: true, data: { sessionId: url.searchParams.get("sessionId"), status: "connected" } }
      } else if (request.method === "POST" && url.pathname === "/messages/text") {
        JSON.parse(Buffer.concat(chunks).toString("utf8"))
        body = { success: true, data: { messageId: `BENCH${++sent}`, status: "sent" } }
      } else {
        response.statusCode = 404
        body = { success: false, message: "not found" }
      }
      response.setHeader("content-type", "application/json")
      response.end(JSON.stringify(body))
    })
  })
  server.listen(0, "127.0.0.1", () => parentPort.postMessage(server.address().port))
}

// ---------------------------------------------------------------------------------------------
// The floor: the least a stdio bridge to the gateway can do. Written to a file and run like the
// others, so its start-up is measured the same way.

const FLOOR_SOURCE = `
const base = process.env.CHATKAZI_BASE_URL
const headers = { "x-api-key": process.env.CHATKAZI_API_KEY, accept: "application/json" }
const write = (message) => process.stdout.write(JSON.stringify({ jsonrpc: "2.0", ...message }) + "\\n")
const tools = [
  { name: "get_session_status", inputSchema: { type: "object", properties: { sessionId: { type: "string" } } } },
  { name: "send_whatsapp_text", inputSchema: { type: "object", properties: { to: { type: "string" }, text: { type: "string" } } } }
]
const call = async (name, args) => {
  const response = name === "send_whatsapp_text"
    ? await fetch(base + "/messages/text", {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify({ sessionId: args.sessionId ?? "default", to: args.to, text: args.text })
    })
    : await fetch(base + "/session/status?sessionId=" + encodeURIComponent(args.sessionId), { headers })
  return { content: [{ type: "text", text: await response.text() }], isError: !response.ok }
}
const handle = async (message) => {
  if (message.id === undefined) return
  switch (message.method) {
    case "initialize":
      return write({ id: message.id, result: { protocolVersion: message.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: "floor", version: "0" } } })
    case "tools/list":
      return write({ id: message.id, result: { tools } })
    case "tools/call":
      try {
        return write({ id: message.id, result: await call(message.params.name, message.params.arguments ?? {}) })
      } catch (error) {
        return write({ id: message.id, result: { content: [{ type: "text", text: String(error) }], isError: true } })
      }
    default:
      return write({ id: message.id, error: { code: -32601, message: "Method not found" } })
  }
}
let buffer = ""
process.stdin.setEncoding("utf8")
process.stdin.on("data", (chunk) => {
  buffer += chunk
  for (let end; (end = buffer.indexOf("\\n")) >= 0;) {
    const line = buffer.slice(0, end)
    buffer = buffer.slice(end + 1)
    if (line.trim() !== "") handle(JSON.parse(line))
  }
})
process.stdin.on("end", () => process.exit(0))
`

/**
 * The HTTP floor: the least a stateless Streamable HTTP server can do with the same SDK. Per request:
 * a new low-level Server and stateless transport (as the SDK's own stateless example does), the key
 * from the Authorization header, one fetch. No Ajv: the floor checks no schema.
 */
const httpFloorSource = (sdk) => `
import { createServer } from "node:http"
import { Server } from ${JSON.stringify(sdk("server/index.js"))}
import { StreamableHTTPServerTransport } from ${JSON.stringify(sdk("server/streamableHttp.js"))}
import { CallToolRequestSchema, ListToolsRequestSchema } from ${JSON.stringify(sdk("types.js"))}
const base = process.env.CHATKAZI_BASE_URL
const tools = [{ name: "get_session_status", inputSchema: { type: "object", properties: { sessionId: { type: "string" } } } }]
const validator = { getValidator: () => (input) => ({ valid: true, data: input, errorMessage: undefined }) }
const handle = async (req, res) => {
  const chunks = []
  for await (const chunk of req) chunks.push(chunk)
  const body = JSON.parse(Buffer.concat(chunks).toString("utf8"))
  const key = (req.headers.authorization ?? "").replace(/^Bearer /, "")
  const server = new Server({ name: "floor", version: "0" }, { capabilities: { tools: {} }, jsonSchemaValidator: validator })
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }))
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const response = await fetch(base + "/session/status?sessionId=" + encodeURIComponent(request.params.arguments.sessionId), {
      headers: { "x-api-key": key, accept: "application/json" }
    })
    return { content: [{ type: "text", text: await response.text() }], isError: !response.ok }
  })
  const transport = new StreamableHTTPServerTransport({})
  res.on("close", () => { void transport.close(); void server.close() })
  await server.connect(transport)
  await transport.handleRequest(req, res, body)
}
const http = createServer((req, res) => void handle(req, res).catch(() => { res.statusCode = 500; res.end() }))
http.listen(Number(process.argv[4] ?? 0), "127.0.0.1", () => console.error("Listening on http://127.0.0.1:" + http.address().port + "/mcp"))
process.on("SIGTERM", () => http.close(() => process.exit(0)))
`

// ---------------------------------------------------------------------------------------------
// Driving a server over its stdio.

class StdioServer {
  constructor(variant, env) {
    this.variant = variant
    this.pending = new Map()
    this.nextId = 1
    this.stderr = ""
    this.startedAt = performance.now()
    this.child = spawn(process.execPath, [...variant.nodeArgs, variant.entry], {
      env: { ...env, ...variant.env },
      stdio: ["pipe", "pipe", "pipe"]
    })
    this.exited = new Promise((resolve) => this.child.once("exit", resolve))
    let buffer = ""
    this.child.stdout.setEncoding("utf8")
    this.child.stdout.on("data", (chunk) => {
      buffer += chunk
      for (let end; (end = buffer.indexOf("\n")) >= 0;) {
        const line = buffer.slice(0, end)
        buffer = buffer.slice(end + 1)
        if (line.trim() === "") continue
        const message = JSON.parse(line)
        const resolve = this.pending.get(message.id)
        if (resolve !== undefined) {
          this.pending.delete(message.id)
          resolve(message)
        }
      }
    })
    this.child.stderr.setEncoding("utf8")
    this.child.stderr.on("data", (chunk) => {
      this.stderr = (this.stderr + chunk).slice(-4000)
    })
    this.child.once("exit", (code) => {
      for (const resolve of this.pending.values()) resolve({ error: { message: `exited with ${code}: ${this.stderr}` } })
      this.pending.clear()
    })
  }

  request(method, params) {
    const id = this.nextId++
    return new Promise((resolve) => {
      this.pending.set(id, resolve)
      this.child.stdin.write(JSON.stringify({ jsonrpc: "2.0", id, method, params }) + "\n")
    })
  }

  notify(method, params) {
    this.child.stdin.write(JSON.stringify({ jsonrpc: "2.0", method, ...(params ? { params } : {}) }) + "\n")
  }

  async initialize() {
    const answer = await this.request("initialize", {
      protocolVersion: "2025-06-18",
      capabilities: {},
      clientInfo: { name: "chatkazi-bench", version: "1" }
    })
    if (answer.error) throw new Error(`${this.variant.name}: initialize failed: ${answer.error.message}`)
    this.notify("notifications/initialized")
    return answer
  }

  async callTool(name, args) {
    const answer = await this.request("tools/call", { name, arguments: args })
    if (answer.error || answer.result.isError) {
      throw new Error(`${this.variant.name}: ${name} failed: ${JSON.stringify(answer.error ?? answer.result.content)}`)
    }
    return answer.result
  }

  cpuMs() {
    return cpuMsOf(this.child.pid)
  }

  /** Resident set size in MiB, as the kernel counts it for the child. */
  rss() {
    const kb = readFileSync(`/proc/${this.child.pid}/status`, "utf8").match(/^VmRSS:\s+(\d+)/m)
    return Number(kb[1]) / 1024
  }

  async close() {
    this.child.stdin.end()
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000)
    await this.exited
    clearTimeout(timer)
  }
}

// ---------------------------------------------------------------------------------------------

/** USER_HZ: 100 on every Linux that Node supports. */
const CLOCK_TICKS = 100

/** User and system CPU time a process has used, in ms. */
const cpuMsOf = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")
  return (Number(fields[11]) + Number(fields[12])) * (1000 / CLOCK_TICKS)
}

const median = (xs) => percentile(xs, 0.5)
const percentile = (xs, p) => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]
}
/** The variants in a different order each round, so none is always first or last. */
const rotated = (variants, round) => variants.map((_, i) => variants[(i + round) % variants.length])
const progress = (text) => process.stderr.write(`  ${text}\n`)

const statusArgs = { sessionId: "bench" }
const sendArgs = (text) => ({ to: "254712345678", text })

const main = async () => {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"))
  const scratch = mkdtempSync(join(tmpdir(), "chatkazi-bench-"))
  const floorEntry = join(scratch, "floor.mjs")
  writeFileSync(floorEntry, FLOOR_SOURCE)
  const httpFloorEntry = join(scratch, "http-floor.mjs")
  const sdkServer = import.meta.resolve("@modelcontextprotocol/sdk/server/index.js")
  writeFileSync(httpFloorEntry, httpFloorSource((path) => new URL(`../${path}`, sdkServer).href))

  const gateway = new Worker(fileURLToPath(import.meta.url))
  const port = await new Promise((resolve) => gateway.once("message", resolve))
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    CHATKAZI_API_KEY: "bench-key",
    CHATKAZI_BASE_URL: `http://127.0.0.1:${port}`,
    // The guards lifted through their settings, as a user who raised them would run it, and the
    // bound on gateway requests in flight raised from 8 to 100, so a batch of 100 sends is not queued.
    CHATKAZI_MAX_SENDS_PER_MINUTE: "100000",
    CHATKAZI_DEDUPE_WINDOW_SECONDS: "0",
    CHATKAZI_MAX_CONCURRENCY: "100"
  }

  const variants = [
    { name: "floor", entry: floorEntry, nodeArgs: [] },
    { name: "bundle", entry: join(root, pkg.bin["chatkazi-mcp"]), nodeArgs: [] },
    { name: "unbundled", entry: join(root, "dist/main.js"), nodeArgs: [] },
    // The bin runs the bundle through a V8 code cache: the same bundle without it.
    { name: "no-cache", entry: join(root, pkg.bin["chatkazi-mcp"]), nodeArgs: [], env: { NODE_DISABLE_COMPILE_CACHE: "1" } },
    ...also.map(([name, entry]) => ({ name, entry: resolve(entry), nodeArgs: [] }))
  ]
  const results = Object.fromEntries(variants.map((v) => [v.name, { cold: [], coldCpu: [], latency: [], cpu: 0, batch: [], rss: [] }]))

  console.log(
    `chatkazi-mcp bench: node ${process.version}, ${availableParallelism()} cores, load average ${
      loadavg().map((l) => l.toFixed(2)).join(" ")
    } at start${quick ? ", --quick" : ""}`
  )

  try {
    // Cold start: spawn to the initialize answer, a fresh process each time.
    progress(`cold start: ${SETTINGS.coldStarts} rounds`)
    for (let round = 0; round < SETTINGS.coldStarts + 1; round++) {
      for (const variant of rotated(variants, round)) {
        const server = new StdioServer(variant, env)
        await server.initialize()
        const elapsed = performance.now() - server.startedAt
        if (round > 0) { // round 0 warms the disk cache
          results[variant.name].cold.push(elapsed)
          results[variant.name].coldCpu.push(server.cpuMs())
        }
        await server.close()
      }
    }

    // Per-call latency and concurrent batches on one long-lived server each.
    const servers = variants.map((variant) =>
      new StdioServer(
        cpuProf && variant.name === "bundle"
          ? { ...variant, nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${join(root, "prof")}`] }
          : variant,
        env
      )
    )
    await Promise.all(servers.map((server) => server.initialize()))
    progress(`per-call latency: ${SETTINGS.sequentialCalls} sequential get_session_status calls each`)
    for (const server of servers) {
      for (let i = 0; i < SETTINGS.warmupCalls; i++) await server.callTool("get_session_status", statusArgs)
    }
    const slices = 10
    for (let slice = 0; slice < slices; slice++) {
      for (const server of rotated(servers, slice)) {
        const cpuBefore = server.cpuMs()
        for (let i = 0; i < SETTINGS.sequentialCalls / slices; i++) {
          const start = performance.now()
          await server.callTool("get_session_status", statusArgs)
          results[server.variant.name].latency.push(performance.now() - start)
        }
        results[server.variant.name].cpu += server.cpuMs() - cpuBefore
      }
    }

    progress(`concurrency: ${SETTINGS.batches} batches of ${SETTINGS.batchSize} concurrent send_whatsapp_text calls each`)
    for (let batch = 0; batch < SETTINGS.batches + 1; batch++) {
      for (const server of rotated(servers, batch)) {
        const start = performance.now()
        await Promise.all(
          Array.from(
            { length: SETTINGS.batchSize },
            (_, i) => server.callTool("send_whatsapp_text", sendArgs(`bench ${server.variant.name} ${batch}/${i}`))
          )
        )
        if (batch > 0) results[server.variant.name].batch.push(performance.now() - start) // batch 0 warms up
      }
    }
    await Promise.all(servers.map((server) => server.close()))

    // Memory: fresh servers, resident size after each 1,000 calls (half reads, half sends).
    progress(`memory: ${SETTINGS.memoryCalls} calls each, ${SETTINGS.memoryConcurrency} at a time`)
    const fresh = variants.map((variant) => new StdioServer(variant, env))
    await Promise.all(fresh.map((server) => server.initialize()))
    for (let chunk = 0; chunk < SETTINGS.memoryCalls / SETTINGS.memoryChunk; chunk++) {
      for (const server of rotated(fresh, chunk)) {
        for (let done = 0; done < SETTINGS.memoryChunk; done += SETTINGS.memoryConcurrency) {
          await Promise.all(Array.from({ length: SETTINGS.memoryConcurrency }, (_, i) => {
            const n = chunk * SETTINGS.memoryChunk + done + i
            return n % 2 === 0
              ? server.callTool("get_session_status", statusArgs)
              : server.callTool("send_whatsapp_text", sendArgs(`memory ${n}`))
          }))
        }
        results[server.variant.name].rss.push(server.rss())
      }
    }
    await Promise.all(fresh.map((server) => server.close()))

    progress(`transports: ${SETTINGS.transportCalls} get_session_status calls over stdio and HTTP, by 1 and 32 clients`)
    const bundle = variants.find((v) => v.name === "bundle")
    const { CHATKAZI_API_KEY: _, ...ownKeyEnv } = env
    const http = await HttpServer.start(bundle.entry, ownKeyEnv, "bench-key")
    const httpFloor = await HttpServer.start(httpFloorEntry, ownKeyEnv, "bench-key")
    // Entries given with --also are served over HTTP too, for before/after figures from one run.
    const httpAlso = await Promise.all(also.map(async ([name, entry]) => [`http, ${name}`, await HttpServer.start(resolve(entry), ownKeyEnv, "bench-key")]))
    const stdio = new StdioServer(bundle, env)
    await stdio.initialize()
    const byTransport = { stdio, http, "http floor": httpFloor, ...Object.fromEntries(httpAlso) }
    for (const server of Object.values(byTransport)) await throughput(server, 1, SETTINGS.warmupCalls) // warm-up
    for (const clients of SETTINGS.transportClients) {
      for (const [name, server] of rotated(Object.entries(byTransport), clients)) {
        transports.push({ name, clients, ...(await throughput(server, clients, SETTINGS.transportCalls)) })
      }
    }
    await Promise.all(Object.values(byTransport).map((server) => server.close()))
  } finally {
    await gateway.terminate()
    rmSync(scratch, { recursive: true, force: true })
  }

  report(variants, results)
  reportTransports(transports)
}

const transports = []

/**
 * `total` get_session_status calls by `clients` callers, each waiting for its answer before the
 * next: req/s, latency, and the server's CPU per request.
 */
const throughput = async (server, clients, total) => {
  const latencies = []
  let next = 0
  const cpuBefore = server.cpuMs()
  const started = performance.now()
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next++ < total) {
      const start = performance.now()
      await server.callTool("get_session_status", statusArgs)
      latencies.push(performance.now() - start)
    }
  }))
  const seconds = (performance.now() - started) / 1000
  return {
    perSecond: latencies.length / seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    cpu: (server.cpuMs() - cpuBefore) / latencies.length
  }
}

const reportTransports = (rows) => {
  console.log(`\nget_session_status over the bundle's transports (${SETTINGS.transportCalls} calls per row):`)
  console.log("| transport | clients | req/s | p50 | p99 | server CPU / request |")
  console.log("|---|--:|--:|--:|--:|--:|")
  for (const row of [...rows].sort((a, b) => a.clients - b.clients)) {
    console.log(
      `| ${row.name} | ${row.clients} | ${row.perSecond.toFixed(0)} | ${row.p50.toFixed(2)} ms | ${row.p99.toFixed(2)} ms | ${
        row.cpu.toFixed(2)
      } ms |`
    )
  }
  const busiest = Math.max(...rows.map((row) => row.clients))
  const http = rows.find((row) => row.name === "http" && row.clients === busiest)
  const floor = rows.find((row) => row.name === "http floor" && row.clients === busiest)
  if (http && floor) {
    const ratio = http.perSecond / floor.perSecond
    console.log(`  ${ratio >= 0.8 ? "met   " : "missed"}  http req/s at ${busiest} clients ≥ 0.8× http floor   ${ratio.toFixed(2)}×`)
  }
}

/** The bundle in `http` mode on a free port; each request is a stand-alone POST with the caller's key. */
class HttpServer {
  static async start(entry, env, key) {
    const child = spawn(process.execPath, [entry, "http", "--port", "0"], { env, stdio: ["ignore", "ignore", "pipe"] })
    let stderr = ""
    const url = await new Promise((resolve, reject) => {
      child.stderr.setEncoding("utf8")
      child.stderr.on("data", (chunk) => {
        stderr = (stderr + chunk).slice(-100_000)
        const found = stderr.match(/Listening on (http:\/\/\S+\/mcp)/)
        if (found) resolve(found[1])
      })
      child.once("exit", (code) => reject(new Error(`http server exited with ${code}: ${stderr}`)))
    })
    // The request log would fill the pipe: keep reading it, keep nothing.
    child.stderr.removeAllListeners("data")
    child.stderr.resume()
    return new HttpServer(child, url, key)
  }

  constructor(child, url, key) {
    this.child = child
    this.url = url
    this.key = key
    this.nextId = 1
    this.exited = new Promise((resolve) => child.once("exit", resolve))
  }

  cpuMs() {
    return cpuMsOf(this.child.pid)
  }

  async callTool(name, args) {
    const response = await fetch(this.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        authorization: `Bearer ${this.key}`
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: this.nextId++, method: "tools/call", params: { name, arguments: args } })
    })
    const text = await response.text()
    const data = text.split("\n").find((line) => line.startsWith("data: "))
    const answer = JSON.parse(data === undefined ? text : data.slice(6))
    if (!response.ok || answer.error || answer.result.isError) throw new Error(`http: ${name} failed: ${text.slice(0, 500)}`)
    return answer.result
  }

  async close() {
    this.child.kill("SIGTERM")
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 15_000)
    await this.exited
    clearTimeout(timer)
  }
}

const report = (variants, results) => {
  const figures = Object.fromEntries(variants.map(({ name }) => {
    const r = results[name]
    const first = r.rss[0]
    const last = r.rss[r.rss.length - 1]
    return [name, {
      cold: median(r.cold),
      coldCpu: median(r.coldCpu),
      p50: percentile(r.latency, 0.5),
      p99: percentile(r.latency, 0.99),
      cpu: r.cpu / r.latency.length,
      batch: median(r.batch),
      rss1k: first,
      rssEnd: last,
      growth: (last - first) / first * 100,
      // Once the heap has grown to its working size: growth over the second half is what a leak shows.
      lateGrowth: (last - r.rss[Math.floor(r.rss.length / 2) - 1]) / r.rss[Math.floor(r.rss.length / 2) - 1] * 100
    }]
  }))
  const rows = [
    ["cold start, median of " + SETTINGS.coldStarts, "cold", "ms", 1],
    ["CPU used by then, median", "coldCpu", "ms", 0],
    ["per call p50 (" + SETTINGS.sequentialCalls + " sequential)", "p50", "ms", 3],
    ["per call p99", "p99", "ms", 3],
    ["server CPU per sequential call", "cpu", "ms", 3],
    [`${SETTINGS.batchSize} concurrent sends, median of ${SETTINGS.batches}`, "batch", "ms", 1],
    ["RSS after 1,000 calls", "rss1k", "MiB", 1],
    [`RSS after ${SETTINGS.memoryCalls.toLocaleString("en")} calls`, "rssEnd", "MiB", 1]
  ]
  const cell = (value, unit, digits, ratio) => `${value.toFixed(digits)} ${unit}` + (ratio === undefined ? "" : ` (${ratio.toFixed(2)}×)`)
  const table = [["", ...variants.map((v) => v.name)]]
  for (const [label, key, unit, digits] of rows) {
    table.push([label, ...variants.map(({ name }) =>
      cell(figures[name][key], unit, digits, name === "floor" ? undefined : figures[name][key] / figures.floor[key])
    )])
  }
  table.push([
    `RSS growth 1,000 → ${SETTINGS.memoryCalls.toLocaleString("en")}`,
    ...variants.map(({ name }) => `${figures[name].growth >= 0 ? "+" : ""}${figures[name].growth.toFixed(1)}%`)
  ])
  const half = SETTINGS.memoryCalls / 2
  table.push([
    `RSS growth ${half.toLocaleString("en")} → ${SETTINGS.memoryCalls.toLocaleString("en")} (leak check)`,
    ...variants.map(({ name }) => `${figures[name].lateGrowth >= 0 ? "+" : ""}${figures[name].lateGrowth.toFixed(1)}%`)
  ])
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)))
  console.log("")
  for (const [i, row] of table.entries()) {
    console.log(`| ${row.map((text, c) => c === 0 ? text.padEnd(widths[c]) : text.padStart(widths[c])).join(" | ")} |`)
    if (i === 0) console.log(`|${widths.map((w, c) => c === 0 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":").join("|")}|`)
  }
  console.log("")
  for (const { name } of variants) {
    console.log(`RSS per 1,000 calls, ${name.padEnd(9)} ${results[name].rss.map((r) => r.toFixed(1)).join(" ")} MiB`)
  }

  const b = figures.bundle
  const f = figures.floor
  const targets = [
    ["cold start ≤ 2.5× floor", b.cold / f.cold, 2.5],
    ["per call p50 ≤ 1.15× floor", b.p50 / f.p50, 1.15],
    ["per call p99 ≤ 1.5× floor", b.p99 / f.p99, 1.5],
    ["100 concurrent ≤ 1.2× floor", b.batch / f.batch, 1.2]
  ]
  console.log("\nTargets for the bundle (ratios to the floor, this run):")
  for (const [label, ratio, limit] of targets) {
    console.log(`  ${ratio <= limit ? "met   " : "missed"}  ${label.padEnd(28)} ${ratio.toFixed(2)}×`)
  }
  console.log(
    `  ${Math.abs(b.growth) <= 10 ? "met   " : "missed"}  ${"RSS after 10k within 10% of 1k".padEnd(28)} ${b.growth >= 0 ? "+" : ""}${
      b.growth.toFixed(1)
    }%`
  )
}

if (isMainThread) {
  await main()
} else {
  runGateway()
}
