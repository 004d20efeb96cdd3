import { test } from "node:test";
import assert from "node:assert/strict";
import {
  AI_CHOICE, CUSTOM_XY, cellAtPoint, cellCenter, exactCell, nearestCell, placeOf, pointToXY,
  snap, VALUES, widgetsForCenter,
} from "../../web/lib/grid.js";
import { readFileSync } from "node:fs";

const caps = JSON.parse(readFileSync(new URL("../../web/capabilities.json", import.meta.url)));

test("the grid values and cells are the Python table's", () => {
  assert.deepEqual(VALUES, caps.grid.values);
  const cells = caps.grid.cells;
  assert.equal(cells.length, 25);
  for (const cell of cells) assert.equal(nearestCell(...cellCenter(cell)), cell);
  assert.deepEqual([caps.positions.ai_choice, caps.positions.custom], [AI_CHOICE, CUSTOM_XY]);
});

test("C3 is the centre, A1 top left and E5 bottom right", () => {
  assert.deepEqual(cellCenter("C3"), [0.5, 0.5]);
  assert.deepEqual(cellCenter("a1"), [0.1, 0.1]);
  assert.deepEqual(cellCenter("E5"), [0.9, 0.9]);
  assert.equal(cellCenter("F1"), null);
  assert.equal(cellCenter(AI_CHOICE), null);
});

test("snapping gives what the SDK's snap_to_grid gives, midpoints included", () => {
  // Python: [snap_to_grid(v) for v in (0.2, 0.4, 0.6, 0.8)] == [0.3, 0.5, 0.5, 0.9]
  assert.deepEqual([0.2, 0.4, 0.6, 0.8].map(snap), [0.3, 0.5, 0.5, 0.9]);
  assert.equal(snap(0.61), 0.7);
  assert.equal(snap(-3), 0.1);
  assert.equal(snap(5), 0.9);
});

test("a click on a 100 px pad picks the cell under it, edges included", () => {
  assert.equal(cellAtPoint(0, 0, 100), "A1");
  assert.equal(cellAtPoint(50, 50, 100), "C3");
  assert.equal(cellAtPoint(99.9, 20, 100), "E2");
  assert.equal(cellAtPoint(100, 100, 100), "E5");
  assert.deepEqual(pointToXY(25, 75, 100), [0.25, 0.75]);
  assert.deepEqual(pointToXY(-5, 130, 100), [0, 1]);
});

test("a character's place follows its widgets; custom x/y snaps unless positions are free", () => {
  assert.equal(placeOf(AI_CHOICE, 0.2, 0.2), null);
  assert.deepEqual(placeOf("B3", 0.2, 0.2), [0.3, 0.5]);
  assert.deepEqual(placeOf(CUSTOM_XY, 0.25, 0.62, true), [0.25, 0.62]);
  assert.deepEqual(placeOf(CUSTOM_XY, 0.25, 0.62, false), [0.3, 0.7]);
});

test("a recorded centre becomes a cell when it is one, custom x/y on free models otherwise", () => {
  assert.deepEqual(widgetsForCenter(null, true), { position: AI_CHOICE, x: 0.5, y: 0.5 });
  assert.deepEqual(widgetsForCenter([0.7, 0.3], true), { position: "D2", x: 0.5, y: 0.5 });
  assert.deepEqual(widgetsForCenter([0.42, 0.3], true), { position: CUSTOM_XY, x: 0.42, y: 0.3 });
  assert.deepEqual(widgetsForCenter([0.42, 0.3], false), { position: "C2", x: 0.5, y: 0.5 });
  assert.equal(exactCell(0.42, 0.3), null);
});
