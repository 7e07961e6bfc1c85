/**
 * The command line: what the user asked for, parsed from `argv`. Pure and light (no Effect, no
 * sandbox code), so the normal start stays fast; main.ts turns the answer into a program.
 */
import { parseArgs } from "node:util"
import type { SandboxSettings } from "./sandbox/SandboxConfig.js"

export type Command =
  /** The MCP server over stdio, on the real ChatKazi gateway. */
  | { readonly _tag: "Serve" }
  /** The MCP server over stdio, on the in-process simulator. */
  | { readonly _tag: "ServeSandbox"; readonly settings: Partial<SandboxSettings> }
  /** The MCP server over Streamable HTTP, for remote hosts; `port` undefined means `PORT`, else 8080. */
  | { readonly _tag: "ServeHttp"; readonly port: number | undefined; readonly host: string }
  /** Check the settings and the key against ChatKazi once, then exit. */
  | { readonly _tag: "Check" }
  /** The simulator alone, as an HTTP server on 127.0.0.1. */
  | {
    readonly _tag: "SandboxServer"
    readonly port: number
    readonly settings: Partial<SandboxSettings>
    /** Where incoming messages are POSTed, as ChatKazi posts them to the dashboard's webhook URL. */
    readonly webhookUrl?: string
  }
  | { readonly _tag: "Help" }
  | { readonly _tag: "Version" }
  | { readonly _tag: "Invalid"; readonly problem: string }

export const DEFAULT_SANDBOX_PORT = 8787
export const DEFAULT_HTTP_HOST = "127.0.0.1"

const rows = (entries: ReadonlyArray<readonly [string, string]>) => {
  const width = Math.max(...entries.map(([left]) => left.length)) + 3
  return entries.map(([left, right]) => {
    const [first, ...rest] = right.split("\n")
    return [`  ${left.padEnd(width)}${first}`, ...rest.map((line) => `  ${" ".repeat(width)}${line}`)].join("\n")
  }).join("\n")
}

export const helpText = (name: string, version: string) =>
  `${name} ${version}: an MCP server that manages WhatsApp sessions and sends messages through ChatKazi.

Usage:
${
    rows([
      [name, "Serve MCP over stdio (for Claude Desktop, Cursor...). Needs CHATKAZI_API_KEY."],
      [`${name} check`, "Check the settings below and the API key against ChatKazi (one list_sessions\ncall), print a verdict for each, and exit 0 if all work, 1 if not."],
      [`${name} --sandbox`, "Serve MCP over stdio on a simulated ChatKazi: no API key, no phone, nothing\nsent to WhatsApp. Every result says it is the sandbox."],
      [`${name} http [--port N] [--host H]`, `Serve MCP over Streamable HTTP on http://H:N/mcp, for remote hosts. H defaults\nto ${DEFAULT_HTTP_HOST} (pass --host 0.0.0.0 in a container), N to PORT, else 8080.`],
      [`${name} sandbox [--port N]`, `Run only the simulated ChatKazi API as an HTTP server on 127.0.0.1:N\n(default ${DEFAULT_SANDBOX_PORT}; 0 picks a free port), to test other integrations against.`],
      [`${name} --help | --version`, "This help, or the version."]
    ])
  }

Sandbox options (with --sandbox or sandbox):
${
    rows([
      ["--max-sessions N", "Plan limit: sessions in use at once (default 2); one more is HTTP 402."],
      ["--scan-after SECONDS", "The QR counts as scanned this long after it is first fetched (default 5;\n\"never\": only by status checks or POST /sandbox/scan)."],
      ["--scan-after-polls N", "...or on the Nth status check after it was fetched (default 3; \"never\")."],
      ["--reply-after SECONDS", "A contact answers a text this long after it is sent (default 3; \"never\")."],
      ["--api-key KEY", "sandbox only: the one x-api-key accepted (default: any non-empty key)."],
      ["--webhook-url URL", "sandbox only: POST incoming messages (replies, POST /sandbox/inbound) there,\nlike ChatKazi's webhook."]
    ])
  }

Environment (live mode):
${
    rows([
      ["CHATKAZI_API_KEY", "Your ChatKazi API key (required)."],
      ["CHATKAZI_BASE_URL", "Default https://api.chatkazi.app/api/v1."],
      ["CHATKAZI_READ_ONLY", "true: only the tools that change nothing."],
      ["CHATKAZI_ALLOWED_RECIPIENTS", "Numbers or prefixes (2547*) that may receive messages."],
      ["CHATKAZI_SECRET", "Long random value; needed to receive messages (webhook ids derive from it)."],
      ["CHATKAZI_WEBHOOK_PORT", "Listen for ChatKazi's webhook on 127.0.0.1:PORT (expose it with a tunnel)."]
    ])
  }

Environment (http):
${
    rows([
      ["CHATKAZI_API_KEY", "Unset: each caller sends their own ChatKazi key as \"Authorization: Bearer\".\nSet: every call uses it, and callers must send one of CHATKAZI_HTTP_TOKENS."],
      ["CHATKAZI_HTTP_TOKENS", "Comma-separated access tokens (required with a key unless on loopback)."],
      ["CHATKAZI_ALLOWED_ORIGINS", "Browser origins that may call /mcp (others get 403)."],
      ["CHATKAZI_PUBLIC_URL", "The https origin users reach (no path): the webhook URL, and OAuth login\nfor connectors when CHATKAZI_SECRET is set and CHATKAZI_API_KEY is not."],
      ["CHATKAZI_TRUST_PROXY", "Whose X-Forwarded-For names the client: a hop count, proxy addresses, or false\n(default: loopback when listening on loopback)."]
    ])
  }

MCP host config (e.g. claude_desktop_config.json):
  { "mcpServers": { "chatkazi": { "command": "npx", "args": ["-y", "${name}"],
                                  "env": { "CHATKAZI_API_KEY": "your key" } } } }
  Use "args": ["-y", "${name}", "--sandbox"] and no key to try it without an account.
`

const invalid = (problem: string): Command => ({ _tag: "Invalid", problem })

export const parseCommand = (argv: ReadonlyArray<string>): Command => {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (error) {
    return invalid(error instanceof Error ? error.message : String(error))
  }
  const { positionals, values } = parsed
  if (values.help) return { _tag: "Help" }
  if (values.version) return { _tag: "Version" }

  const [subcommand, ...extra] = positionals
  if (extra.length > 0) return invalid(`unexpected argument "${extra[0]}"`)
  if (subcommand === "http") return parseHttp(values)
  if (values.host !== undefined) return invalid("--host only applies to \"http\"")
  if (subcommand !== undefined && subcommand !== "sandbox" && subcommand !== "check") {
    return invalid(`unknown command "${subcommand}"`)
  }
  if (subcommand === "sandbox" && values.sandbox) return invalid("use either \"sandbox\" or \"--sandbox\", not both")

  const sandboxFlags = ["max-sessions", "scan-after", "scan-after-polls", "reply-after", "api-key", "webhook-url", "port"] as const
  if (subcommand === "check") {
    if (values.sandbox) return invalid("check tests the live settings; the sandbox needs none")
    const stray = sandboxFlags.find((flag) => values[flag] !== undefined)
    return stray === undefined ? { _tag: "Check" } : invalid(`--${stray} only applies to the sandbox`)
  }
  if (subcommand === undefined && !values.sandbox) {
    const stray = sandboxFlags.find((flag) => values[flag] !== undefined)
    return stray === undefined ? { _tag: "Serve" } : invalid(`--${stray} only applies to the sandbox`)
  }
  if (values.sandbox && values.port !== undefined) {
    return invalid("--port is for \"sandbox\" (the HTTP simulator); --sandbox serves MCP over stdio")
  }
  if (values.sandbox && values["webhook-url"] !== undefined) {
    return invalid("--webhook-url is for \"sandbox\" (the HTTP simulator); --sandbox puts replies in its inbox directly")
  }
  if (values.sandbox && values["api-key"] !== undefined) {
    return invalid("--api-key is for \"sandbox\" (the HTTP simulator); --sandbox needs no key")
  }

  const settings: { -readonly [K in keyof SandboxSettings]?: SandboxSettings[K] } = {}
  const problems: Array<string> = []
  const count = (flag: string, raw: string | undefined, min: number, apply: (n: number) => void) => {
    if (raw === undefined) return
    const n = Number(raw)
    if (raw.trim() === "" || !Number.isInteger(n) || n < min) problems.push(`--${flag} expects a whole number of at least ${min}, got "${raw}"`)
    else apply(n)
  }
  const orNever = (flag: string, raw: string | undefined, min: number, apply: (n: number | undefined) => void) => {
    if (raw === "never") apply(undefined)
    else if (raw !== undefined && (flag === "scan-after" || flag === "reply-after")) {
      const seconds = Number(raw)
      if (raw.trim() === "" || !Number.isFinite(seconds) || seconds < min) {
        problems.push(`--${flag} expects a number of seconds (at least ${min}) or "never", got "${raw}"`)
      } else apply(Math.round(seconds * 1000))
    } else count(flag, raw, min, apply)
  }
  count("max-sessions", values["max-sessions"], 1, (n) => settings.maxSessions = n)
  orNever("scan-after", values["scan-after"], 0, (ms) => settings.scanAfterMs = ms)
  orNever("scan-after-polls", values["scan-after-polls"], 1, (n) => settings.scanAfterPolls = n)
  orNever("reply-after", values["reply-after"], 0, (ms) => settings.replyAfterMs = ms)
  const webhookUrl = values["webhook-url"]
  if (webhookUrl !== undefined && !/^https?:\/\/./.test(webhookUrl)) problems.push(`--webhook-url expects an http(s) URL, got "${webhookUrl}"`)
  if (values["api-key"] !== undefined) {
    if (values["api-key"].trim() === "") problems.push("--api-key must not be empty")
    else settings.apiKey = values["api-key"]
  }
  let port = DEFAULT_SANDBOX_PORT
  if (values.port !== undefined) {
    const n = parsePort(values.port)
    if (n === undefined) problems.push(portProblem(values.port))
    else port = n
  }
  if (problems.length > 0) return invalid(problems.join("; "))
  return subcommand === "sandbox"
    ? { _tag: "SandboxServer", port, settings, ...(webhookUrl === undefined ? {} : { webhookUrl }) }
    : { _tag: "ServeSandbox", settings }
}

const parsePort = (raw: string): number | undefined => {
  const n = Number(raw)
  return raw.trim() === "" || !Number.isInteger(n) || n < 0 || n > 65_535 ? undefined : n
}

const portProblem = (raw: string) => `--port expects a port number from 0 to 65535, got "${raw}"`

const parseHttp = (values: ReturnType<typeof parse>["values"]): Command => {
  const stray = (["sandbox", "max-sessions", "scan-after", "scan-after-polls", "api-key"] as const)
    .find((flag) => values[flag] !== undefined)
  if (stray !== undefined) return invalid(`--${stray} does not apply to "http"`)
  const port = values.port === undefined ? undefined : parsePort(values.port)
  if (values.port !== undefined && port === undefined) return invalid(portProblem(values.port))
  const host = values.host?.trim() ?? DEFAULT_HTTP_HOST
  if (host === "") return invalid("--host must not be empty")
  return { _tag: "ServeHttp", port, host }
}

const parse = (argv: ReadonlyArray<string>) =>
  parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "v" },
      sandbox: { type: "boolean" },
      port: { type: "string", short: "p" },
      host: { type: "string" },
      "max-sessions": { type: "string" },
      "scan-after": { type: "string" },
      "scan-after-polls": { type: "string" },
      "reply-after": { type: "string" },
      "api-key": { type: "string" },
      "webhook-url": { type: "string" }
    }
  })
