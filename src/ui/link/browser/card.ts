/**
 * The linking card in the page: connects to the host with the MCP Apps `App` client, draws what
 * the QR tools returned, polls the app-only `link_card_state` tool while the phone is not linked,
 * and tells the model once it is. What to show is worked out in ../view.ts; this file only draws.
 */
import {
  App,
  applyDocumentTheme,
  applyHostFonts,
  applyHostStyleVariables,
  type McpUiHostContext,
  PostMessageTransport
} from "@modelcontextprotocol/ext-apps"
import { create as encodeQr } from "qrcode/lib/core/qrcode.js"
import {
  isAwaitingPhone,
  isDeadEnd,
  type LinkQr,
  linkedContext,
  type LinkSnapshot,
  observeQr,
  type QrClock,
  type Reading,
  readResult,
  rotationText,
  stateWords,
  type ToolResultLike
} from "../view.js"

const POLL_MS = 2_500
/** After this many failed polls in a row the card stops and offers "Check now". */
const MAX_FAILURES = 5
/** A card left open in an old chat must not poll the gateway forever. */
const GIVE_UP_AFTER_MS = 10 * 60_000

const element = <E extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as E
const ui = {
  state: element("state"),
  sessionId: element("session-id"),
  waiting: element("waiting"),
  qr: element("qr"),
  rotation: element("rotation"),
  pairing: element("pairing"),
  pairingCode: element("pairing-code"),
  done: element("done"),
  doneText: element("done-text"),
  status: element("status"),
  check: element<HTMLButtonElement>("check"),
  asText: element<HTMLDetailsElement>("as-text"),
  qrText: element("qr-text")
}

const app = new App({ name: "chatkazi-link-card", version: "1.0.0" }, {}, { autoResize: true })

let sessionId: string | undefined
let clock: QrClock | undefined
let drawn: string | undefined
let sawWaiting = false
let linked = false
let stopped = false
let failures = 0
let polling: ReturnType<typeof setTimeout> | undefined
let inFlight = false
let pollingSince = Date.now()

const applyHostContext = (context: McpUiHostContext) => {
  if (context.theme) applyDocumentTheme(context.theme)
  if (context.styles?.variables) applyHostStyleVariables(context.styles.variables)
  if (context.styles?.css?.fonts) applyHostFonts(context.styles.css.fonts)
}

const say = (message: string, tone?: "bad") => {
  ui.status.textContent = message
  if (tone) ui.status.dataset.tone = tone
  else delete ui.status.dataset.tone
}

const drawQr = (qr: LinkQr | undefined) => {
  const key = qr === undefined ? undefined : `${qr.kind}:${qr.value}`
  if (key === drawn) return
  drawn = key
  ui.qr.replaceChildren()
  ui.asText.hidden = qr?.kind !== "payload"
  ui.qrText.textContent = qr?.kind === "payload" ? qr.value : ""
  if (qr === undefined) {
    const empty = document.createElement("p")
    empty.className = "qr-empty"
    empty.textContent = "Waiting for a QR code…"
    ui.qr.append(empty)
    ui.qr.setAttribute("aria-label", "No QR code yet")
    return
  }
  ui.qr.setAttribute(
    "aria-label",
    `QR code to link WhatsApp session "${sessionId ?? "default"}". Scan it with WhatsApp on your phone: ` +
      "Settings, Linked devices, Link a device."
  )
  if (qr.kind === "payload") ui.qr.append(qrCanvas(qr.value))
  else if (qr.kind === "image") {
    const image = document.createElement("img")
    image.alt = ""
    image.src = qr.value
    ui.qr.append(image)
  } else {
    const note = document.createElement("p")
    note.className = "qr-empty"
    note.textContent = `ChatKazi shows this QR code on a web page: ${qr.value}`
    ui.qr.append(note)
  }
}

/** The QR drawn module by module, with the quiet zone scanners need. */
const qrCanvas = (payload: string): HTMLCanvasElement => {
  const { modules } = encodeQr(payload, { errorCorrectionLevel: "M" })
  const quiet = 4
  const scale = Math.max(2, Math.floor(440 / (modules.size + 2 * quiet)))
  const side = (modules.size + 2 * quiet) * scale
  const canvas = document.createElement("canvas")
  canvas.width = side
  canvas.height = side
  canvas.setAttribute("aria-hidden", "true")
  const pen = canvas.getContext("2d")!
  pen.fillStyle = "#ffffff"
  pen.fillRect(0, 0, side, side)
  pen.fillStyle = "#000000"
  for (let row = 0; row < modules.size; row++) {
    for (let col = 0; col < modules.size; col++) {
      if (modules.get(row, col)) pen.fillRect((col + quiet) * scale, (row + quiet) * scale, scale, scale)
    }
  }
  return canvas
}

const showRotation = () => {
  ui.rotation.textContent = clock === undefined || linked ? "" : rotationText(clock, Date.now())
}

const show = (snapshot: LinkSnapshot) => {
  sessionId = snapshot.sessionId
  ui.sessionId.textContent = snapshot.sessionId
  ui.state.textContent = stateWords(snapshot.state)
  ui.state.dataset.tone = snapshot.linked ? "ok" : isDeadEnd(snapshot.state) ? "bad" : "wait"
  if (snapshot.linked) {
    finishLinked(snapshot.sessionId)
    return
  }
  sawWaiting = true
  // wait_for_session reports no QR, and a QR fetch may fail once: while the phone is still awaited,
  // the QR on screen stays until a new one arrives.
  if (snapshot.qr !== undefined || !isAwaitingPhone(snapshot.state)) {
    drawQr(snapshot.qr)
    clock = snapshot.qr === undefined ? undefined : observeQr(clock, snapshot.qr.value, Date.now())
  }
  showRotation()
  ui.pairing.hidden = snapshot.pairingCode === undefined
  ui.pairingCode.textContent = snapshot.pairingCode ?? ""
  if (isDeadEnd(snapshot.state)) {
    stop()
    say("This session is not waiting for a phone. Ask the assistant to start it again, then press Check now.")
  } else {
    say("")
  }
}

const finishLinked = (id: string) => {
  if (linked) return
  linked = true
  stop()
  ui.waiting.hidden = true
  ui.done.hidden = false
  ui.asText.hidden = true
  ui.check.hidden = true
  say(`WhatsApp session ${id} is connected.`)
  // A card that opened on an already linked session has nothing new to tell the model.
  if (sawWaiting) void tellModel(id)
}

/**
 * The model hears of it twice, each only if the host takes it: the context update keeps the fact
 * for its next turn, the message starts that turn, so the conversation goes on without the user typing.
 */
const tellModel = async (id: string) => {
  const host = app.getHostCapabilities()
  const told = await Promise.all([
    host?.updateModelContext
      ? app.updateModelContext({
        content: [{ type: "text", text: linkedContext(id) }],
        structuredContent: { sessionId: id, state: "connected" }
      }).then(() => true, () => false)
      : false,
    host?.message
      ? app.sendMessage({
        role: "user",
        content: [{ type: "text", text: `My phone is linked now: WhatsApp session "${id}" is connected.` }]
      }).then((result) => !result.isError, () => false)
      : false
  ])
  if (told.some(Boolean)) ui.doneText.textContent += " The assistant has been told, so you can go on in the chat."
}

const take = (reading: Reading) => {
  if (reading._tag === "Snapshot") {
    failures = 0
    show(reading.snapshot)
  } else {
    failures++
    say(reading.message, "bad")
  }
}

const stop = () => {
  stopped = true
  if (polling !== undefined) clearTimeout(polling)
  polling = undefined
}

const schedule = () => {
  if (polling !== undefined) clearTimeout(polling)
  polling = undefined
  if (stopped || linked) return
  if (Date.now() - pollingSince > GIVE_UP_AFTER_MS) {
    stop()
    say("The card stopped checking after 10 minutes. Press Check now to look again.")
    return
  }
  polling = setTimeout(() => void poll(), POLL_MS)
}

const poll = async () => {
  if (sessionId === undefined || inFlight || linked) return
  inFlight = true
  try {
    const result = await app.callServerTool({ name: "link_card_state", arguments: { sessionId } })
    take(readResult(result as ToolResultLike, sessionId))
  } catch (error) {
    failures++
    say(`Could not check the session: ${error instanceof Error ? error.message : String(error)}`, "bad")
  } finally {
    inFlight = false
  }
  if (failures >= MAX_FAILURES) {
    stop()
    say("Checking keeps failing, so the card stopped. Press Check now to try again.", "bad")
  }
  schedule()
}

/** Starts the polling loop unless it runs already or was stopped (linked, a dead end, given up). */
const startPolling = () => {
  if (linked || stopped || polling !== undefined || inFlight) return
  schedule()
}

ui.check.addEventListener("click", () => {
  failures = 0
  stopped = false
  pollingSince = Date.now()
  void poll()
})

app.ontoolinput = ({ arguments: args }) => {
  const requested = args?.["sessionId"]
  if (sessionId === undefined) {
    sessionId = typeof requested === "string" && requested.length > 0 ? requested : "default"
    ui.sessionId.textContent = sessionId
    startPolling()
  }
}
app.ontoolresult = (result) => {
  take(readResult(result as ToolResultLike, sessionId))
  startPolling()
}
app.ontoolcancelled = () => say("The assistant's call was cancelled; the card keeps checking the session.")
app.onhostcontextchanged = applyHostContext
app.onteardown = async () => {
  stop()
  return {}
}

setInterval(showRotation, 1_000)

app.connect(new PostMessageTransport(window.parent, window.parent)).then(
  () => {
    const context = app.getHostContext()
    if (context) applyHostContext(context)
  },
  (error: unknown) => say(`The card could not connect to the chat: ${String(error)}`, "bad")
)
