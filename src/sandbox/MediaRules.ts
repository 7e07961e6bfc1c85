/**
 * How the sandbox judges a media link without downloading it: the simulated gateway and the
 * sandbox's media check apply the same rules, so nothing ever leaves the machine.
 *
 * - A link whose path contains "empty" (any case) is an empty file, 0 bytes.
 * - The MIME type is guessed from the file extension.
 */

/** True for links the sandbox treats as empty files: their path contains "empty". */
export const isEmptyMediaUrl = (url: string): boolean => {
  if (!URL.canParse(url)) return false
  return new URL(url).pathname.toLowerCase().includes("empty")
}

const MIME_TYPES: Readonly<Record<string, string>> = {
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  gif: "image/gif",
  webp: "image/webp",
  mp4: "video/mp4",
  "3gp": "video/3gpp",
  mp3: "audio/mpeg",
  ogg: "audio/ogg",
  opus: "audio/ogg",
  m4a: "audio/mp4",
  pdf: "application/pdf",
  txt: "text/plain",
  csv: "text/csv",
  doc: "application/msword",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  zip: "application/zip",
  html: "text/html",
  htm: "text/html"
}

/** The MIME type the file's extension suggests, if it has a known one. */
export const guessMimetype = (url: string): string | undefined => {
  if (!URL.canParse(url)) return undefined
  const extension = new URL(url).pathname.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1]
  return extension === undefined ? undefined : MIME_TYPES[extension]
}
