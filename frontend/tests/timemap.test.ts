import { describe, expect, test } from "vitest";

import { audioOffsetS, cueIndexAt, cuesFrom, firstHitTime } from "@/lib/timemap";

// The shape of verovio's renderToTimemap(): onsets and offsets in ms of sheet time.
const TIMEMAP = [
  { tstamp: 0, qstamp: 0, on: ["kick1", "hh1"], tempo: 120 },
  { tstamp: 250, qstamp: 0.5, on: ["hh2"], off: ["hh1"] },
  { tstamp: 500, qstamp: 1, on: ["snare1"], off: ["kick1", "hh2"] },
  { tstamp: 500, qstamp: 1, on: ["hh3"] },
  { tstamp: 750, qstamp: 1.5, off: ["snare1", "hh3"] },
];

describe("timemap", () => {
  test("cues are the onsets, one per time", () => {
    expect(cuesFrom(TIMEMAP)).toEqual([
      { ms: 0, ids: ["kick1", "hh1"] },
      { ms: 250, ids: ["hh2"] },
      { ms: 500, ids: ["snare1", "hh3"] },
    ]);
    expect(cuesFrom([])).toEqual([]);
  });

  test("the cue at a time is the last onset at or before it", () => {
    const cues = cuesFrom(TIMEMAP);
    expect(cueIndexAt(cues, -10)).toBe(-1);
    expect(cueIndexAt(cues, 0)).toBe(0);
    expect(cueIndexAt(cues, 249)).toBe(0);
    expect(cueIndexAt(cues, 250)).toBe(1);
    expect(cueIndexAt(cues, 10_000)).toBe(2);
    expect(cueIndexAt([], 100)).toBe(-1);
  });

  test("the audio's lead-in lines the sheet up with the first hit", () => {
    const cues = cuesFrom(TIMEMAP);
    expect(audioOffsetS(cues, 0.5)).toBe(0.5);
    expect(audioOffsetS([{ ms: 500, ids: ["a"] }], 2.5)).toBe(2);
    expect(audioOffsetS(cues, null)).toBe(0);
    expect(audioOffsetS([], 1)).toBe(0);
  });

  test("first hit of a hits.json", () => {
    expect(firstHitTime({ hits: [{ time: 1.25 }, { time: 0.4997 }] })).toBe(0.4997);
    expect(firstHitTime({ hits: [] })).toBeNull();
    expect(firstHitTime(null)).toBeNull();
    expect(firstHitTime({ nothing: true })).toBeNull();
  });
});
