/**
 * The linking card as MCP Apps hosts see it: the resource's mimeType and metadata, an HTML document
 * that needs nothing outside itself, and the tool list over the built server (the package's bin).
 */
import { readdirSync, readFileSync } from "node:fs"
import { resolve } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { McpHarness } from "../support/McpHarness.js"
import { repoRoot } from "../support/serverEntry.js"

const URI = "ui://chatkazi/link"
const MIME = "text/html;profile=mcp-app"
/** No origin at all: no network, no outside scripts, styles, images or frames. */
const NOTHING_BEYOND_ITSELF = { connectDomains: [], resourceDomains: [], frameDomains: [], baseUriDomains: [] }

/**
 * The only http(s) strings in the bundled card, all inert text inside libraries it bundles, none of
 * them ever fetched (the browser test records every request the card makes: none): zod's IPv6 URL
 * check and JSON Schema dialect names, and an example in a description in the extension's schemas.
 */
const INERT_LIBRARY_STRINGS = [
  "http://[${e}]",
  "http://json-schema.org/draft-04/schema#",
  "http://json-schema.org/draft-07/schema#",
  "https://json-schema.org/draft/2020-12/schema",
  "https://*.example.com"
]

describe("ui://chatkazi/link over the built server", { timeout: 60_000 }, () => {
  let server: McpHarness
  let html: string

  beforeAll(async () => {
    server = await McpHarness.start({ CHATKAZI_API_KEY: "ck_test_ui", CHATKAZI_BASE_URL: "http://127.0.0.1:9/api/v1" })
  })
  afterAll(async () => {
    await server?.close()
  })

  it("declares the resources capability and lists the card with its mimeType and CSP", async () => {
    expect(server.client.getServerCapabilities()?.resources).toBeDefined()
    const { resources } = await server.client.listResources()
    expect(resources).toContainEqual(expect.objectContaining({
      uri: URI,
      mimeType: MIME,
      _meta: { ui: { csp: NOTHING_BEYOND_ITSELF, prefersBorder: true } }
    }))
  })

  it("reads as one HTML document with the same metadata", async () => {
    const { contents } = await server.client.readResource({ uri: URI })
    expect(contents).toHaveLength(1)
    const [content] = contents as Array<{ uri: string; mimeType: string; text: string; _meta: unknown }>
    expect(content).toMatchObject({ uri: URI, mimeType: MIME, _meta: { ui: { csp: NOTHING_BEYOND_ITSELF } } })
    html = content!.text
    expect(html).toMatch(/^<!doctype html>\s*<html lang="en">/)
    expect(html.trimEnd()).toMatch(/<\/html>$/)
  })

  it("needs nothing outside itself: inline script and styles, nothing that loads a URL", () => {
    const scripts = [...html.matchAll(/<script([^>]*)>/g)]
    expect(scripts.map((m) => m[1])).toEqual([""]) // one inline script, no src
    const style = html.match(/<style>([\s\S]*?)<\/style>/)?.[1] ?? ""
    expect(style.length).toBeGreaterThan(500)
    expect(style).not.toMatch(/url\(|@import/i)
    const markup = html.replace(/<script>[\s\S]*?<\/script>/, "").replace(/<style>[\s\S]*?<\/style>/, "")
    expect(markup).not.toMatch(/<(link|img|iframe|frame|object|embed|base|source|video|audio)\b|\b(src|href|srcset|action)=/i)
    expect(markup).not.toMatch(/https?:|\/\//)
    // Any http(s) text at all is one of the known inert library strings: a new one fails here.
    const urls = new Set(html.match(/https?:\/\/[^\s"'`)\\]*/g) ?? [])
    for (const url of urls) expect(INERT_LIBRARY_STRINGS).toContain(url)
  })

  it("the card's own sources name no URL at all", () => {
    const dir = resolve(repoRoot, "src/ui/link")
    const sources = [
      ...readdirSync(resolve(dir, "browser")).map((f) => resolve(dir, "browser", f)),
      resolve(dir, "view.ts")
    ]
    for (const file of sources) expect(readFileSync(file, "utf8"), file).not.toMatch(/https?:\/\//)
  })

  it("an unknown resource is a JSON-RPC error, not an empty answer", async () => {
    await expect(server.client.readResource({ uri: "ui://chatkazi/nope" })).rejects.toMatchObject({ code: -32002, message: expect.stringMatching(/Resource not found: ui:\/\/chatkazi\/nope\./) })
  })

  it("tools/list: the QR tools point to the card, and a client without MCP Apps never sees the card's tool", async () => {
    const tools = await server.listTools()
    for (const name of ["get_session_qr", "wait_for_session"]) {
      expect(tools.find((t) => t.name === name)?._meta).toStrictEqual({
        ui: { resourceUri: URI },
        "ui/resourceUri": URI
      })
    }
    expect(tools.map((t) => t.name)).not.toContain("link_card_state")
    // Nor does the answer to a call of an unknown tool name it.
    await expect(server.call("no_such_tool", {})).rejects.toThrow(/The tools are: list_sessions, /)
    await expect(server.call("no_such_tool", {})).rejects.not.toThrow(/link_card_state/)
    // Tools without a card carry no _meta at all.
    expect(tools.find((t) => t.name === "send_whatsapp_text")).not.toHaveProperty("_meta")
  })
})
