// Whether a Load NovelAI PNG value names an image ComfyUI's input folder holds. Pure, tested by
// node.

const IMAGE_NAME = /\.(png|webp|jpe?g)$/i;

/**
 * True when `value` is one of the listed input files and names an image. A saved workflow may
 * name a file this ComfyUI lacks (a shared example), and an empty input folder lists only the
 * node's "(no PNG, …)" placeholder: neither exists, so neither has a preview to load.
 */
export function isListedImage(value, listed) {
  return typeof value === "string" && IMAGE_NAME.test(value) && Array.isArray(listed) && listed.includes(value);
}
