import { describe, expect, test } from "vitest";

import { timeOfStep, type RevisionHit } from "@/lib/editor/edits";
import { barCells, barGrid, beatAt, cellKey, hitsDocument, shiftedDownbeat, stepName, stepOf } from "@/lib/editor/grid";

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
    expect(barGrid(BEATS, { startS: 0.51, endS: 2.58 })).toEqual({ firstBeat: 0, beats: 4 });
    expect(barGrid(BEATS, { startS: 2.6, endS: 4.6 })).toEqual({ firstBeat: 4, beats: 4 });
    // A last bar that runs past the beats is measured at their spacing.
    expect(barGrid(BEATS, { startS: 4.6, endS: 5.6 })).toEqual({ firstBeat: 8, beats: 2 });
  });

  test("hits fall in their nearest 16th; those outside the bar are left out; one per cell", () => {
    const grid = { firstBeat: 0, beats: 4 };
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

  test("steps are counted 1 e & a", () => {
    expect([0, 1, 2, 3, 4, 7].map(stepName)).toEqual(["1", "e", "&", "a", "2", "a"]);
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
