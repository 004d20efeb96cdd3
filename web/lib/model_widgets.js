// Which NovelAI Generate widgets apply to a model, and which defaults follow a model change, as
// the web app shows them. The rows come from the Python capability table (capabilities.json,
// written and checked by the Python tests), never from a table of our own. Pure, tested by node.

// Generate widget → the capability flag that makes it apply.
export const FEATURE_WIDGETS = {
  smea: "smea",
  decrisper: "decrisper",
  variety: "variety",
  transparent_background: "transparency",
};
// Widgets whose value is the model's default until the user changes it.
export const DEFAULTED_WIDGETS = ["steps", "scale", "sampler", "noise_schedule"];

/**
 * name → true (applies) / false (does not) for the model and size. An unknown model (a newer
 * table, an old workflow) shows everything: hiding a widget that applies would be worse.
 */
export function widgetStates(caps, model, size) {
  const row = caps?.models?.[model];
  const custom = size === (caps?.custom_size ?? "Custom");
  const states = { width: custom, height: custom };
  for (const [widget, flag] of Object.entries(FEATURE_WIDGETS)) {
    states[widget] = row ? Boolean(row[flag]) : true;
  }
  states.noise_schedule = row ? row.noise_schedules.length > 1 : true;
  states.sampler = row ? row.samplers.length > 1 : true;
  return states;
}

function same(a, b) {
  return typeof a === "number" && typeof b === "number" ? Math.abs(a - b) < 1e-9 : a === b;
}

/**
 * When the model changes from `oldModel` to `newModel`: the widgets still at the old model's
 * default and the new model's default for each ({name: value}). Values the user set stay.
 */
export function defaultsToMove(caps, oldModel, newModel, values) {
  const before = caps?.models?.[oldModel]?.defaults;
  const after = caps?.models?.[newModel]?.defaults;
  const moves = {};
  if (!before || !after) return moves;
  for (const name of DEFAULTED_WIDGETS) {
    if (name in values && same(values[name], before[name]) && !same(before[name], after[name])) {
      moves[name] = after[name];
    }
  }
  return moves;
}
