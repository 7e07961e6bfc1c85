/** Thrown from a request handler, the SDK answers with this JSON-RPC error code and message as they are. */
export class ProtocolError extends Error {
  constructor(readonly code: number, message: string) {
    super(message)
  }
}
