// The character position grid of the web app: 5x5 cells, columns A-E left to right, rows 1-5
// top to bottom; a cell's centre is one of VALUES on each axis. Pure (no DOM), tested by node.

export const COLUMNS = "ABCDE";
export const ROWS = "12345";
export const VALUES = [0.1, 0.3, 0.5, 0.7, 0.9];
export const AI_CHOICE = "AI's choice";
export const CUSTOM_XY = "custom x/y";

/** Centre [x, y] of a cell such as "C3"; null for anything else. */
export function cellCenter(cell) {
  const name = String(cell ?? "").trim().toUpperCase();
  const col = COLUMNS.indexOf(name[0]);
  const row = ROWS.indexOf(name[1]);
  if (name.length !== 2 || col < 0 || row < 0) return null;
  return [VALUES[col], VALUES[row]];
}

/** The grid value nearest to v, computed as the Python snap_to_grid does (same float sums). */
export function snap(v) {
  let best = VALUES[0];
  for (const g of VALUES) {
    if (Math.abs(g - v) < Math.abs(best - v)) best = g;
  }
  return best;
}

/** The cell whose centre is nearest to (x, y), both 0..1. */
export function nearestCell(x, y) {
  return COLUMNS[VALUES.indexOf(snap(x))] + ROWS[VALUES.indexOf(snap(y))];
}

/** The cell exactly at (x, y) when it is a grid centre, else null. */
export function exactCell(x, y) {
  const cell = nearestCell(x, y);
  const [cx, cy] = cellCenter(cell);
  return Math.abs(cx - x) < 1e-6 && Math.abs(cy - y) < 1e-6 ? cell : null;
}

/** The cell under a point of a square pad of side `size` (px, top-left origin). */
export function cellAtPoint(px, py, size) {
  const clamp = (i) => Math.min(4, Math.max(0, Math.floor(i)));
  return COLUMNS[clamp((px / size) * 5)] + ROWS[clamp((py / size) * 5)];
}

/** A pad point as x/y in 0..1, rounded to 0.01 (the widgets' step). */
export function pointToXY(px, py, size) {
  const unit = (v) => Math.round(Math.min(1, Math.max(0, v / size)) * 100) / 100;
  return [unit(px), unit(py)];
}

/**
 * Where a character stands, from its widgets: [x, y] in 0..1, or null for AI's choice.
 * Custom x/y snaps to the grid unless the model takes free positions (V5), as the SDK sends it.
 */
export function placeOf(position, x, y, freePositions = true) {
  if (position === AI_CHOICE) return null;
  if (position === CUSTOM_XY) return freePositions ? [x, y] : [snap(x), snap(y)];
  return cellCenter(position);
}

/**
 * The widget values for a recorded centre (a dropped image): a grid cell when it is one (or
 * the model snaps to the grid), else custom x/y. null centre → AI's choice.
 */
export function widgetsForCenter(center, freePositions) {
  if (!center) return { position: AI_CHOICE, x: 0.5, y: 0.5 };
  const [x, y] = center;
  const cell = exactCell(x, y) ?? (freePositions ? null : nearestCell(x, y));
  return cell ? { position: cell, x: 0.5, y: 0.5 } : { position: CUSTOM_XY, x, y };
}
