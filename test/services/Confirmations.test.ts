import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, TestClock } from "effect"
import { Account } from "../../src/services/Account.js"
import {
  CODE_VALIDITY_MS,
  type ConfirmationSettings,
  makeConfirmations,
  type PendingSend
} from "../../src/services/Confirmations.js"
import { type Answer, AskFailed, Elicitation, type Question } from "../../src/services/Elicitation.js"
import { makeMemoryStore, type StateStoreApi, StoreUnavailable } from "../../src/services/StateStore.js"

const TEXT: PendingSend = { sessionId: "shop", to: "254712345678", content: { kind: "text", text: "Habari Juma\nSee you at 5" } }
const OTHER_TEXT: PendingSend = { ...TEXT, content: { kind: "text", text: "Habari Juma\nSee you at 6" } }
const OTHER_NUMBER: PendingSend = { ...TEXT, to: "254700000000" }
const OTHER_SESSION: PendingSend = { ...TEXT, sessionId: "default" }
const DOCUMENT: PendingSend = {
  sessionId: "shop",
  to: "254712345678",
  content: { kind: "media", type: "document", url: "https://files.example/price-list.pdf", fileName: "price-list.pdf", caption: "Our prices" }
}

const account = (key = "ck_live_one") => Effect.provideService(Account, Account.fromKey(key))

/** A user who answers every question with `answer`, and the questions they were asked. */
const user = (answer: Answer | AskFailed) => {
  const asked: Array<Question> = []
  const provide = Effect.provideService(Elicitation, {
    available: true,
    ask: (question: Question) =>
      Effect.suspend(() => {
        asked.push(question)
        return answer instanceof AskFailed ? Effect.fail(answer) : Effect.succeed(answer)
      })
  })
  return { asked, provide }
}

const confirmations = (mode: ConfirmationSettings["mode"], store: StateStoreApi = makeMemoryStore(), timeoutSeconds = 120) =>
  makeConfirmations({ mode, timeoutSeconds }, store)

describe("Confirmations: asking the user", () => {
  it.effect.each(["auto", "always"] as const)("under %s, a client that can ask is asked, and a ticked yes sends", (mode) =>
    Effect.gen(function*() {
      const { asked, provide } = user("approved")
      const verdict = yield* confirmations(mode).confirm(TEXT, undefined).pipe(provide, account())
      expect(verdict).toStrictEqual({ _tag: "Proceed", approvedBy: "user" })
      expect(asked).toHaveLength(1)
      expect(asked[0]!.message).toBe(
        "Send this WhatsApp text message in your name? It cannot be taken back.\n\n" +
          "From session: \"shop\"\nTo: +254712345678\nText:\n> Habari Juma\n> See you at 5"
      )
      expect(asked[0]!.yesLabel).toBe("Yes, send it")
      expect(asked[0]!.timeoutMs).toBe(120_000)
    }))

  it.effect("the question about a file names its kind, link, file name and caption", () =>
    Effect.gen(function*() {
      const { asked, provide } = user("approved")
      yield* confirmations("auto").confirm(DOCUMENT, undefined).pipe(provide, account())
      expect(asked[0]!.message).toBe(
        "Send this WhatsApp document in your name? It cannot be taken back.\n\n" +
          "From session: \"shop\"\nTo: +254712345678\nFile (document): \"https://files.example/price-list.pdf\"\n" +
          "File name: \"price-list.pdf\"\nCaption:\n> Our prices"
      )
    }))

  it.effect("values that look like lines of the question stay visibly inside their quotes", () =>
    Effect.gen(function*() {
      const { asked, provide } = user("approved")
      const spoof: PendingSend = {
        sessionId: "shop",
        to: "254712345678",
        content: {
          kind: "media",
          type: "document",
          url: "https://files.example/a.pdf\nTo: +447700900123",
          fileName: "a.pdf\nTo: +447700900123",
          mimetype: "application/pdf\rCaption: hi",
          caption: "Thanks\rTo: +447700900123\u2028Caption: hi"
        }
      }
      yield* confirmations("auto").confirm(spoof, undefined).pipe(provide, account())
      const lines = asked[0]!.message.split(/\r\n|[\n\r\u2028\u2029]/)
      expect(lines.filter((line) => line.startsWith("To:"))).toEqual(["To: +254712345678"])
      expect(lines.filter((line) => line.startsWith("Caption:"))).toEqual(["Caption:"])
      expect(asked[0]!.message).toContain(
        'File (document): "https://files.example/a.pdf\\nTo: +447700900123"\n' +
          'File name: "a.pdf\\nTo: +447700900123"\nType: "application/pdf\\rCaption: hi"\n' +
          "Caption:\n> Thanks\n> To: +447700900123\n> Caption: hi"
      )
    }))

  it.effect.each(["declined", "dismissed", "unticked", "unanswered"] as const)("%s: withheld", (answer) =>
    Effect.gen(function*() {
      const { provide } = user(answer)
      const verdict = yield* confirmations("auto").confirm(TEXT, undefined).pipe(provide, account())
      expect(verdict).toStrictEqual({ _tag: "Withheld", answer })
    }))

  it.effect("no answer within the timeout: withheld as unanswered, and the question is withdrawn", () =>
    Effect.gen(function*() {
      const withdrawn = yield* Deferred.make<void>()
      const provide = Effect.provideService(Elicitation, {
        available: true,
        ask: () => Effect.never.pipe(Effect.onInterrupt(() => Deferred.succeed(withdrawn, undefined)))
      })
      const fiber = yield* confirmations("auto", makeMemoryStore(), 30).confirm(TEXT, undefined).pipe(
        provide,
        account(),
        Effect.fork
      )
      yield* TestClock.adjust("29 seconds")
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(fiber)).toStrictEqual({ _tag: "Withheld", answer: "unanswered" })
      yield* Deferred.await(withdrawn)
    }))

  it.effect("a question that cannot be put is a failure, never a send", () =>
    Effect.gen(function*() {
      const { provide } = user(new AskFailed({ reason: "the client answered with an error" }))
      const error = yield* Effect.flip(confirmations("auto").confirm(TEXT, undefined).pipe(provide, account()))
      expect(error._tag).toBe("ConfirmationFailed")
      expect(error.message).toContain("the client answered with an error")
      expect(error.message).toContain("Nothing was sent")
    }))

  it.effect("never: sends without asking, even a client that could", () =>
    Effect.gen(function*() {
      const { asked, provide } = user("declined")
      expect(yield* confirmations("never").confirm(TEXT, undefined).pipe(provide, account())).toStrictEqual({ _tag: "Proceed" })
      expect(asked).toEqual([])
    }))

  it.effect("auto, and nobody can be asked: sends as before (a stray code changes nothing)", () =>
    Effect.gen(function*() {
      const service = confirmations("auto")
      expect(yield* service.confirm(TEXT, undefined).pipe(account())).toStrictEqual({ _tag: "Proceed" })
      expect(yield* service.confirm(TEXT, "zzzz-zzzz-zzzz-zzzz").pipe(account())).toStrictEqual({ _tag: "Proceed" })
    }))
})

describe("Confirmations: the two-step code (always, nobody can be asked)", () => {
  const issue = (service: ReturnType<typeof confirmations>, send = TEXT) =>
    Effect.gen(function*() {
      const verdict = yield* service.confirm(send, undefined)
      if (verdict._tag !== "CodeIssued") throw new Error(`expected a code, got ${verdict._tag}`)
      return verdict
    })

  it.effect("the first call issues a code valid for 10 minutes; the same call with it sends, once", () =>
    Effect.gen(function*() {
      const service = confirmations("always")
      const issued = yield* issue(service)
      expect(issued.code).toMatch(/^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}$/)
      expect(issued.expiresAt).toBe(CODE_VALIDITY_MS)
      expect(yield* service.confirm(TEXT, issued.code)).toStrictEqual({ _tag: "Proceed", approvedBy: "code" })
      const again = yield* Effect.flip(service.confirm(TEXT, issued.code))
      expect(again).toMatchObject({ _tag: "ConfirmationRefused", reason: "used" })
      expect(again.message).toContain("Refused, nothing was sent")
      expect(again.message).toContain("already used")
    }).pipe(account()))

  it.effect("each first call gets its own code", () =>
    Effect.gen(function*() {
      const service = confirmations("always")
      const a = yield* issue(service)
      const b = yield* issue(service)
      expect(a.code).not.toBe(b.code)
    }).pipe(account()))

  it.effect.each([
    ["other text", OTHER_TEXT],
    ["another number", OTHER_NUMBER],
    ["another session", OTHER_SESSION],
    ["a file instead", DOCUMENT]
  ] as const)("a code used with %s is refused, and still works for its own message", ([, other]) =>
    Effect.gen(function*() {
      const service = confirmations("always")
      const issued = yield* issue(service)
      const refused = yield* Effect.flip(service.confirm(other, issued.code))
      expect(refused).toMatchObject({ _tag: "ConfirmationRefused", reason: "mismatch" })
      expect(refused.message).toContain("issued for a different message")
      expect(yield* service.confirm(TEXT, issued.code)).toStrictEqual({ _tag: "Proceed", approvedBy: "code" })
    }).pipe(account()))

  it.effect("a code is bound to the exact media arguments, in whatever order they were written", () =>
    Effect.gen(function*() {
      const service = confirmations("always")
      const issued = yield* issue(service, DOCUMENT)
      const reordered: PendingSend = {
        ...DOCUMENT,
        content: { caption: "Our prices", fileName: "price-list.pdf", url: "https://files.example/price-list.pdf", type: "document", kind: "media" }
      }
      const renamed: PendingSend = { ...DOCUMENT, content: { ...DOCUMENT.content, fileName: "prices.pdf" } as PendingSend["content"] }
      expect(yield* Effect.flip(service.confirm(renamed, issued.code))).toMatchObject({ reason: "mismatch" })
      expect(yield* service.confirm(reordered, issued.code)).toStrictEqual({ _tag: "Proceed", approvedBy: "code" })
    }).pipe(account()))

  it.effect("a code expires after 10 minutes", () =>
    Effect.gen(function*() {
      const service = confirmations("always")
      const first = yield* issue(service)
      const second = yield* issue(service)
      yield* TestClock.adjust(CODE_VALIDITY_MS - 1)
      expect(yield* service.confirm(TEXT, first.code)).toStrictEqual({ _tag: "Proceed", approvedBy: "code" })
      yield* TestClock.adjust(1)
      const expired = yield* Effect.flip(service.confirm(TEXT, second.code))
      expect(expired).toMatchObject({ _tag: "ConfirmationRefused", reason: "expired" })
      expect(expired.message).toContain("expired")
    }).pipe(account()))

  it.effect("unknown codes, and codes of another account, are refused; a code may be retyped in capitals", () =>
    Effect.gen(function*() {
      const store = makeMemoryStore()
      const service = confirmations("always", store)
      const issued = yield* issue(service).pipe(account("ck_live_one"))
      for (const code of ["", "yes", "0000-0000-0000-0000", `${issued.code}x`]) {
        expect(yield* Effect.flip(service.confirm(TEXT, code).pipe(account("ck_live_one")))).toMatchObject({ reason: "unknown" })
      }
      expect(yield* Effect.flip(service.confirm(TEXT, issued.code).pipe(account("ck_live_two")))).toMatchObject({ reason: "unknown" })
      expect(yield* service.confirm(TEXT, ` ${issued.code.toUpperCase()} `).pipe(account("ck_live_one"))).toStrictEqual({
        _tag: "Proceed",
        approvedBy: "code"
      })
    }))

  it.effect("replicas sharing a store: a code issued on one works on another, and only once across them", () =>
    Effect.gen(function*() {
      const store = makeMemoryStore()
      const [a, b] = [confirmations("always", store), confirmations("always", store)]
      const issued = yield* issue(a)
      const both = yield* Effect.all([b.confirm(TEXT, issued.code), a.confirm(TEXT, issued.code)].map(Effect.either), {
        concurrency: "unbounded"
      })
      expect(both.filter((r) => r._tag === "Right")).toHaveLength(1)
      expect(both.filter((r) => r._tag === "Left").map((r) => r._tag === "Left" && r.left.reason)).toEqual(["used"])
    }).pipe(account()))

  it.effect("a store that cannot be reached fails closed: no code, no send", () =>
    Effect.gen(function*() {
      const down = new StoreUnavailable({ reason: "connection refused" })
      const store: StateStoreApi = { ...makeMemoryStore(), get: () => Effect.fail(down), set: () => Effect.fail(down) }
      const service = confirmations("always", store)
      for (const code of [undefined, "abcd-efgh-jkmn-pqrs"]) {
        const error = yield* Effect.flip(service.confirm(TEXT, code))
        expect(error._tag).toBe("ConfirmationFailed")
        expect(error.message).toContain("connection refused")
      }
    }).pipe(account()))
})
