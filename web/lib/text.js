// Text results of NovelAI nodes (ui.text), to draw on the node.

/** The text of an `executed` output ({text: [...]}) or null when it has none. */
export function outputText(output) {
  const text = output?.text;
  if (typeof text === "string") return text;
  if (Array.isArray(text) && text.length) return text.map(String).join("\n");
  return null;
}
