import { test } from "node:test";
import assert from "node:assert/strict";
import { debounce, latestOnly, LruCache } from "../../web/lib/debounce.js";

test("a debounced function runs once, with the last arguments, after the quiet time", (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const calls = [];
  const d = debounce((v) => calls.push(v), 300);
  d(1); d(2);
  t.mock.timers.tick(299);
  d(3);
  t.mock.timers.tick(299);
  assert.deepEqual(calls, []);
  t.mock.timers.tick(1);
  assert.deepEqual(calls, [3]);
});

test("cancel drops the pending call", (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const calls = [];
  const d = debounce(() => calls.push(1), 100);
  d();
  assert.equal(d.pending(), true);
  d.cancel();
  t.mock.timers.tick(500);
  assert.deepEqual(calls, []);
});

test("only the latest request's answer is delivered; the older one is aborted", async () => {
  const signals = [];
  const resolvers = [];
  const run = latestOnly((signal, v) => {
    signals.push(signal);
    return new Promise((resolve) => resolvers.push(() => resolve(v)));
  });
  const first = run("a");
  const second = run("b");
  assert.equal(signals[0].aborted, true);
  resolvers[1]();
  resolvers[0]();
  assert.deepEqual(await second, { ok: true, result: "b" });
  assert.deepEqual(await first, { ok: false, stale: true });
});

test("a failing request reports its error", async () => {
  const run = latestOnly(async () => { throw new Error("404"); });
  const answer = await run();
  assert.equal(answer.ok, false);
  assert.equal(answer.error.message, "404");
});

test("the cache keeps the most recently used entries", () => {
  const cache = new LruCache(2);
  cache.set("a", 1); cache.set("b", 2);
  cache.get("a");
  cache.set("c", 3);
  assert.equal(cache.get("b"), undefined);
  assert.equal(cache.get("a"), 1);
  assert.equal(cache.get("c"), 3);
});
