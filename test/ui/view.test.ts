import { describe, expect, it } from "vitest"
import { observeQr, type QrClock, readResult, rotationText, stateWords } from "../../src/ui/link/view.js"

const PNG_B64 = "iVBORw0KGgo="

describe("reading the QR tools' results", () => {
  it("get_session_qr with a payload: the payload is drawn", () => {
    expect(readResult({
      content: [{ type: "text", text: "QR code…" }, { type: "image", data: PNG_B64, mimeType: "image/png" }],
      structuredContent: { sessionId: "shop", state: "qr_ready", format: "payload", qr: "2@abc", details: {} }
    }, undefined)).toStrictEqual({
      _tag: "Snapshot",
      snapshot: { sessionId: "shop", state: "qr_ready", linked: false, qr: { kind: "payload", value: "2@abc" }, pairingCode: undefined }
    })
  })

  it("get_session_qr with the gateway's image: its shortened data: URL is not used, the attached image is", () => {
    const reading = readResult({
      content: [{ type: "image", data: PNG_B64, mimeType: "image/png" }],
      structuredContent: { sessionId: "shop", format: "image", qr: "data:image/png;base64,iVBORw0KGgoAAA... (5000 characters)" }
    }, undefined)
    expect(reading).toMatchObject({ snapshot: { qr: { kind: "image", value: `data:image/png;base64,${PNG_B64}` } } })
  })

  it("link_card_state: a whole data: URL, the pairing code, and connected means linked without a QR", () => {
    expect(readResult({
      structuredContent: { sessionId: "s", state: "pairing_code_ready", qrKind: "image", qr: `data:image/png;base64,${PNG_B64}`, pairingCode: "ABCD-1234" }
    }, "s")).toMatchObject({ snapshot: { qr: { kind: "image" }, pairingCode: "ABCD-1234", linked: false } })
    expect(readResult({ structuredContent: { sessionId: "s", state: "connected", qrKind: "payload", qr: "2@old" } }, "s"))
      .toMatchObject({ snapshot: { linked: true, qr: undefined } })
  })

  it("wait_for_session: state only; the session id falls back to the tool input", () => {
    expect(readResult({ structuredContent: { state: "connecting", reachedTarget: false } }, "from-input"))
      .toMatchObject({ snapshot: { sessionId: "from-input", state: "connecting", qr: undefined } })
  })

  it("an error result is shown with its guidance", () => {
    expect(readResult({ content: [{ type: "text", text: "Session not found. Call list_sessions." }], isError: true }, "s"))
      .toStrictEqual({ _tag: "Failed", message: "Session not found. Call list_sessions." })
  })

  it("states read as words", () => {
    expect(stateWords("qr_ready")).toBe("Waiting for you to scan the code")
    expect(stateWords("connected")).toBe("Connected")
    expect(stateWords("weird")).toBe("State: weird")
  })
})

describe("when the QR will change", () => {
  const see = (clock: QrClock | undefined, value: string, atSeconds: number) => observeQr(clock, value, atSeconds * 1000)

  it("the first QR seen may be of any age: only the usual period is said", () => {
    const clock = see(undefined, "qr-1", 0)
    expect(rotationText(clock, 5_000)).toBe("WhatsApp refreshes this code about every 20 s; this card shows each new one.")
    expect(see(clock, "qr-1", 3)).toBe(clock)
  })

  it("a change the card saw starts a countdown from the usual period, two changes measure it", () => {
    const first = see(undefined, "qr-1", 0)
    const second = see(first, "qr-2", 12)
    expect(rotationText(second, 17_000)).toBe("New code in about 15 s.")
    const third = see(second, "qr-3", 37) // 25 s after the last change
    expect(third.periodMs).toBe(25_000)
    expect(rotationText(third, 40_000)).toBe("New code in about 22 s.")
    expect(rotationText(third, 62_000)).toBe("A new code is due any moment.")
  })
})
