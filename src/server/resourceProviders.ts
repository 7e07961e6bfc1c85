/**
 * Resources from several modules behind the one set of resources/* handlers an SDK `Server` can
 * have: each module gives a `ResourceProvider`, and `installResources` routes list, read, subscribe
 * and unsubscribe to them.
 */
import type { Server } from "@modelcontextprotocol/sdk/server/index.js"
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js"
import {
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ReadResourceRequestSchema,
  type ReadResourceResult,
  type Resource,
  type ResourceTemplate,
  type ServerNotification,
  type ServerRequest,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema
} from "@modelcontextprotocol/sdk/types.js"
import { ProtocolError } from "./protocolError.js"

/** What a request handler gets besides the request: its cancellation signal, a way to notify. */
export type RequestExtra = RequestHandlerExtra<ServerRequest, ServerNotification>

export interface ResourceProvider {
  /** What resources/list shows for this provider. */
  readonly resources: ReadonlyArray<Resource>
  /** What resources/templates/list shows for this provider. */
  readonly templates?: ReadonlyArray<ResourceTemplate>
  /** The contents of `uri`, or undefined when it is not this provider's. */
  readonly read: (uri: string, extra: RequestExtra) => Promise<ReadResourceResult | undefined>
  /** Starts updates for `uri`; false when it is not this provider's. */
  readonly subscribe?: (uri: string) => Promise<boolean>
  readonly unsubscribe?: (uri: string) => Promise<boolean>
  /** Stops every update (the connection closed). */
  readonly close?: () => Promise<void>
}

/**
 * Sets the resources/* handlers of `server` from `providers` and announces the capability; call it
 * before the server connects. Subscriptions end when the server closes.
 */
export const installResources = (server: Server, providers: ReadonlyArray<ResourceProvider>): void => {
  const canSubscribe = providers.some((p) => p.subscribe !== undefined)
  server.registerCapabilities({ resources: { subscribe: canSubscribe } })
  server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: providers.flatMap((p) => p.resources) }))
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({
    resourceTemplates: providers.flatMap((p) => p.templates ?? [])
  }))
  server.setRequestHandler(ReadResourceRequestSchema, async ({ params }, extra) => {
    for (const provider of providers) {
      const result = await provider.read(params.uri, extra)
      if (result !== undefined) return result
    }
    throw unknownResource(params.uri, providers)
  })
  if (canSubscribe) {
    const route = async (uri: string, pick: (p: ResourceProvider) => ((uri: string) => Promise<boolean>) | undefined) => {
      for (const provider of providers) {
        if (await pick(provider)?.(uri)) return {}
      }
      throw unknownResource(uri, providers)
    }
    server.setRequestHandler(SubscribeRequestSchema, ({ params }) => route(params.uri, (p) => p.subscribe))
    server.setRequestHandler(UnsubscribeRequestSchema, ({ params }) => route(params.uri, (p) => p.unsubscribe))
  }
  const previous = server.onclose
  server.onclose = () => {
    previous?.()
    for (const provider of providers) void provider.close?.()
  }
}

/** JSON-RPC "resource not found" (-32002, as the MCP spec names it), naming the resources there are. */
export const RESOURCE_NOT_FOUND = -32002

const unknownResource = (uri: string, providers: ReadonlyArray<ResourceProvider>) =>
  new ProtocolError(
    RESOURCE_NOT_FOUND,
    `Resource not found: ${uri}. The resources are ${
      providers.flatMap((p) => [...p.resources.map((r) => r.uri), ...(p.templates ?? []).map((t) => t.uriTemplate)]).join(", ")
    }.`
  )
