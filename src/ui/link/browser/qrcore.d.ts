/** The one part of the `qrcode` package the card bundles: its encoder, without renderers. */
declare module "qrcode/lib/core/qrcode.js" {
  export interface BitMatrix {
    readonly size: number
    get(row: number, col: number): boolean | number
  }
  export function create(
    text: string,
    options?: { errorCorrectionLevel?: "L" | "M" | "Q" | "H" }
  ): { readonly modules: BitMatrix }
}
