/**
 * Two replicas of the built `chatkazi-mcp http`, one real redis-server, the same CHATKAZI_SECRET and
 * CHATKAZI_PUBLIC_URL (as behind one load balancer): a token issued by one is accepted, refreshed
 * and revoked on the other, and a webhook received by one is read, and wakes a wait, on the other.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { CallToolResultSchema, type CallToolResult } from "@modelcontextprotocol/sdk/types.js"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { HttpServerProcess } from "../support/HttpServerProcess.js"
import { textOf } from "../support/McpHarness.js"
import { KEY_A, scriptAccounts, SECRET } from "../support/OAuthApp.js"
import { discover, postForm, redeem, signIn } from "../support/OAuthClient.js"
import { RedisServer } from "../support/redis.js"
import { ScriptedGateway } from "../support/ScriptedGateway.js"

let redis: RedisServer
let gateway: ScriptedGateway
let replicaA: HttpServerProcess
let replicaB: HttpServerProcess
/** The public origin both replicas name: replica A's address. */
let origin: string
const clients: Array<Client> = []

const connect = async (server: HttpServerProcess, bearer: string) => {
  const client = await server.connect(bearer)
  clients.push(client)
  return client
}

const call = async (client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> => {
  const result = CallToolResultSchema.parse(await client.callTool({ name, arguments: args }))
  expect(result.isError ?? false, textOf(result)).toBe(false)
  return result
}

beforeAll(async () => {
  ;[redis, gateway] = await Promise.all([RedisServer.start(), ScriptedGateway.start()])
  const env = {
    CHATKAZI_BASE_URL: gateway.baseUrl,
    CHATKAZI_RETRY_BASE_DELAY_MS: "0",
    CHATKAZI_SECRET: SECRET,
    CHATKAZI_REDIS_URL: redis.url
  }
  replicaA = await HttpServerProcess.startPublic(env)
  origin = await replicaA.origin()
  replicaB = await HttpServerProcess.startPublic(env, { publicUrl: origin })
})

afterEach(() => {
  gateway.reset()
})

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close().catch(() => undefined)))
  for (const server of [replicaA, replicaB]) {
    if (server === undefined) continue
    for (const secret of [KEY_A, SECRET, "ckmcp_"]) expect(server.stderr).not.toContain(secret)
    await server.kill()
  }
  await Promise.all([redis?.stop(), gateway?.close()])
})

describe("two http replicas on one Redis", () => {
  it("both report Redis as their state store", async () => {
    for (const server of [replicaA, replicaB]) {
      const health = await fetch(`${await server.origin()}/healthz`).then((r) => r.json()) as { stateStore: { kind: string } }
      expect(health.stateStore.kind).toMatch(/redis/i)
    }
  })

  it("a token issued by A is accepted, refreshed and revoked through B", async () => {
    scriptAccounts(gateway)
    const d = await discover(origin)
    const signedIn = await signIn(origin, d, KEY_A)
    const tokens = await redeem(d, signedIn)
    gateway.reset()
    scriptAccounts(gateway)

    const onB = await connect(replicaB, tokens.access_token)
    expect(textOf(await call(onB, "list_sessions"))).toContain("shop-a")
    expect(gateway.received("GET", "/sessions").map((r) => r.headers["x-api-key"])).toEqual([KEY_A])

    // Refreshed on B; the new access token works on A.
    const originB = await replicaB.origin()
    const refreshed = await postForm(`${originB}/token`, {
      grant_type: "refresh_token",
      refresh_token: tokens.refresh_token!,
      client_id: signedIn.client.client_id
    })
    expect(refreshed.status).toBe(200)
    const onA = await connect(replicaA, String(refreshed.body["access_token"]))
    expect(textOf(await call(onA, "list_sessions"))).toContain("shop-a")

    // The old refresh token used again on A revokes the family everywhere.
    const reused = await postForm(`${origin}/token`, {
      grant_type: "refresh_token",
      refresh_token: tokens.refresh_token!,
      client_id: signedIn.client.client_id
    })
    expect(reused.status).toBe(400)
    gateway.reset()
    const refused = await fetch(`${originB}/mcp`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        authorization: `Bearer ${String(refreshed.body["access_token"])}`
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" })
    })
    expect(refused.status).toBe(401)
    expect(refused.headers.get("www-authenticate")).toContain(`resource_metadata="${origin}/.well-known/oauth-protected-resource"`)
    expect(gateway.requests).toHaveLength(0)
  })

  it("a webhook received by A is listed on B, and wakes a wait on B", async () => {
    scriptAccounts(gateway)
    const [onA, onB] = await Promise.all([connect(replicaA, KEY_A), connect(replicaB, KEY_A)])
    const url = (await call(onB, "get_webhook_url")).structuredContent!["url"] as string
    expect(url.startsWith(`${origin}/webhooks/chatkazi/`)).toBe(true)
    expect((await call(onA, "get_webhook_url")).structuredContent!["url"]).toBe(url)
    // B confirmed the key with ChatKazi; A found the confirmation on the shared store.
    expect(gateway.count("GET", "/sessions")).toBe(1)

    const post = (id: string, from: string, text: string) =>
      fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ sessionId: "default", from, text, id }) })

    expect((await post("replica-1", "254711000001", "Posted to replica A")).status).toBe(200)
    expect(textOf(await call(onB, "list_messages"))).toContain("Posted to replica A")

    const progress: Array<unknown> = []
    const waiting = onB.callTool(
      { name: "wait_for_message", arguments: { from: "254711000002", timeoutSeconds: 20 } },
      CallToolResultSchema,
      { onprogress: (p) => progress.push(p), timeout: 30_000 }
    )
    await expect.poll(() => progress.length, { timeout: 10_000 }).toBeGreaterThan(0)
    expect((await post("replica-2", "254711000002", "Heard on replica B")).status).toBe(200)
    expect(textOf(CallToolResultSchema.parse(await waiting))).toContain("Heard on replica B")
  })
})
