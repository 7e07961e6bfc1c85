/**
 * The login page: one labelled form, served with its own small stylesheet inline (allowed by hash
 * in the Content-Security-Policy), no scripts and no third-party assets, so it works without
 * JavaScript and leaks nothing to anyone else.
 */
import { createHash } from "node:crypto"

export interface PageModel {
  /** The name the client registered with (untrusted: escaped like everything else). */
  readonly clientName: string | undefined
  /** Where the user will be sent back to. */
  readonly redirectUri: string
  /** The authorization request, carried through the form as hidden fields. */
  readonly hidden: Readonly<Record<string, string>>
  /** Why the last attempt failed, shown above the field. */
  readonly error?: string | undefined
}

const STYLE = `
:root { color-scheme: light dark; --ink: #1b1f23; --muted: #57606a; --line: #d0d7de; --card: #ffffff;
  --page: #f3f5f7; --accent: #1a7f4b; --accent-ink: #ffffff; --bad: #b42318; --bad-bg: #fef3f2; }
@media (prefers-color-scheme: dark) { :root { --ink: #e6edf3; --muted: #9da7b3; --line: #3d444d; --card: #161b22;
  --page: #0d1117; --accent: #2ea26b; --bad: #ff8a80; --bad-bg: #2d1614; } }
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: grid; place-items: center; padding: 1.5rem; background: var(--page);
  color: var(--ink); font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { width: 100%; max-width: 28rem; background: var(--card); border: 1px solid var(--line); border-radius: 12px;
  padding: 2rem; }
h1 { font-size: 1.35rem; margin: 0 0 .75rem; }
p { margin: 0 0 1rem; color: var(--muted); }
strong { color: var(--ink); }
label { display: block; font-weight: 600; margin-bottom: .35rem; }
input[type=password] { width: 100%; font: inherit; padding: .6rem .75rem; border: 1px solid var(--line);
  border-radius: 8px; background: transparent; color: var(--ink); }
input[type=password]:focus, button:focus { outline: 3px solid color-mix(in srgb, var(--accent) 45%, transparent);
  outline-offset: 1px; }
.hint { font-size: .875rem; margin: .35rem 0 1.25rem; }
.error { color: var(--bad); background: var(--bad-bg); border: 1px solid currentColor; border-radius: 8px;
  padding: .6rem .75rem; }
.actions { display: flex; gap: .75rem; }
button { font: inherit; font-weight: 600; padding: .6rem 1.1rem; border-radius: 8px; cursor: pointer;
  border: 1px solid var(--line); background: transparent; color: var(--ink); }
button[value=allow] { background: var(--accent); border-color: var(--accent); color: var(--accent-ink); flex: 1; }
.small { font-size: .8rem; margin: 1.25rem 0 0; }
`

export const STYLE_HASH = `sha256-${createHash("sha256").update(STYLE, "utf8").digest("base64")}`

const escape = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" })[c]!)

export const renderAuthorizePage = (model: PageModel): string => {
  const destination = new URL(model.redirectUri).host
  const client = model.clientName?.trim() ? model.clientName.trim() : destination
  const hidden = Object.entries(model.hidden)
    .map(([name, value]) => `<input type="hidden" name="${escape(name)}" value="${escape(value)}">`)
    .join("\n      ")
  const error = model.error === undefined
    ? ""
    : `<p class="error" id="key-error" role="alert">${escape(model.error)}</p>`
  const describedBy = model.error === undefined ? "key-hint" : "key-error key-hint"
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="referrer" content="no-referrer">
  <title>Connect ChatKazi</title>
  <style>${STYLE}</style>
</head>
<body>
  <main>
    <h1>Connect your ChatKazi account</h1>
    <p><strong>${escape(client)}</strong> asks to use your ChatKazi WhatsApp gateway through this server:
      list and start sessions and send messages for you.</p>
    <form method="post" action="/authorize">
      ${hidden}
      ${error}
      <label for="api_key">ChatKazi API key</label>
      <input type="password" id="api_key" name="api_key" required autocomplete="off" spellcheck="false"
        autocapitalize="off" aria-describedby="${describedBy}"${model.error === undefined ? "" : " aria-invalid=\"true\""} autofocus>
      <p class="hint" id="key-hint">Find it in the ChatKazi dashboard. It is checked with ChatKazi, kept encrypted
        on this server, and used only for this connection.</p>
      <div class="actions">
        <button type="submit" name="action" value="allow">Connect</button>
        <button type="submit" name="action" value="deny" formnovalidate>Cancel</button>
      </div>
    </form>
    <p class="small">You will return to <strong>${escape(destination)}</strong>.</p>
  </main>
</body>
</html>`
}

/** Headers for the page: no framing, no caching, nothing loaded but the inline style. */
export const pageHeaders = (redirectUri: string): Record<string, string> => ({
  "Content-Type": "text/html; charset=utf-8",
  "Cache-Control": "no-store",
  // form-action covers the redirect that follows the POST, so the client's origin is allowed too.
  "Content-Security-Policy": `default-src 'none'; style-src '${STYLE_HASH}'; form-action 'self' ${
    new URL(redirectUri).origin
  }; frame-ancestors 'none'; base-uri 'none'`,
  "X-Frame-Options": "DENY",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer"
})
