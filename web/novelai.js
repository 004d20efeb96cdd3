// NovelAI nodes: the web app's comforts inside ComfyUI. Position picker on NovelAI Character,
// live Anlas estimate on NovelAI Generate, model-aware widgets, a dropped NovelAI image becomes
// its graph, tag suggestions in the prompt boxes, text results drawn on the node.
//
// Uses only the extension API (registerExtension, addDOMWidget, widget callbacks, settings) and
// the pack's own /novelai/* routes. If a route is missing or fails, the nodes work as without the
// extension and the console gets one warning per feature.

import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import { debounce, latestOnly, LruCache } from "./lib/debounce.js";
import { AI_CHOICE, CUSTOM_XY, cellAtPoint, cellCenter, placeOf, pointToXY } from "./lib/grid.js";
import { buildWorkflow } from "./lib/metadata_graph.js";
import { defaultsToMove, widgetStates } from "./lib/model_widgets.js";
import { applySuggestion, formatCount, tagAtCaret } from "./lib/tags.js";
import { outputText } from "./lib/text.js";

const GENERATE = "NovelAI_Generate";
const CHARACTER = "NovelAI_Character";
const TEXT_NODES = new Set(["NovelAI_Account", "NovelAI_TokenCount", "NovelAI_SuggestTags", "NovelAI_VibeStore"]);
const PROMPT_FIELDS = {
  NovelAI_Prompt: ["prompt", "negative"],
  NovelAI_Character: ["prompt", "uc"],
  NovelAI_SuggestTags: ["prompt"],
  NovelAI_TokenCount: ["text"],
};
const SETTING_TAGS = "NovelAI.TagSuggestions";
const SETTING_TIER = "NovelAI.EstimateTier";
const TIERS = ["Paper", "Tablet", "Scroll", "Opus"];
const DEFAULT_MODEL = "nai-diffusion-4-5-full";

let caps = null;
// One console warning at most per page: the first thing that failed says why.
let warned = false;
function warnOnce(_key, message) {
  if (warned) return;
  warned = true;
  console.warn(`NovelAI nodes: ${message} (the nodes work as without the extension)`);
}

// Routes that answered 404 (an older pack or ComfyUI): not asked again in this page.
const missingRoutes = new Set();
async function callRoute(path, options = {}) {
  const route = path.split("?")[0];
  if (missingRoutes.has(route)) throw new Error(`${route} is missing`);
  const response = await api.fetchApi(path, options);
  if (response.status === 404 && !response.headers.get("content-type")?.includes("json")) {
    missingRoutes.add(route);
    throw new Error(`${route} is missing`);
  }
  return response;
}

const typeOf = (node) => node?.comfyClass ?? node?.type;
const widgetOf = (node, name) => node?.widgets?.find((w) => w.name === name);
const valueOf = (node, name) => widgetOf(node, name)?.value;

function setting(id, fallback) {
  try {
    const value = app.extensionManager?.setting?.get?.(id) ?? app.ui?.settings?.getSettingValue?.(id);
    return value ?? fallback;
  } catch {
    return fallback;
  }
}

function redraw(node) {
  node?.setDirtyCanvas?.(true, true);
  node?.graph?.setDirtyCanvas?.(true, true);
}

/** Calls `after(value)` after the widget's own callback whenever the user changes it. */
function afterChange(widget, after) {
  if (!widget) return;
  const original = widget.callback;
  widget.callback = function (value, ...rest) {
    const result = original?.apply(this, [value, ...rest]);
    try {
      after(widget.value);
    } catch (error) {
      warnOnce("callback", `a widget hook failed (${error})`);
    }
    return result;
  };
}

const PANEL_MARGIN = 4;

/** A DOM widget that is not saved in the workflow nor sent with the prompt. */
function addPanel(node, name, element, minHeight) {
  const widget = node.addDOMWidget(name, "novelai", element, {
    serialize: false,
    hideOnZoom: false,
    getValue: () => undefined,
    setValue: () => {},
    getMinHeight: () => minHeight,
    margin: PANEL_MARGIN,
  });
  widget.serialize = false;
  widget.computeSize = (width) => [width, minHeight + 2 * PANEL_MARGIN];
  return widget;
}

function fitHeight(node) {
  const size = node.computeSize?.();
  if (size) node.setSize?.([Math.max(node.size[0], size[0]), size[1]]);
  redraw(node);
}

// ------------------------------------------------------------------ graph walking

function downstream(node) {
  const out = [];
  (node?.outputs ?? []).forEach((_, slot) => out.push(...(node.getOutputNodes?.(slot) ?? [])));
  return out;
}

function upstream(node, inputName) {
  const slot = node?.inputs?.findIndex((i) => i.name === inputName) ?? -1;
  return slot >= 0 ? node.getInputNode?.(slot) ?? null : null;
}

/** The NovelAI Generate node a Prompt or Character chain feeds (through other Characters). */
function generateOf(node, seen = new Set()) {
  if (!node || seen.has(node)) return null;
  seen.add(node);
  if (typeOf(node) === GENERATE) return node;
  for (const next of downstream(node)) {
    const found = generateOf(next, seen);
    if (found) return found;
  }
  return null;
}

/** Every Character node of the chain `node` is in, first to last. */
function chainOf(node) {
  let first = node;
  const seen = new Set([node]);
  for (let prev = upstream(first, "characters"); prev && typeOf(prev) === CHARACTER && !seen.has(prev); prev = upstream(prev, "characters")) {
    seen.add(prev);
    first = prev;
  }
  const chain = [];
  for (let current = first; current && typeOf(current) === CHARACTER && !chain.includes(current); ) {
    chain.push(current);
    current = downstream(current).find((n) => typeOf(n) === CHARACTER && upstream(n, "characters") === current);
  }
  return chain;
}

// ------------------------------------------------------------------ 6. text results on the node

const TEXT_WIDTH = 400;

function showText(node, text) {
  let widget = widgetOf(node, "novelai_text");
  if (!widget) {
    const area = document.createElement("textarea");
    area.className = "novelai-text";
    area.readOnly = true;
    area.spellcheck = false;
    widget = addPanel(node, "novelai_text", area, 90);
    widget.element = area;
  }
  const area = widget.element;
  area.value = text;
  const lines = Math.min(14, Math.max(3, text.split("\n").length + 1));
  const height = lines * 15 + 10;
  widget.computeSize = (width) => [width, height + 2 * PANEL_MARGIN];
  widget.options.getMinHeight = () => height;
  if (node.size[0] < TEXT_WIDTH) node.setSize?.([TEXT_WIDTH, node.size[1]]);
  fitHeight(node);
}

// ------------------------------------------------------------------ 3. model-aware widgets

// A hidden widget takes no room: `hidden` (not drawn), `options.hidden` (Nodes 2.0) and a
// zero-height computeSize, as the canvas lays out every widget, hidden or not.
const ZERO_HEIGHT = () => [0, -4];

function setApplies(widget, applies) {
  if (!widget || Boolean(widget.hidden) === !applies) return false;
  widget.hidden = !applies;
  widget.options = { ...widget.options, hidden: !applies };
  if (!applies) {
    widget.novelaiComputeSize = widget.computeSize;
    widget.computeSize = ZERO_HEIGHT;
  } else if (widget.computeSize === ZERO_HEIGHT) {
    widget.computeSize = widget.novelaiComputeSize;
    if (!widget.computeSize) delete widget.computeSize;
  }
  return true;
}

function applyModelWidgets(node) {
  if (!caps) return;
  const states = widgetStates(caps, valueOf(node, "model"), valueOf(node, "size"));
  let changed = false;
  for (const [name, applies] of Object.entries(states)) changed = setApplies(widgetOf(node, name), applies) || changed;
  if (changed) fitHeight(node);
}

function setupGenerate(node) {
  node.novelaiModel = valueOf(node, "model");
  afterChange(widgetOf(node, "model"), (model) => {
    const values = Object.fromEntries((node.widgets ?? []).map((w) => [w.name, w.value]));
    for (const [name, value] of Object.entries(defaultsToMove(caps, node.novelaiModel, model, values))) {
      widgetOf(node, name).value = value;
    }
    node.novelaiModel = model;
    applyModelWidgets(node);
    refreshPickers();
  });
  afterChange(widgetOf(node, "size"), () => applyModelWidgets(node));
  const line = document.createElement("div");
  line.className = "novelai-cost";
  line.textContent = "…";
  node.novelaiCost = line;
  addPanel(node, "novelai_cost", line, 34);
  applyModelWidgets(node);
}

// ------------------------------------------------------------------ 2. live cost

const estimators = new WeakMap();

function apiIdOf(node, output) {
  const local = String(node.id);
  if (output[local]?.class_type === GENERATE && node.graph === app.graph) return local;
  const ids = Object.keys(output).filter((id) => output[id].class_type === GENERATE && id.endsWith(`:${local}`));
  return ids.length === 1 ? ids[0] : null;
}

async function estimateOne(node, output) {
  let run = estimators.get(node);
  if (!run) {
    run = latestOnly(async (signal, body) => {
      const response = await callRoute("/novelai/estimate", { method: "POST", body: JSON.stringify(body), signal });
      const answer = await response.json();
      if (!response.ok) throw new Error(answer.error ?? `HTTP ${response.status}`);
      return answer;
    });
    estimators.set(node, run);
  }
  const id = apiIdOf(node, output);
  if (id === null) return;
  const tier = TIERS.indexOf(setting(SETTING_TIER, "Opus"));
  const answer = await run({ prompt: output, node: id, tier: tier < 0 ? 3 : tier });
  if (answer.stale) return;
  const line = node.novelaiCost;
  if (!answer.ok) {
    warnOnce("estimate", `no live estimate (${answer.error?.message ?? answer.error})`);
    line.textContent = "";
    return;
  }
  const result = answer.result;
  line.textContent = result.text;
  line.title = result.note || "";
  line.dataset.state = !result.known ? "unknown" : result.refused ? "refused" : result.free ? "free" : "paid";
}

const estimateAll = debounce(async () => {
  const nodes = [...liveGenerates].filter((n) => n.graph && n.novelaiCost);
  if (!nodes.length) return;
  let output;
  try {
    ({ output } = await app.graphToPrompt());
  } catch (error) {
    warnOnce("graphToPrompt", `cannot read the graph for the estimate (${error})`);
    return;
  }
  await Promise.all(nodes.map((n) => estimateOne(n, output)));
}, 400);

const liveGenerates = new Set();

// ------------------------------------------------------------------ 1. position picker

const PAD = 150;
const pickers = new Set();

function freePositions(node) {
  const model = valueOf(generateOf(node), "model");
  return Boolean(caps?.models?.[model]?.free_positions);
}

function placeOfNode(node, free) {
  return placeOf(valueOf(node, "position"), valueOf(node, "x"), valueOf(node, "y"), free);
}

function drawPicker(node) {
  const { canvas, label, choice } = node.novelaiPicker;
  const free = freePositions(node);
  const ctx = canvas.getContext("2d");
  const cell = PAD / 5;
  ctx.clearRect(0, 0, PAD, PAD);
  ctx.fillStyle = "#1d1f24";
  ctx.fillRect(0, 0, PAD, PAD);
  ctx.strokeStyle = free ? "#3a3f4a" : "#555c6b";
  ctx.lineWidth = 1;
  for (let i = 1; i < 5; i++) {
    ctx.beginPath(); ctx.moveTo(i * cell + 0.5, 0); ctx.lineTo(i * cell + 0.5, PAD); ctx.stroke();
    ctx.beginPath(); ctx.moveTo(0, i * cell + 0.5); ctx.lineTo(PAD, i * cell + 0.5); ctx.stroke();
  }
  const chain = chainOf(node);
  chain.forEach((other, index) => {
    if (other === node || valueOf(other, "enabled") === false) return;
    const place = placeOfNode(other, free);
    if (!place) return;
    ctx.fillStyle = "rgba(160, 170, 190, 0.35)";
    ctx.beginPath(); ctx.arc(place[0] * PAD, place[1] * PAD, 9, 0, 2 * Math.PI); ctx.fill();
    ctx.fillStyle = "rgba(230, 235, 245, 0.6)";
    ctx.font = "10px sans-serif"; ctx.textAlign = "center"; ctx.textBaseline = "middle";
    ctx.fillText(String(index + 1), place[0] * PAD, place[1] * PAD);
  });
  const position = valueOf(node, "position");
  const own = placeOfNode(node, free);
  if (own && position !== CUSTOM_XY) {
    const [cx, cy] = cellCenter(position);
    ctx.fillStyle = "rgba(90, 150, 255, 0.35)";
    ctx.fillRect(Math.floor(cx * 5) * cell + 1, Math.floor(cy * 5) * cell + 1, cell - 1, cell - 1);
  }
  if (own) {
    ctx.fillStyle = "#5a96ff";
    ctx.beginPath(); ctx.arc(own[0] * PAD, own[1] * PAD, 9, 0, 2 * Math.PI); ctx.fill();
    ctx.fillStyle = "#fff"; ctx.font = "bold 10px sans-serif"; ctx.textAlign = "center"; ctx.textBaseline = "middle";
    ctx.fillText(String(chain.indexOf(node) + 1 || ""), own[0] * PAD, own[1] * PAD);
  }
  const where = position === CUSTOM_XY ? `x ${Number(valueOf(node, "x")).toFixed(2)}, y ${Number(valueOf(node, "y")).toFixed(2)}` : position;
  label.textContent = `${where}${free ? " — free positions: click anywhere; double-click snaps to a cell" : ""}`;
  choice.classList.toggle("active", position === AI_CHOICE);
}

function setPosition(node, position, x, y) {
  const set = (name, value) => {
    const w = widgetOf(node, name);
    if (!w || value === undefined) return;
    w.value = value;
    w.callback?.(value);
  };
  set("x", x);
  set("y", y);
  set("position", position);
  node.graph?.change?.();
}

function setupCharacter(node) {
  const box = document.createElement("div");
  box.className = "novelai-picker";
  const canvas = document.createElement("canvas");
  canvas.width = PAD;
  canvas.height = PAD;
  canvas.title = "Where this character stands (columns A-E, rows 1-5)";
  const side = document.createElement("div");
  side.className = "novelai-picker-side";
  const choice = document.createElement("button");
  choice.textContent = AI_CHOICE;
  const label = document.createElement("div");
  label.className = "novelai-picker-label";
  side.append(choice, label);
  box.append(canvas, side);
  node.novelaiPicker = { canvas, label, choice };
  const point = (event) => {
    const rect = canvas.getBoundingClientRect();
    return [((event.clientX - rect.left) / rect.width) * PAD, ((event.clientY - rect.top) / rect.height) * PAD];
  };
  canvas.addEventListener("click", (event) => {
    const [px, py] = point(event);
    if (freePositions(node)) {
      const [x, y] = pointToXY(px, py, PAD);
      setPosition(node, CUSTOM_XY, x, y);
    } else {
      setPosition(node, cellAtPoint(px, py, PAD));
    }
  });
  canvas.addEventListener("dblclick", (event) => {
    const [px, py] = point(event);
    setPosition(node, cellAtPoint(px, py, PAD));
  });
  choice.addEventListener("click", () => setPosition(node, AI_CHOICE));
  addPanel(node, "novelai_position", box, PAD + 8);
  for (const name of ["position", "x", "y", "enabled"]) {
    afterChange(widgetOf(node, name), () => {
      updateXY(node);
      refreshPickers();
    });
  }
  pickers.add(node);
  updateXY(node);
}

function updateXY(node) {
  const custom = valueOf(node, "position") === CUSTOM_XY;
  const a = setApplies(widgetOf(node, "x"), custom);
  const b = setApplies(widgetOf(node, "y"), custom);
  if (a || b) fitHeight(node);
}

const refreshPickers = debounce(() => {
  for (const node of pickers) {
    if (!node.graph) continue;
    try {
      drawPicker(node);
    } catch (error) {
      warnOnce("picker", `position picker not drawn (${error})`);
    }
  }
}, 30);

// ------------------------------------------------------------------ 5. tag suggestions

const tagCache = new LruCache(300);
let menu = null;

function closeMenu() {
  menu?.element.remove();
  menu = null;
}

function modelForPrompt(node) {
  const model = valueOf(node, "model") ?? valueOf(generateOf(node), "model");
  return caps?.models?.[model] ? model : DEFAULT_MODEL;
}

const fetchTags = latestOnly(async (signal, model, query) => {
  const key = `${model}\n${query}`;
  const cached = tagCache.get(key);
  if (cached) return cached;
  const params = new URLSearchParams({ model, prompt: query, lang: "en" });
  const response = await callRoute(`/novelai/suggest-tags?${params}`, { signal });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const tags = (await response.json()).tags ?? [];
  tagCache.set(key, tags);
  return tags;
});

function showMenu(area, span, tags) {
  closeMenu();
  if (!tags.length) return;
  const element = document.createElement("div");
  element.className = "novelai-tags";
  const rect = area.getBoundingClientRect();
  element.style.left = `${rect.left}px`;
  element.style.top = `${rect.bottom + 2}px`;
  menu = { element, area, span, tags, index: 0 };
  tags.slice(0, 10).forEach((tag, i) => {
    const row = document.createElement("div");
    row.className = "novelai-tag";
    row.innerHTML = "<span></span><small></small>";
    row.firstChild.textContent = tag.tag;
    row.lastChild.textContent = formatCount(tag.count);
    row.addEventListener("mousedown", (event) => {
      event.preventDefault();
      choose(i);
    });
    element.append(row);
  });
  document.body.append(element);
  highlight();
}

function highlight() {
  [...menu.element.children].forEach((row, i) => row.classList.toggle("active", i === menu.index));
}

function choose(index) {
  const { area, span, tags } = menu;
  const { text, caret } = applySuggestion(area.value, span, tags[index].tag);
  closeMenu();
  area.value = text;
  area.setSelectionRange(caret, caret);
  area.dispatchEvent(new Event("input", { bubbles: true }));
  area.dispatchEvent(new Event("change", { bubbles: true }));
}

/** The NovelAI Prompt/Character node a textarea belongs to, or null. */
function promptNodeOf(area) {
  const nodeEl = area.closest?.("[data-node-id]");
  const candidates = nodeEl
    ? [app.canvas?.graph?.getNodeById?.(nodeEl.dataset.nodeId)]
    : (app.canvas?.graph?._nodes ?? app.canvas?.graph?.nodes ?? []);
  for (const node of candidates) {
    const fields = PROMPT_FIELDS[typeOf(node)];
    if (!fields) continue;
    if (nodeEl) return node;
    if (fields.some((name) => widgetOf(node, name)?.inputEl === area)) return node;
  }
  return null;
}

const suggest = debounce(async (area) => {
  const node = promptNodeOf(area);
  const span = node ? tagAtCaret(area.value, area.selectionStart) : null;
  if (!span || span.query.length < 2) return closeMenu();
  const answer = await fetchTags(modelForPrompt(node), span.query);
  if (answer.stale) return;
  if (!answer.ok) {
    warnOnce("tags", `no tag suggestions (${answer.error?.message ?? answer.error})`);
    return closeMenu();
  }
  if (document.activeElement === area) showMenu(area, span, answer.result);
}, 250);

function setupTagSuggestions() {
  document.addEventListener("input", (event) => {
    const area = event.target;
    if (area?.tagName !== "TEXTAREA" || area.classList.contains("novelai-text")) return;
    if (!setting(SETTING_TAGS, true)) return closeMenu();
    if (event.isTrusted) suggest(area);
  }, true);
  document.addEventListener("keydown", (event) => {
    if (!menu || event.target !== menu.area) return;
    const count = menu.element.children.length;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      menu.index = (menu.index + (event.key === "ArrowDown" ? 1 : count - 1)) % count;
      highlight();
    } else if (event.key === "Enter" || event.key === "Tab") {
      choose(menu.index);
    } else if (event.key === "Escape") {
      closeMenu();
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  }, true);
  document.addEventListener("focusout", () => setTimeout(() => {
    if (menu && document.activeElement !== menu.area) closeMenu();
  }, 100), true);
}

// ------------------------------------------------------------------ 4. drop a NovelAI image

const IMAGE_TYPES = new Set(["image/png", "image/webp", "image/jpeg"]);

async function nodeDefs(types) {
  const entries = await Promise.all(types.map(async (type) => {
    const response = await api.fetchApi(`/object_info/${type}`);
    return response.ok ? [type, (await response.json())[type]] : [type, undefined];
  }));
  return Object.fromEntries(entries.filter(([, def]) => def));
}

async function openNovelAIImage(file) {
  let answer = null;
  try {
    const response = await callRoute("/novelai/image-graph", { method: "POST", body: file });
    if (response.ok) answer = await response.json();
  } catch (error) {
    warnOnce("drop", `cannot read the dropped image (${error})`);
  }
  if (!answer?.novelai || answer.comfy_workflow) return app.handleFile(file);
  const defs = await nodeDefs(["NovelAI_Prompt", CHARACTER, GENERATE, "NovelAI_SavePNG", "SaveImage"]);
  const workflow = buildWorkflow(answer.parameters, defs, caps, DEFAULT_MODEL);
  await app.loadGraphData(workflow, true, true, file.name.replace(/\.[^.]+$/, ""));
}

function setupDrop() {
  window.addEventListener("drop", (event) => {
    const file = event.dataTransfer?.files?.[0];
    if (!file || !IMAGE_TYPES.has(file.type) || app.dragOverNode) return;
    if (event.target?.closest?.("textarea, input, .p-dialog, .p-drawer")) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    openNovelAIImage(file).catch((error) => {
      warnOnce("drop", `dropped image not opened (${error})`);
      app.handleFile(file);
    });
  }, true);
}

// ------------------------------------------------------------------ the extension

const STYLE = `
.novelai-text { width: 100%; height: 100%; box-sizing: border-box; resize: none; font: 11px/15px monospace;
  background: var(--comfy-input-bg, #222); color: var(--input-text, #ddd); border: 1px solid var(--border-color, #444);
  border-radius: 4px; padding: 4px; white-space: pre-wrap; overflow: auto; user-select: text; }
.novelai-cost { font: 12px/15px sans-serif; padding: 2px 6px; color: var(--input-text, #ddd);
  overflow: hidden; }
.novelai-cost[data-state=free] { color: #7bd88f; }
.novelai-cost[data-state=paid] { color: #ffd166; }
.novelai-cost[data-state=refused] { color: #ff6b6b; }
.novelai-cost[data-state=unknown] { color: #999; }
.novelai-picker { display: flex; gap: 8px; align-items: flex-start; padding: 2px 4px; }
.novelai-picker canvas { width: ${PAD}px; height: ${PAD}px; cursor: crosshair; border-radius: 4px; flex: none; }
.novelai-picker-side { display: flex; flex-direction: column; gap: 6px; font: 11px sans-serif;
  color: var(--input-text, #ddd); min-width: 0; }
.novelai-picker-side button { font: 11px sans-serif; padding: 2px 6px; background: var(--comfy-input-bg, #333);
  color: var(--input-text, #ddd); border: 1px solid var(--border-color, #555); border-radius: 4px; cursor: pointer; }
.novelai-picker-side button.active { background: #2f5fb3; color: #fff; }
.novelai-tags { position: fixed; z-index: 10000; background: var(--comfy-menu-bg, #2b2b2b); border: 1px solid var(--border-color, #555);
  border-radius: 4px; font: 12px sans-serif; color: var(--input-text, #ddd); min-width: 180px; box-shadow: 0 4px 12px #0008; }
.novelai-tag { display: flex; justify-content: space-between; gap: 16px; padding: 3px 8px; cursor: pointer; }
.novelai-tag small { opacity: 0.6; }
.novelai-tag.active { background: #2f5fb3; color: #fff; }
`;

async function loadCapabilities() {
  try {
    const response = await fetch(new URL("./capabilities.json", import.meta.url));
    if (response.ok) caps = await response.json();
  } catch (error) {
    warnOnce("caps", `model capabilities not loaded (${error}); every widget stays visible`);
  }
}

function watchNode(node) {
  const type = typeOf(node);
  if (!type?.startsWith("NovelAI_")) return;
  for (const widget of node.widgets ?? []) {
    if (widget.serialize !== false) afterChange(widget, () => estimateAll());
  }
}

app.registerExtension({
  name: "NovelAI.Nodes",
  settings: [
    {
      id: SETTING_TAGS,
      name: "NovelAI: tag suggestions while typing in prompt boxes",
      type: "boolean",
      defaultValue: true,
      category: ["NovelAI", "Prompt", "Tag suggestions"],
    },
    {
      id: SETTING_TIER,
      name: "NovelAI: subscription tier for the live cost when no token is set",
      type: "combo",
      options: TIERS,
      defaultValue: "Opus",
      category: ["NovelAI", "Cost", "Tier without token"],
    },
  ],
  async setup() {
    const style = document.createElement("style");
    style.textContent = STYLE;
    document.head.append(style);
    await loadCapabilities();
    setupTagSuggestions();
    setupDrop();
    // Connections and edits the widget hooks do not see (the workflow's change tracker).
    api.addEventListener("graphChanged", () => {
      estimateAll();
      refreshPickers();
    });
    for (const node of liveGenerates) applyModelWidgets(node);
    estimateAll();
    refreshPickers();
  },
  async beforeRegisterNodeDef(nodeType, nodeData) {
    if (!TEXT_NODES.has(nodeData.name)) return;
    const executed = nodeType.prototype.onExecuted;
    nodeType.prototype.onExecuted = function (output) {
      const result = executed?.apply(this, arguments);
      const text = outputText(output);
      if (text !== null) showText(this, text);
      return result;
    };
  },
  nodeCreated(node) {
    const type = typeOf(node);
    try {
      if (type === GENERATE) {
        setupGenerate(node);
        liveGenerates.add(node);
      } else if (type === CHARACTER) {
        setupCharacter(node);
      } else if (TEXT_NODES.has(type) && node.size?.[0] < TEXT_WIDTH) {
        // A fresh Account node is too narrow for its title; a saved size is restored later.
        node.setSize?.([TEXT_WIDTH, node.size[1]]);
      }
      watchNode(node);
    } catch (error) {
      warnOnce("setup", `${type} extras not added (${error})`);
    }
    const removed = node.onRemoved;
    node.onRemoved = function (...args) {
      liveGenerates.delete(this);
      pickers.delete(this);
      estimateAll();
      refreshPickers();
      return removed?.apply(this, args);
    };
    const configured = node.onConfigure;
    node.onConfigure = function (...args) {
      const result = configured?.apply(this, args);
      if (type === GENERATE) {
        this.novelaiModel = valueOf(this, "model");
        applyModelWidgets(this);
      } else if (type === CHARACTER) {
        updateXY(this);
      }
      estimateAll();
      refreshPickers();
      return result;
    };
  },
  afterConfigureGraph() {
    estimateAll();
    refreshPickers();
  },
});
