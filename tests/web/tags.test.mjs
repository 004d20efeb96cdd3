import { test } from "node:test";
import assert from "node:assert/strict";
import { applySuggestion, formatCount, tagAtCaret } from "../../web/lib/tags.js";

test("the tag being typed is the text after the last comma, weights left out", () => {
  assert.deepEqual(tagAtCaret("1girl, long h", 13), { start: 7, end: 13, query: "long h" });
  assert.deepEqual(tagAtCaret("1girl, {{blue", 13), { start: 9, end: 13, query: "blue" });
  assert.deepEqual(tagAtCaret("a,\n1.2::red e", 13), { start: 8, end: 13, query: "red e" });
  assert.equal(tagAtCaret("1girl, ", 7), null);
  assert.equal(tagAtCaret("1girl, {blue}", 13), null);
});

test("a chosen tag replaces the typed part and a separator follows", () => {
  const text = "1girl, long h";
  const span = tagAtCaret(text, text.length);
  assert.deepEqual(applySuggestion(text, span, "long hair"), { text: "1girl, long hair, ", caret: 18 });
  const middle = "long h, smile";
  assert.deepEqual(applySuggestion(middle, tagAtCaret(middle, 6), "long hair"), {
    text: "long hair, smile", caret: 9,
  });
});

test("post counts read as the web app shows them", () => {
  assert.equal(formatCount(512), "512");
  assert.equal(formatCount(34_200), "34k");
  assert.equal(formatCount(1_234_567), "1.2M");
  assert.equal(formatCount(12_000_000), "12M");
});
