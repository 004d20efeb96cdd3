// The NovelAI graph that regenerates a dropped image, as a ComfyUI workflow (the JSON ComfyUI
// saves), from the parameters the server read from the image's metadata and the node
// definitions (/object_info). Pure, tested by node.

import { widgetsForCenter } from "./grid.js";

const WIDGET_TYPES = new Set(["INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"]);
export const CONTROL = "control_after_generate";

function inputEntries(def) {
  const out = [];
  for (const group of ["required", "optional"]) {
    const inputs = def?.input?.[group] ?? {};
    const order = def?.input_order?.[group] ?? Object.keys(inputs);
    for (const name of order) if (inputs[name]) out.push([name, inputs[name]]);
  }
  return out;
}

function isWidget(spec) {
  return Array.isArray(spec[0]) || WIDGET_TYPES.has(spec[0]);
}

/** The node's widget values in saved order: [{name, spec}], seed's "control" after the seed. */
export function widgetOrder(def) {
  const order = [];
  for (const [name, spec] of inputEntries(def)) {
    if (!isWidget(spec)) continue;
    order.push({ name, spec });
    if (spec[1]?.control_after_generate) order.push({ name: CONTROL, spec: null });
  }
  return order;
}

/** The node's sockets: [{name, type}] (what links connect to, in slot order). */
export function socketInputs(def) {
  return inputEntries(def)
    .filter(([, spec]) => !isWidget(spec))
    .map(([name, spec]) => ({ name, type: spec[0] }));
}

function accepts(spec, value) {
  if (value === undefined || value === null) return false;
  const options = Array.isArray(spec[0]) ? spec[0] : spec[1]?.options;
  if (Array.isArray(options)) return options.includes(value);
  if (spec[0] === "BOOLEAN") return typeof value === "boolean";
  if (spec[0] === "STRING") return typeof value === "string";
  if (typeof value !== "number" || !Number.isFinite(value)) return false;
  const { min = -Infinity, max = Infinity } = spec[1] ?? {};
  return value >= min && value <= max && (spec[0] !== "INT" || Number.isInteger(value));
}

/** widgets_values: each widget's given value when the widget accepts it, else its default. */
export function widgetValues(def, given) {
  return widgetOrder(def).map(({ name, spec }) => {
    if (!spec) return given[name] ?? "fixed";
    return accepts(spec, given[name]) ? given[name] : spec[1]?.default ?? (Array.isArray(spec[0]) ? spec[0][0] : null);
  });
}

function sizeName(caps, width, height) {
  const match = Object.entries(caps?.sizes ?? {}).find(([, [w, h]]) => w === width && h === height);
  return match ? match[0] : caps?.custom_size ?? "Custom";
}

/** Widget values of the Generate node for the recorded parameters. */
export function generateValues(params, caps, defaultModel) {
  const model = caps?.models?.[params.model] ? params.model : defaultModel;
  return {
    model,
    size: sizeName(caps, params.width, params.height),
    width: params.width,
    height: params.height,
    seed: params.seed,
    [CONTROL]: "fixed",
    steps: params.steps,
    scale: params.scale,
    sampler: params.sampler,
    noise_schedule: params.noise_schedule,
    cfg_rescale: params.cfg_rescale,
    variety: params.variety,
    samples: 1,
    smea: params.smea,
    decrisper: params.decrisper,
    transparent_background: params.transparent_background,
  };
}

/** Prompt widgets: the recorded prompt and UC already hold the quality tags and UC preset. */
export function promptValues(params, caps, model) {
  const presets = caps?.models?.[model]?.uc_presets ?? ["none"];
  return {
    prompt: params.prompt ?? "",
    negative: params.negative ?? "",
    quality_tags: false,
    uc_preset: presets.includes("none") ? "none" : presets[0],
  };
}

/**
 * The workflow: NovelAI Prompt → (Characters chain) → NovelAI Generate → Save NovelAI PNG.
 * `defs` maps node types to their /object_info definitions.
 */
export function buildWorkflow(params, defs, caps, defaultModel) {
  const nodes = [];
  const links = [];
  const add = (type, pos, size, given) => {
    const def = defs[type];
    const node = {
      id: nodes.length + 1,
      type,
      pos,
      size,
      flags: {},
      order: nodes.length,
      mode: 0,
      inputs: socketInputs(def).map(({ name, type: t }) => ({ name, type: t, link: null })),
      outputs: (def.output ?? []).map((t, i) => ({
        name: def.output_name?.[i] ?? t,
        type: t,
        links: [],
        slot_index: i,
      })),
      properties: { "Node name for S&R": type },
      widgets_values: widgetValues(def, given),
    };
    nodes.push(node);
    return node;
  };
  const connect = (from, slot, to, inputName) => {
    const target = to.inputs.findIndex((i) => i.name === inputName);
    const id = links.length + 1;
    const type = from.outputs[slot].type;
    links.push([id, from.id, slot, to.id, target, type]);
    from.outputs[slot].links.push(id);
    to.inputs[target].link = id;
  };

  const generateGiven = generateValues(params, caps, defaultModel);
  const free = Boolean(caps?.models?.[generateGiven.model]?.free_positions);
  const prompt = add("NovelAI_Prompt", [40, 40], [420, 300], promptValues(params, caps, generateGiven.model));
  let previous = null;
  (params.characters ?? []).forEach((character, i) => {
    const given = { prompt: character.prompt, uc: character.uc, enabled: true, ...widgetsForCenter(character.center, free) };
    const node = add("NovelAI_Character", [40 + (i % 3) * 440, 380 + Math.floor(i / 3) * 440], [400, 400], given);
    if (previous) connect(previous, 0, node, "characters");
    previous = node;
  });
  const x = 40 + Math.min(3, Math.max(1, (params.characters ?? []).length)) * 440 + 40;
  const generate = add("NovelAI_Generate", [x, 40], [380, 600], generateGiven);
  connect(prompt, 0, generate, "prompt");
  if (previous) connect(previous, 0, generate, "characters");
  const saveType = defs.NovelAI_SavePNG ? "NovelAI_SavePNG" : "SaveImage";
  const save = add(saveType, [x + 420, 40], [480, 520], {});
  connect(generate, 0, save, "images");
  return {
    last_node_id: nodes.length,
    last_link_id: links.length,
    nodes,
    links,
    groups: [],
    config: {},
    extra: { ds: { scale: 0.8, offset: [0, 0] } },
    version: 0.4,
  };
}
