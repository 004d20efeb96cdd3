// The tag being typed in a prompt and how a chosen suggestion replaces it. Pure, tested by node.

const SEPARATORS = /[,\n|]/;
// Weight syntax before a tag: braces/brackets/parentheses and "1.2::".
const LEADING = /^(\s|[{[(]|-?\d+(\.\d+)?::)*/;

/** {start, end, query} of the tag at the caret (start..end is the typed part), or null. */
export function tagAtCaret(text, caret) {
  let start = caret;
  while (start > 0 && !SEPARATORS.test(text[start - 1])) start -= 1;
  const typed = text.slice(start, caret);
  const lead = typed.match(LEADING)[0].length;
  const query = typed.slice(lead).trimEnd();
  if (!query || /[\]})]|::/.test(query)) return null;
  return { start: start + lead, end: caret, query };
}

/** The text with the typed part replaced by `tag`, followed by ", " unless a separator follows. */
export function applySuggestion(text, span, tag) {
  const after = text.slice(span.end);
  const glue = /^\s*,/.test(after) ? "" : ", ";
  const inserted = tag + glue;
  return {
    text: text.slice(0, span.start) + inserted + after,
    caret: span.start + inserted.length,
  };
}

/** A post count as the web app shows it: 512, 34k, 1.2M. */
export function formatCount(count) {
  if (!Number.isFinite(count)) return "";
  if (count >= 1e6) return `${(count / 1e6).toFixed(count >= 1e7 ? 0 : 1)}M`;
  if (count >= 1e3) return `${Math.round(count / 1e3)}k`;
  return String(count);
}
