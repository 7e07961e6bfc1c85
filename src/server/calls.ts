/**
 * Calls in flight, across every connection of this process: each runs as a fiber, is interrupted
 * when its request is cancelled, and at shutdown gets a grace period before it is answered as stopped.
 */
import { Effect, Exit, Fiber, FiberId, Runtime } from "effect"

export interface Calls {
  /**
   * Runs `effect` in `runtime` until it ends, `signal` aborts (the fiber is interrupted), or shutdown
   * stops it; `undefined` then means the call was cut short.
   */
  readonly run: <A, E, R>(
    runtime: Runtime.Runtime<R>,
    effect: Effect.Effect<A, E, R>,
    signal: AbortSignal
  ) => Promise<Exit.Exit<A, E> | undefined>
  /** Lets calls in flight finish for up to `graceMs`, then answers the rest as stopped. */
  readonly drain: (graceMs: number) => Effect.Effect<void>
  readonly size: () => number
}

export const makeCalls = (): Calls => {
  // Each call with the way to answer it as stopped at once, without waiting for a send that holds its
  // request open until CHATKAZI_TIMEOUT_MS. (One long-lived promise raced by every call would keep
  // every call's result alive.)
  const inFlight = new Map<Fiber.RuntimeFiber<unknown, unknown>, () => void>()

  const run = <A, E, R>(runtime: Runtime.Runtime<R>, effect: Effect.Effect<A, E, R>, signal: AbortSignal) => {
    const fiber = Runtime.runFork(runtime)(effect)
    const cancel = () => fiber.unsafeInterruptAsFork(FiberId.none)
    signal.addEventListener("abort", cancel, { once: true })
    return new Promise<Exit.Exit<A, E> | undefined>((resolve) => {
      inFlight.set(fiber, () => resolve(undefined))
      fiber.addObserver(resolve)
    }).finally(() => {
      signal.removeEventListener("abort", cancel)
      inFlight.delete(fiber)
    })
  }

  const drain = (graceMs: number) =>
    Effect.gen(function*() {
      if (inFlight.size === 0) return
      yield* Effect.logInfo(`Shutting down: waiting up to ${graceMs} ms for ${inFlight.size} call(s) in flight`)
      // Interruptible, or the timeout could not end the wait: a finalizer runs uninterruptibly.
      yield* Fiber.awaitAll([...inFlight.keys()]).pipe(Effect.interruptible, Effect.timeoutOption(graceMs))
      const running = [...inFlight.entries()]
      running.forEach(([, stop]) => stop())
      yield* Effect.forEach(running, ([fiber]) => Fiber.interruptFork(fiber), { discard: true })
      // Let the request handlers write their answers before the transport closes.
      yield* Effect.sleep(20)
    })

  return { run, drain, size: () => inFlight.size }
}
