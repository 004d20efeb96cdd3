import { test } from "node:test";
import assert from "node:assert/strict";
import { outputText } from "../../web/lib/text.js";

test("a node's ui text lines are joined; outputs without text give null", () => {
  assert.equal(outputText({ text: ["Tier: Opus", "Anlas: 10"] }), "Tier: Opus\nAnlas: 10");
  assert.equal(outputText({ text: "one" }), "one");
  assert.equal(outputText({ images: [] }), null);
  assert.equal(outputText(undefined), null);
});
