/**
 * Where the bars are on an engraved page, for the cursor and for pointing at a bar. verovio draws a bar
 * as the notes and staff lines of a `g.measure`, whose gaps a pointer falls through; here each bar gets
 * the whole height of its line of music (its system) and at least a finger's height, and a point
 * anywhere on the page finds the nearest bar of the nearest line.
 */

/** A rectangle in page pixels (left/top from the page's corner). */
export type Rect = { left: number; top: number; right: number; bottom: number };

/** A bar's drawn measure on a page, and the line of music it is on (its system's box). */
export type MeasureBox = { bar: number; measure: Rect; system: Rect };

/** The area of the page that stands for a bar. */
export type BarBox = Rect & { bar: number };

/** Touch targets at least this tall (WCAG 2.5.5's 44 CSS pixels). */
export const MIN_TARGET_PX = 44;

/**
 * Each bar's area: its measure's width (the first and last bar of a line reach the line's ends, so the
 * clef counts as the first bar), and its line's height, grown to `minHeight` and halfway into the gap to
 * the neighbouring lines.
 */
export function barBoxes(measures: readonly MeasureBox[], minHeight = MIN_TARGET_PX): BarBox[] {
  const lines = linesOf(measures);
  const boxes: BarBox[] = [];
  lines.forEach((line, i) => {
    const above = lines[i - 1];
    const below = lines[i + 1];
    let top = above ? Math.min(line.top, (above.bottom + line.top) / 2) : line.top;
    let bottom = below ? Math.max(line.bottom, (line.bottom + below.top) / 2) : line.bottom;
    if (bottom - top < minHeight) {
      const grow = (minHeight - (bottom - top)) / 2;
      top -= grow;
      bottom += grow;
    }
    line.members.forEach((m, k) => {
      const left = k === 0 ? Math.min(m.measure.left, m.system.left) : m.measure.left;
      const right = k === line.members.length - 1 ? Math.max(m.measure.right, m.system.right) : m.measure.right;
      boxes.push({ bar: m.bar, left, right, top, bottom });
    });
  });
  return boxes;
}

type Line = { top: number; bottom: number; members: MeasureBox[] };

/** Measures grouped by their system, top to bottom, each line's measures left to right. */
function linesOf(measures: readonly MeasureBox[]): Line[] {
  const lines: Line[] = [];
  for (const m of [...measures].sort((a, b) => a.system.top - b.system.top || a.measure.left - b.measure.left)) {
    const line = lines.find((l) => Math.abs(l.top - m.system.top) < 1);
    if (line) line.members.push(m);
    else lines.push({ top: m.system.top, bottom: m.system.bottom, members: [m] });
  }
  return lines;
}

/** The bar at point (x, y) of a page: the box holding it, else the nearest box of the nearest line; -1 if none. */
export function barAt(boxes: readonly BarBox[], x: number, y: number): number {
  let best = -1;
  let bestDistance = Infinity;
  for (const box of boxes) {
    const dy = y < box.top ? box.top - y : y > box.bottom ? y - box.bottom : 0;
    const dx = x < box.left ? box.left - x : x > box.right ? x - box.right : 0;
    // Lines first: a point beside a line belongs to it before a bar of another line that is closer sideways.
    const distance = dy * 1e6 + dx;
    if (distance < bestDistance) {
      bestDistance = distance;
      best = box.bar;
    }
  }
  return best;
}

/**
 * The x (page pixels) of sheet position `q` within a bar from `left` to `right`, running `startQ` to
 * `endQ`: between the notes drawn in it (`anchors`: a note's position and x), in proportion.
 */
export function xAtQuarter(
  anchors: readonly { q: number; x: number }[],
  bar: { startQ: number; endQ: number; left: number; right: number },
  q: number,
): number {
  const inside = anchors.filter((a) => a.q >= bar.startQ && a.q < bar.endQ).sort((a, b) => a.q - b.q);
  const points = [
    ...(inside[0]?.q === bar.startQ ? [] : [{ q: bar.startQ, x: bar.left }]),
    ...inside,
    { q: bar.endQ, x: bar.right },
  ];
  const at = Math.min(bar.endQ, Math.max(bar.startQ, q));
  for (let i = 0; i < points.length - 1; i += 1) {
    const a = points[i];
    const b = points[i + 1];
    if (at <= b.q) return b.q === a.q ? a.x : a.x + ((at - a.q) * (b.x - a.x)) / (b.q - a.q);
  }
  return bar.right;
}
