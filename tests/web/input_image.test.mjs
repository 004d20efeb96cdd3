import { test } from "node:test";
import assert from "node:assert/strict";
import { isListedImage } from "../../web/lib/input_image.js";

const PLACEHOLDER = "(no PNG, WebP or JPEG in ComfyUI's input folder)";

test("a listed PNG, WebP or JPEG file has a preview", () => {
  const listed = ["a.png", "sub/b.webp", "c.JPG"];
  for (const name of listed) assert.equal(isListedImage(name, listed), true);
});

test("a file a shared workflow names but the input folder lacks has none", () => {
  assert.equal(isListedImage("novelai_example.png", ["other.png"]), false);
});

test("the empty folder's placeholder is not an image even when it is the only option", () => {
  assert.equal(isListedImage(PLACEHOLDER, [PLACEHOLDER]), false);
});

test("no value or no list means no preview", () => {
  assert.equal(isListedImage(undefined, ["a.png"]), false);
  assert.equal(isListedImage("a.png", undefined), false);
});
