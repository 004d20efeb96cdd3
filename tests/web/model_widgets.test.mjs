import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { defaultsToMove, widgetStates } from "../../web/lib/model_widgets.js";

const caps = JSON.parse(readFileSync(new URL("../../web/capabilities.json", import.meta.url)));
const V3 = "nai-diffusion-3";
const V45 = "nai-diffusion-4-5-full";
const V5 = "nai-diffusion-5-full";
const PRESET = "Normal Portrait 832x1216";

test("SMEA and decrisper apply to V3 only, transparency to V5 only", () => {
  for (const [model, row] of Object.entries(caps.models)) {
    const states = widgetStates(caps, model, PRESET);
    assert.equal(states.smea, row.family === "v3", model);
    assert.equal(states.decrisper, row.family === "v3", model);
    assert.equal(states.transparent_background, row.family === "v5", model);
  }
});

test("Variety+ applies where the model has it (not V5)", () => {
  assert.equal(widgetStates(caps, V45, PRESET).variety, true);
  assert.equal(widgetStates(caps, V3, PRESET).variety, true);
  assert.equal(widgetStates(caps, V5, PRESET).variety, false);
});

test("width and height apply only to the Custom size", () => {
  assert.equal(widgetStates(caps, V45, PRESET).width, false);
  assert.equal(widgetStates(caps, V45, "Custom").height, true);
});

test("V5's single noise schedule and V5 Full Medium's single sampler are not choices", () => {
  assert.equal(widgetStates(caps, V5, PRESET).noise_schedule, false);
  assert.equal(widgetStates(caps, "nai-diffusion-5-full-medium", PRESET).sampler, false);
  assert.equal(widgetStates(caps, V45, PRESET).sampler, true);
});

test("an unknown model shows every option", () => {
  const states = widgetStates(caps, "nai-diffusion-9", PRESET);
  assert.equal(states.smea && states.transparent_background && states.variety, true);
});

test("widgets still at the old model's default move to the new model's default", () => {
  const v3 = caps.models[V3].defaults;
  const v5m = caps.models["nai-diffusion-5-full-medium"].defaults;
  const moves = defaultsToMove(caps, V3, "nai-diffusion-5-full-medium", {
    steps: v3.steps, scale: v3.scale, sampler: v3.sampler, noise_schedule: v3.noise_schedule,
  });
  assert.equal(moves.steps, v5m.steps);
  assert.equal(moves.scale, v5m.scale);
  // V3 and V5 both default to karras since the 2024-12 V3 capture (R5); only differing ones move.
  assert.equal("noise_schedule" in moves, v3.noise_schedule !== v5m.noise_schedule);
  assert.equal("sampler" in moves, v3.sampler !== v5m.sampler);
});

test("values the user set are never overwritten", () => {
  const moves = defaultsToMove(caps, V3, V45, { steps: 40, scale: 9.5, noise_schedule: "exponential" });
  assert.deepEqual(moves, {});
});
