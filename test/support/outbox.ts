/** A stand-in for the gateway's send that counts what it delivered, for the SendGuard suites. */
import { Effect } from "effect"

export const makeOutbox = () => {
  const delivered: Array<string> = []
  const deliver = (label: string) =>
    Effect.sync(() => {
      delivered.push(label)
      return { messageId: `m${delivered.length}`, details: {} }
    })
  return { delivered, deliver }
}
