import { describe, expect, test } from "vitest";

import {
  audioOffsetS,
  beatClock,
  beatTimesOf,
  clockFor,
  cueIndexAt,
  cuesFrom,
  firstHitTime,
  steadyClock,
} from "@/lib/timemap";

// The shape of verovio's renderToTimemap(): onsets and offsets in ms of sheet time, and quarter notes.
const TIMEMAP = [
  { tstamp: 0, qstamp: 0, on: ["kick1", "hh1"], tempo: 120 },
  { tstamp: 250, qstamp: 0.5, on: ["hh2"], off: ["hh1"] },
  { tstamp: 500, qstamp: 1, on: ["snare1"], off: ["kick1", "hh2"] },
  { tstamp: 500, qstamp: 1, on: ["hh3"] },
  { tstamp: 750, qstamp: 1.5, off: ["snare1", "hh3"] },
];

describe("cues", () => {
  test("cues are the onsets, one per time", () => {
    expect(cuesFrom(TIMEMAP)).toEqual([
      { ms: 0, q: 0, ids: ["kick1", "hh1"] },
      { ms: 250, q: 0.5, ids: ["hh2"] },
      { ms: 500, q: 1, ids: ["snare1", "hh3"] },
    ]);
    expect(cuesFrom([])).toEqual([]);
  });

  test("a timemap without qstamps gets them from its tempo", () => {
    expect(cuesFrom([{ tstamp: 0, on: ["a"], tempo: 60 }, { tstamp: 1500, on: ["b"] }]).map((c) => c.q)).toEqual([0, 1.5]);
  });

  test("the cue at a position is the last onset at or before it", () => {
    const cues = cuesFrom(TIMEMAP);
    expect(cueIndexAt(cues, -0.1)).toBe(-1);
    expect(cueIndexAt(cues, 0)).toBe(0);
    expect(cueIndexAt(cues, 0.49)).toBe(0);
    expect(cueIndexAt(cues, 0.5)).toBe(1);
    expect(cueIndexAt(cues, 40)).toBe(2);
    expect(cueIndexAt([], 1)).toBe(-1);
  });

  test("a triplet's rounded qstamp is reached by the position computed for it", () => {
    const cues = [
      { ms: 0, q: 0, ids: ["a"] },
      { ms: 167, q: 0.333333, ids: ["b"] },
    ];
    expect(cueIndexAt(cues, 1 / 3 - 1e-9)).toBe(1);
  });
});

describe("clocks", () => {
  test("the steady clock lines the sheet up with the first hit", () => {
    const cues = cuesFrom(TIMEMAP);
    expect(audioOffsetS(cues, 0.5)).toBe(0.5);
    expect(audioOffsetS([{ ms: 500, q: 1, ids: ["a"] }], 2.5)).toBe(2);
    expect(audioOffsetS(cues, null)).toBe(0);
    expect(audioOffsetS([], 1)).toBe(0);
    const clock = steadyClock(cues, 0.5);
    expect(clock.toSheet(0.5)).toBe(0);
    expect(clock.toSheet(1.5)).toBe(2);
    expect(clock.toAudio(2)).toBe(1.5);
  });

  test("the beat clock follows a drummer who speeds up, and carries on past both ends", () => {
    // Quarters 0.6 s apart, then 0.5 s, then 0.4 s.
    const clock = beatClock([1.0, 1.6, 2.1, 2.5]);
    expect(clock.toSheet(1.0)).toBe(0);
    expect(clock.toSheet(1.3)).toBeCloseTo(0.5);
    expect(clock.toSheet(2.3)).toBeCloseTo(2.5);
    expect(clock.toSheet(0.7)).toBeCloseTo(-0.5);
    expect(clock.toSheet(2.9)).toBeCloseTo(4);
    expect(clock.toAudio(1.5)).toBeCloseTo(1.85);
    expect(clock.toAudio(5)).toBeCloseTo(3.3);
    for (const t of [0.2, 1.1, 1.95, 2.49, 3.7]) expect(clock.toAudio(clock.toSheet(t))).toBeCloseTo(t);
  });

  test("in 6/8 and 12/8 a beat of beat_times is a dotted quarter of the sheet", () => {
    const clock = beatClock([1.0, 2.0, 3.0], 1.5);
    expect(clock.toSheet(2.0)).toBe(1.5);
    expect(clock.toSheet(2.5)).toBeCloseTo(2.25);
    expect(clock.toAudio(3)).toBe(3.0);
    expect(clockFor([], { beat_times: [1.0, 2.0, 3.0] }, 1.5).toAudio(1.5)).toBe(2.0);
  });

  test("hits.json's beat_times are used when they are usable", () => {
    expect(beatTimesOf({ beat_times: [0.5, 1.0, 1.5] })).toEqual([0.5, 1, 1.5]);
    expect(beatTimesOf({ beat_times: [0.5] })).toBeNull();
    expect(beatTimesOf({ beat_times: [1.0, 0.5] })).toBeNull();
    expect(beatTimesOf({ beat_times: [0.5, "x"] })).toBeNull();
    expect(beatTimesOf({ hits: [] })).toBeNull();
    expect(beatTimesOf(null)).toBeNull();
    const cues = cuesFrom(TIMEMAP);
    expect(clockFor(cues, { beat_times: [2.0, 2.4, 2.8], hits: [{ time: 9 }] }).toSheet(2.4)).toBeCloseTo(1);
    // An older result: no beat_times, so the steady tempo from the first hit.
    expect(clockFor(cues, { hits: [{ time: 2.0 }] }).toSheet(2.5)).toBeCloseTo(1);
  });

  test("first hit of a hits.json", () => {
    expect(firstHitTime({ hits: [{ time: 1.25 }, { time: 0.4997 }] })).toBe(0.4997);
    expect(firstHitTime({ hits: [] })).toBeNull();
    expect(firstHitTime(null)).toBeNull();
    expect(firstHitTime({ nothing: true })).toBeNull();
  });
});
