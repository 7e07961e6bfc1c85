#!/usr/bin/env node
/**
 * `npm run demo`: a walkthrough of chatkazi-mcp with the official MCP SDK client, against
 * `chatkazi-mcp --sandbox` (a simulated ChatKazi: no account, no phone, nothing sent to WhatsApp).
 * On a fresh clone it installs the dependencies and builds the server first.
 */
import { spawnSync } from "node:child_process"
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"))
const bin = resolve(root, typeof pkg.bin === "string" ? pkg.bin : pkg.bin[pkg.name])
const npm = process.platform === "win32" ? "npm.cmd" : "npm"

const say = (line = "") => console.log(line)
const heading = (n, title) => say(`\n${n}. ${title}`)
const indent = (text, prefix = "   ") => text.split("\n").map((line) => prefix + line).join("\n")

const sh = (args, { quiet = false } = {}) => {
  const result = spawnSync(npm, args, {
    cwd: root,
    stdio: ["ignore", quiet ? "pipe" : "inherit", quiet ? "pipe" : "inherit"],
    shell: process.platform === "win32"
  })
  return result.status === 0
}

/** The newest modification time under `dir`, in ms. */
const newest = (dir) =>
  readdirSync(dir, { withFileTypes: true }).reduce((latest, entry) => {
    const path = join(dir, entry.name)
    return Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }, 0)

// 0. What a fresh clone needs: dependencies, and the built server the package's bin points to.
if (!existsSync(join(root, "node_modules", "@modelcontextprotocol", "sdk", "package.json"))) {
  say("Installing dependencies (first run)...")
  // npm ci installs exactly the lock file; some npm versions refuse a lock file made on another
  // platform, and npm install is the fallback then.
  if (!sh(["ci", "--no-audit", "--no-fund"], { quiet: true }) && !sh(["install", "--no-audit", "--no-fund"])) {
    console.error("Could not install the dependencies.")
    process.exit(1)
  }
}
if (!existsSync(bin) || newest(join(root, "src")) > statSync(bin).mtimeMs) {
  say("Building the server...")
  if (!sh(["run", "build"])) {
    console.error("The build failed.")
    process.exit(1)
  }
}

const { Client } = await import("@modelcontextprotocol/sdk/client/index.js")
const { StdioClientTransport, getDefaultEnvironment } = await import("@modelcontextprotocol/sdk/client/stdio.js")
const { ElicitRequestSchema } = await import("@modelcontextprotocol/sdk/types.js")
const QRCode = (await import("qrcode")).default

const SESSION = "demo"
const RECIPIENT = "254712345678"

const transport = new StdioClientTransport({
  command: process.execPath,
  args: [bin, "--sandbox"],
  env: getDefaultEnvironment(),
  stderr: "pipe"
})
let serverLog = ""
transport.stderr?.on("data", (chunk) => (serverLog += chunk))
// The demo client can show the user a question (MCP elicitation), so the server asks before each
// send; here the "user" approves every one, and the question is printed.
const client = new Client({ name: "chatkazi-mcp-demo", version: pkg.version }, { capabilities: { elicitation: {} } })
client.setRequestHandler(ElicitRequestSchema, async ({ params }) => {
  say(indent(`The server asks the user first:\n${indent(params.message, "  | ")}`))
  say(indent("The demo's user ticks \"Yes, send it\"."))
  return { action: "accept", content: { confirm: true } }
})

let notice
/** The result's text without the sandbox notice (shown once, at the start). */
const textOf = (result) => {
  const text = result.content.filter((c) => c.type === "text").map((c) => c.text).join("\n")
  const [first, ...rest] = text.split("\n")
  if (first.startsWith("[SANDBOX]")) {
    notice ??= first
    return rest.join("\n")
  }
  return text
}

const call = async (name, args, options = {}) => {
  const result = await client.callTool({ name, arguments: args }, undefined, options)
  if (result.isError && !options.expectError) {
    throw new Error(`${name} failed:\n${textOf(result)}`)
  }
  return result
}

const progressPrinter = () => ({
  onprogress: ({ progress, total, message }) =>
    say(`   ... progress ${progress.toFixed(1)}/${total ?? "?"} s: ${message ?? ""}`),
  timeout: 120_000
})

try {
  say(`chatkazi-mcp ${pkg.version} demo: the MCP SDK client drives \`chatkazi-mcp --sandbox\``)
  say(`(${bin} --sandbox)`)
  await client.connect(transport)

  heading(1, "The tools the server offers")
  const { tools } = await client.listTools()
  say(indent(tools.map((tool) => `${tool.name.padEnd(20)} ${tool.title ?? ""}`).join("\n")))

  heading(2, `start_session { sessionId: "${SESSION}" }`)
  const started = textOf(await call("start_session", { sessionId: SESSION }))
  say(indent(`Every result starts with the sandbox notice:\n  ${notice ?? "(none: this is not the sandbox!)"}`))
  say(indent(started))

  heading(3, "wait_for_session until qr_ready (progress notifications as it polls)")
  const ready = await call(
    "wait_for_session",
    { sessionId: SESSION, until: ["qr_ready"], intervalSeconds: 0.5, timeoutSeconds: 30 },
    progressPrinter()
  )
  say(indent(textOf(ready)))

  heading(4, "get_session_qr: the QR the user would scan in WhatsApp > Linked devices")
  const qr = await call("get_session_qr", { sessionId: SESSION })
  const payload = qr.structuredContent?.qr
  if (typeof payload !== "string") throw new Error(`no QR in the result:\n${textOf(qr)}`)
  say(indent(await QRCode.toString(payload, { type: "terminal", small: true }), "   "))
  say(indent(`QR payload: ${payload}`))
  say(indent("(The sandbox's simulated phone scans it by itself a few seconds after it is fetched.)"))

  heading(5, "wait_for_session until connected (progress notifications as it polls)")
  const connected = await call(
    "wait_for_session",
    { sessionId: SESSION, intervalSeconds: 1, timeoutSeconds: 60 },
    progressPrinter()
  )
  say(indent(textOf(connected)))
  if (connected.structuredContent?.state !== "connected") throw new Error("the session did not connect")

  heading(6, `send_whatsapp_text to ${RECIPIENT}, confirmed by the user first`)
  say(indent(textOf(await call("send_whatsapp_text", {
    sessionId: SESSION,
    to: `+${RECIPIENT}`,
    text: "Hello from the chatkazi-mcp sandbox!"
  }))))

  heading(7, `wait_for_message from ${RECIPIENT}: the contact answers a few seconds later`)
  const reply = await call(
    "wait_for_message",
    { from: RECIPIENT, timeoutSeconds: 30 },
    { onprogress: ({ progress, message }) => say(`   ... progress ${progress.toFixed(1)} s: ${message ?? ""}`), timeout: 60_000 }
  )
  say(indent(textOf(reply)))
  if (reply.structuredContent?.received !== true) throw new Error("no reply arrived")

  heading(8, "send_whatsapp_media: a PDF document")
  say(indent(textOf(await call("send_whatsapp_media", {
    sessionId: SESSION,
    to: RECIPIENT,
    url: "https://example.com/files/price-list.pdf",
    type: "document",
    fileName: "price-list.pdf",
    caption: "Our price list"
  }))))

  heading(9, "send_whatsapp_media with an empty file (sandbox rule: the link's path contains \"empty\")")
  const empty = await call("send_whatsapp_media", {
    sessionId: SESSION,
    to: RECIPIENT,
    url: "https://example.com/empty.jpg"
  }, { expectError: true })
  say(indent(`${empty.isError ? "Refused, as it should be" : "Unexpectedly accepted"}: ${textOf(empty)}`))

  heading(10, "sandbox_messages: what the sandbox received")
  say(indent(textOf(await call("sandbox_messages", { sessionId: SESSION }))))

  heading(11, `logout_session { sessionId: "${SESSION}" }`)
  say(indent(textOf(await call("logout_session", { sessionId: SESSION }))))

  await client.close()
  say("\nDemo finished: no real WhatsApp message was sent. To use your ChatKazi account, set CHATKAZI_API_KEY")
  say("in your MCP host config and drop --sandbox; check the settings with `node dist/chatkazi-mcp.mjs check`")
  say("(all commands: `node dist/chatkazi-mcp.mjs --help`).")
} catch (error) {
  console.error(`\nThe demo failed: ${error instanceof Error ? error.message : error}`)
  if (serverLog) console.error(`\nServer log:\n${serverLog}`)
  await client.close().catch(() => {})
  process.exit(1)
}
