import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { buildWorkflow, CONTROL, widgetOrder, widgetValues } from "../../web/lib/metadata_graph.js";

const read = (path) => JSON.parse(readFileSync(new URL(path, import.meta.url)));
const caps = read("../../web/capabilities.json");
const defs = read("./object_info.json");
const example = read("../../example_workflows/NovelAI several characters.json");
const V45 = "nai-diffusion-4-5-full";

// What the server read from the real sd-metadata__novelai-full-3char.webp (see test_web_routes).
const params = {
  prompt: "2girls, 1boy, dancing", negative: "lowres", seed: 447042893, model: V45,
  width: 1024, height: 1024, steps: 28, scale: 5.0, sampler: "k_euler_ancestral",
  noise_schedule: "karras", cfg_rescale: 0, smea: "off", decrisper: false, variety: false,
  transparent_background: false,
  characters: [
    { prompt: "girl, hatsune miku", uc: "", center: [0.5, 0.3] },
    { prompt: "girl, kagamine rin", uc: "", center: [0.7, 0.7] },
    { prompt: "boy, kagamine len", uc: "", center: null },
  ],
};

test("widget order matches what ComfyUI saves, seed control included", () => {
  for (const node of example.nodes) {
    if (!defs[node.type]) continue;
    assert.equal(widgetOrder(defs[node.type]).length, node.widgets_values.length, node.type);
  }
  const names = widgetOrder(defs.NovelAI_Generate).map((w) => w.name);
  assert.equal(names[names.indexOf("seed") + 1], CONTROL);
});

test("values a widget does not accept fall back to the widget's default", () => {
  const values = widgetValues(defs.NovelAI_Generate, { model: "no-such-model", steps: 9999, smea: "SMEA" });
  const order = widgetOrder(defs.NovelAI_Generate).map((w) => w.name);
  assert.equal(values[order.indexOf("model")], V45);
  assert.equal(values[order.indexOf("steps")], defs.NovelAI_Generate.input.required.steps[1].default);
  assert.equal(values[order.indexOf("smea")], "SMEA");
});

test("a three-character image becomes Prompt, a chain of three Characters, Generate and Save", () => {
  const wf = buildWorkflow(params, defs, caps, V45);
  assert.deepEqual(wf.nodes.map((n) => n.type), [
    "NovelAI_Prompt", "NovelAI_Character", "NovelAI_Character", "NovelAI_Character",
    "NovelAI_Generate", "NovelAI_SavePNG",
  ]);
  const [prompt, c1, c2, c3, generate, save] = wf.nodes;
  assert.deepEqual(prompt.widgets_values, ["2girls, 1boy, dancing", "lowres", false, "standard", "none"]);
  assert.deepEqual(c1.widgets_values, ["girl, hatsune miku", "", "C2", 0.5, 0.5, true]);
  assert.deepEqual(c2.widgets_values.slice(2, 5), ["D4", 0.5, 0.5]);
  assert.deepEqual(c3.widgets_values.slice(2, 5), ["AI's choice", 0.5, 0.5]);
  const g = Object.fromEntries(widgetOrder(defs.NovelAI_Generate).map((w, i) => [w.name, generate.widgets_values[i]]));
  assert.deepEqual(
    [g.model, g.size, g.seed, g[CONTROL], g.steps, g.scale, g.samples],
    [V45, "Normal Square 1024x1024", 447042893, "fixed", 28, 5, 1],
  );
  // links: [id, from node, from slot, to node, to slot, type]
  const byTarget = (id, name) => {
    const node = wf.nodes.find((n) => n.id === id);
    const link = wf.links.find((l) => l[0] === node.inputs.find((i) => i.name === name).link);
    return [link[1], link[2], link[5]];
  };
  assert.deepEqual(byTarget(generate.id, "prompt"), [prompt.id, 0, "NAI_PROMPT"]);
  assert.deepEqual(byTarget(generate.id, "characters"), [c3.id, 0, "NAI_CHARACTERS"]);
  assert.deepEqual(byTarget(c2.id, "characters"), [c1.id, 0, "NAI_CHARACTERS"]);
  assert.deepEqual(byTarget(save.id, "images"), [generate.id, 0, "IMAGE"]);
  assert.equal(wf.last_link_id, wf.links.length);
});

test("an off-grid centre stays free on V5 and snaps on V4.5", () => {
  const one = { ...params, characters: [{ prompt: "x", uc: "", center: [0.42, 0.3] }] };
  const v5 = buildWorkflow({ ...one, model: "nai-diffusion-5-full" }, defs, caps, V45);
  assert.deepEqual(v5.nodes[1].widgets_values.slice(2, 5), ["custom x/y", 0.42, 0.3]);
  const v45 = buildWorkflow(one, defs, caps, V45);
  assert.deepEqual(v45.nodes[1].widgets_values.slice(2, 5), ["C2", 0.5, 0.5]);
});

test("an unknown model and a custom size still give a loadable graph", () => {
  const wf = buildWorkflow({ ...params, model: null, width: 640, height: 960, characters: [] }, defs, caps, V45);
  assert.deepEqual(wf.nodes.map((n) => n.type), ["NovelAI_Prompt", "NovelAI_Generate", "NovelAI_SavePNG"]);
  const values = wf.nodes[1].widgets_values;
  assert.deepEqual(values.slice(0, 4), [V45, "Custom", 640, 960]);
});
