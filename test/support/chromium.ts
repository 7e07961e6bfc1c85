/**
 * The Debian `chromium` driven by playwright-core (browser downloads do not work here), and reading
 * a QR code back out of a screenshot the way a phone camera would: jsQR on the decoded pixels.
 */
import { createRequire } from "node:module"
import { type Browser, chromium } from "playwright-core"

export const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium"

export const launchChromium = (): Promise<Browser> =>
  chromium.launch({
    executablePath: CHROMIUM,
    // CI runs as root, where Chromium refuses its own sandbox.
    args: process.getuid?.() === 0 ? ["--no-sandbox"] : []
  })

interface DecodedPng {
  readonly width: number
  readonly height: number
  readonly data: Buffer
}

const require = createRequire(import.meta.url)
// Both are CommonJS; jsqr's types describe an ES default export, pngjs (a dependency of qrcode) has none.
const jsQR = (require("jsqr") as {
  default: (data: Uint8ClampedArray, width: number, height: number) => { readonly data: string } | null
}).default
const { PNG } = require("pngjs") as { PNG: { sync: { read(png: Buffer): DecodedPng } } }

/** The text of the QR code in a PNG screenshot, or undefined when none can be read. */
export const readQr = (png: Buffer): string | undefined => {
  const image = PNG.sync.read(png)
  return jsQR(new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length), image.width, image.height)
    ?.data
}
