/**
 * What http mode serves beyond `/mcp` and `/healthz`, built on the process's services:
 *
 * - `POST /webhooks/chatkazi/<hookId>`: ChatKazi delivering incoming messages into the Inbox (on
 *   the process's store, so with Redis any replica may receive and any replica may list them);
 * - OAuth login for connectors, when it is on (httpOAuth.ts);
 * - the `chatkazi://messages` resource on each request's server (read only: a stateless request
 *   has no connection to notify on later);
 * - the public URL's host name accepted behind a reverse proxy on this machine.
 */
import { Effect, Option, Runtime } from "effect"
import type { InvalidConfig } from "../errors/ChatKaziError.js"
import type { Account } from "../services/Account.js"
import { WebhookConfig } from "../services/WebhookConfig.js"
import type { HttpExtension } from "./http.js"
import { httpOAuth } from "./httpOAuth.js"
import type { ProcessServices } from "./httpServices.js"
import { messagesResource } from "./messagesResource.js"
import { webhookRoute } from "./webhook.js"

export const httpFeatures = (
  shared: Runtime.Runtime<ProcessServices>
): Effect.Effect<HttpExtension<ProcessServices | Account>, InvalidConfig> =>
  Effect.gen(function*() {
    const webhook = webhookRoute(shared)
    const oauth = yield* httpOAuth
    const { publicUrl } = yield* WebhookConfig
    const extension: HttpExtension<ProcessServices | Account> = {
      ...Option.getOrUndefined(oauth),
      // The webhook first: it reads its own raw body, before any parser of OAuth's.
      routes: (app) => {
        app.post(webhook.path, webhook.handler)
        if (Option.isSome(oauth)) oauth.value.routes?.(app)
      },
      resources: (runtime) => [messagesResource(runtime)],
      hostnames: Option.toArray(Option.map(publicUrl, (origin) => new URL(origin).hostname))
    }
    return extension
  }).pipe(Effect.provide(shared))
