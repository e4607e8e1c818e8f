import { describe, expect, test } from "vitest";

import { timeOfStep, type RevisionHit } from "@/lib/editor/edits";
import { barCells, barGrid, beatAt, cellKey, gridSteps, hitsDocument, shiftedDownbeat, stepName, stepOf, stepsPerBeat } from "@/lib/editor/grid";

// 120 BPM from 0.5 s, a drummer who slows a little in the third beat.
const BEATS = [0.5, 1.0, 1.5, 2.1, 2.6, 3.1, 3.6, 4.1, 4.6];

function hit(time: number, instrument: RevisionHit["instrument"] = "snare"): RevisionHit {
  return { time, instrument, velocity: 90, accent: false, ghost: false };
}

describe("the step grid", () => {
  test("beatAt inverts the beat grid, between beats and past both ends", () => {
    expect(beatAt(BEATS, 0.5)).toBe(0);
    expect(beatAt(BEATS, 1.8)).toBeCloseTo(2.5);
    expect(beatAt(BEATS, 0.25)).toBeCloseTo(-0.5);
    expect(beatAt(BEATS, 4.85)).toBeCloseTo(8.5);
  });

  test("a bar's grid starts and ends on the nearest beats", () => {
    expect(barGrid(BEATS, { startS: 0.51, endS: 2.58 })).toEqual({ firstBeat: 0, beats: 4, stepsPerBeat: 4 });
    expect(barGrid(BEATS, { startS: 2.6, endS: 4.6 })).toEqual({ firstBeat: 4, beats: 4, stepsPerBeat: 4 });
    // A last bar that runs past the beats is measured at their spacing.
    expect(barGrid(BEATS, { startS: 4.6, endS: 5.6 })).toEqual({ firstBeat: 8, beats: 2, stepsPerBeat: 4 });
  });

  test("a beat has four 16ths, six in 6/8 and 12/8 (a dotted quarter), eight in 2/2 (a half)", () => {
    expect(["4/4", "3/4", "7/4", "6/8", "12/8", "3/8", "2/2", null, "odd"].map(stepsPerBeat)).toEqual([4, 4, 4, 6, 6, 6, 8, 4, 4]);
    // 6/8 at 60 dotted quarters a minute: bar 1 is beats 0 and 1, twelve 16ths.
    const grid = barGrid(BEATS, { startS: 0.5, endS: 1.5 }, stepsPerBeat("6/8"));
    expect(gridSteps(grid)).toBe(12);
    // The third 8th of beat 2 (its fifth 16th), and a note added there lands back in it.
    expect(stepOf(BEATS, grid, 1.0 + (0.5 * 4) / 6)).toBe(10);
    expect(stepOf(BEATS, grid, timeOfStep(BEATS, 0, 10, 6))).toBe(10);
    const cells = barCells([hit(1.0 + 0.5 / 3, "kick"), hit(1.49, "kick")], BEATS, grid);
    expect([...cells]).toEqual([[cellKey("kick", 8), 0]]);
  });

  test("hits fall in their nearest 16th; those outside the bar are left out; one per cell", () => {
    const grid = { firstBeat: 0, beats: 4, stepsPerBeat: 4 };
    const hits = [hit(0.49, "kick"), hit(0.5), hit(1.25), hit(1.27), hit(1.8), hit(2.6), hit(0.3)];
    expect(stepOf(BEATS, grid, 1.8)).toBe(10);
    const cells = barCells(hits, BEATS, grid);
    expect([...cells]).toEqual([
      [cellKey("kick", 0), 0],
      [cellKey("snare", 0), 1],
      [cellKey("snare", 6), 2],
      [cellKey("snare", 10), 4],
    ]);
    // A note added on a step lands back in that step.
    expect(stepOf(BEATS, grid, timeOfStep(BEATS, 0, 13))).toBe(13);
  });

  test("steps are counted 1 e & a; in 6/8 the 8ths are counted 1 to 6", () => {
    expect([0, 1, 2, 3, 4, 7].map((s) => stepName(s))).toEqual(["1", "e", "&", "a", "2", "a"]);
    expect([0, 1, 2, 4, 6, 10, 11].map((s) => stepName(s, 6))).toEqual(["1", "&", "2", "3", "4", "6", "&"]);
    expect([0, 1, 2, 4, 6, 8, 14].map((s) => stepName(s, 8))).toEqual(["1", "·", "e", "&", "a", "2", "a"]);
  });

  test("bar 1 moves by whole beats, and stays on the beats", () => {
    expect(shiftedDownbeat(BEATS, 0.52, 1)).toBe(1.0);
    expect(shiftedDownbeat(BEATS, 1.0, -1)).toBe(0.5);
    expect(shiftedDownbeat(BEATS, 0.5, -1)).toBe(0.5);
    expect(shiftedDownbeat(BEATS, 4.6, 3)).toBe(4.6);
  });

  test("hits.json is read with its marks; a document without a beat grid is refused", () => {
    const doc = hitsDocument({
      hits: [{ time: 1, instrument: "kick", velocity: 100, confidence: 0.9 }, { time: 2, instrument: "cowbell", velocity: 1 }],
      beat_times: [0.5, 1],
      downbeat_times: [0.5],
    });
    expect(doc).toEqual({
      hits: [{ time: 1, instrument: "kick", velocity: 100, accent: false, ghost: false }],
      beatTimes: [0.5, 1],
      downbeatTimes: [0.5],
    });
    expect(hitsDocument({ hits: [], beat_times: [1] })).toBeNull();
    expect(hitsDocument(null)).toBeNull();
  });
});
