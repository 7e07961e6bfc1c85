import type { JsonSchemaType } from "@modelcontextprotocol/sdk/validation/types.js"
import { describe, expect, it } from "vitest"
import { flatFormValidator } from "../../src/server/elicitation.js"

const schema: JsonSchemaType = {
  type: "object",
  properties: {
    confirm: { type: "boolean" },
    note: { type: "string" },
    size: { type: "string", enum: ["small", "large"] },
    count: { type: "integer" },
    ratio: { type: "number" }
  },
  required: ["confirm"]
}
const validate = flatFormValidator.getValidator(schema)

describe("flatFormValidator: the answers to our questions, without Ajv", () => {
  it.each([
    [{ confirm: true }],
    [{ confirm: false, note: "later", size: "large", count: 2, ratio: 0.5 }],
    [{ confirm: true, extra: "ignored" }]
  ])("accepts %j as it is", (answer) => {
    expect(validate(answer)).toStrictEqual({ valid: true, data: answer, errorMessage: undefined })
  })

  it.each([
    [{}, '"confirm" is required'],
    [{ confirm: "yes" }, '"confirm" must be of type boolean'],
    [{ confirm: true, note: 1 }, '"note" must be of type string'],
    [{ confirm: true, size: "huge" }, '"size" must be one of the offered choices'],
    [{ confirm: true, count: 1.5 }, '"count" must be of type integer'],
    [{ confirm: true, ratio: "1" }, '"ratio" must be of type number'],
    [null, "the answer is not an object"],
    [[true], "the answer is not an object"]
  ])("refuses %j: %s", (answer, problem) => {
    expect(validate(answer)).toStrictEqual({ valid: false, data: undefined, errorMessage: problem })
  })
})
