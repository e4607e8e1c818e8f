import { describe, expect, test } from "vitest";

import {
  barFrom,
  barIndexAt,
  barsFrom,
  beatInBar,
  beatsPerBar,
  beatStartQ,
  clampRate,
  loopBetween,
  loopSpan,
  measuresFrom,
  nextPassRate,
  quartersPerBar,
  quartersPerBeat,
  withLoopEnd,
  withLoopStart,
} from "@/lib/practice/bars";
import { beatClock } from "@/lib/timemap";

// The e2e song: 120 BPM from 0.5 s, four bars of 4/4 (beat_times as hits.json writes them).
const BEATS = Array.from({ length: 17 }, (_, k) => 0.5 + k * 0.5);
const MEASURES = [
  { id: "m1", q: 0 },
  { id: "m2", q: 4 },
  { id: "m3", q: 8 },
  { id: "m4", q: 12 },
];
const bars = barsFrom(MEASURES, beatClock(BEATS), 4);

describe("bars", () => {
  test("the timemap's measures, once each, in sheet order", () => {
    const timemap = [
      { tstamp: 2000, qstamp: 4, measureOn: "m2", on: ["n5"] },
      { tstamp: 0, qstamp: 0, measureOn: "m1", on: ["n1"] },
      { tstamp: 250, qstamp: 0.5, on: ["n2"] },
      { tstamp: 2000, qstamp: 4, measureOn: "m2" },
    ];
    expect(measuresFrom(timemap)).toEqual([
      { id: "m1", q: 0 },
      { id: "m2", q: 4 },
    ]);
  });

  test("bars are heard where the beats put them; the last lasts as long as the one before", () => {
    expect(bars.map((b) => [b.startS, b.endS])).toEqual([
      [0.5, 2.5],
      [2.5, 4.5],
      [4.5, 6.5],
      [6.5, 8.5],
    ]);
    const single = barsFrom([{ id: "only", q: 0 }], beatClock(BEATS), 3);
    expect(single[0].endQ).toBe(3);
  });

  test("a drummer who slows down stretches the bars", () => {
    const slowing = [0, 0.5, 1, 1.5, 2, 2.6, 3.2, 3.8, 4.4];
    const [first, second] = barsFrom(MEASURES.slice(0, 2), beatClock(slowing), 4);
    expect(first.endS - first.startS).toBeCloseTo(2);
    expect(second.endS - second.startS).toBeCloseTo(2.4);
  });

  test("quarter notes in a bar come from the time signature", () => {
    expect(quartersPerBar("4/4")).toBe(4);
    expect(quartersPerBar("3/4")).toBe(3);
    expect(quartersPerBar("6/8")).toBe(3);
    expect(quartersPerBar("7/8")).toBe(3.5);
    expect(quartersPerBar(null)).toBe(4);
    expect(quartersPerBar("common")).toBe(4);
    expect(quartersPerBar("4/0")).toBe(4);
  });

  test("a counted beat is a quarter in x/4, a dotted quarter in 6/8 and 12/8, a half in 2/2", () => {
    expect(["4/4", "3/4", "6/8", "12/8", "2/2", "7/8", null, "common"].map(quartersPerBeat)).toEqual([1, 1, 1.5, 1.5, 2, 0.5, 1, 1]);
  });

  test("the bar heard at a time; none before the first or after the last", () => {
    expect(barIndexAt(bars, 0.2)).toBe(-1);
    expect(barIndexAt(bars, 0.5)).toBe(0);
    expect(barIndexAt(bars, 2.4999999)).toBe(1);
    expect(barIndexAt(bars, 4.49)).toBe(1);
    expect(barIndexAt(bars, 8.49)).toBe(3);
    expect(barIndexAt(bars, 8.6)).toBe(-1);
    expect(barIndexAt([], 1)).toBe(-1);
  });

  test("the beat in a bar counts from 1 on its downbeat", () => {
    expect(beatInBar(bars[1], 4, 1)).toBe(1);
    expect(beatInBar(bars[1], 5.99, 1)).toBe(2);
    expect(beatInBar(bars[1], 7.5, 1)).toBe(4);
    expect(beatInBar(bars[1], 9, 1)).toBe(4);
    expect(beatInBar(bars[1], 3, 1)).toBe(1);
  });

  test("previous and next bar stay on the sheet", () => {
    expect(barFrom(bars, 3, 1)).toBe(2);
    expect(barFrom(bars, 3, -1)).toBe(0);
    expect(barFrom(bars, 0, 1)).toBe(0);
    expect(barFrom(bars, 0, -1)).toBe(0);
    expect(barFrom(bars, 7, 1)).toBe(3);
    expect(barFrom(bars, 9, -1)).toBe(3);
    expect(barFrom([], 1, 1)).toBe(-1);
  });
});

describe("loops", () => {
  test("a loop picked backwards is the same loop", () => {
    expect(loopBetween(2, 1)).toEqual({ first: 1, last: 2 });
    expect(loopBetween(1, 1)).toEqual({ first: 1, last: 1 });
  });

  test("setting the start or the end keeps the loop in order", () => {
    expect(withLoopStart(null, 2)).toEqual({ first: 2, last: 2 });
    expect(withLoopStart({ first: 0, last: 3 }, 2)).toEqual({ first: 2, last: 3 });
    expect(withLoopStart({ first: 0, last: 1 }, 2)).toEqual({ first: 2, last: 2 });
    expect(withLoopEnd(null, 1)).toEqual({ first: 1, last: 1 });
    expect(withLoopEnd({ first: 1, last: 1 }, 3)).toEqual({ first: 1, last: 3 });
    expect(withLoopEnd({ first: 2, last: 3 }, 1)).toEqual({ first: 1, last: 1 });
  });

  test("a loop of bars 2 and 3 repeats from bar 2's start to bar 3's end", () => {
    expect(loopSpan(bars, { first: 1, last: 2 })).toEqual({ startS: 2.5, endS: 6.5 });
    expect(loopSpan(bars, { first: 3, last: 3 })).toEqual({ startS: 6.5, endS: 8.5 });
    expect(loopSpan(bars, { first: 2, last: 7 })).toBeNull();
    expect(loopSpan(bars, { first: 2, last: 1 })).toBeNull();
  });

  test("each pass a little faster, up to the cap; a faster loop stays as it is", () => {
    expect(nextPassRate(70, 5, 100)).toBe(75);
    expect(nextPassRate(98, 5, 100)).toBe(100);
    expect(nextPassRate(100, 5, 100)).toBe(100);
    expect(nextPassRate(120, 5, 100)).toBe(120);
  });

  test("speeds stay within 50–150 %", () => {
    expect(clampRate(45)).toBe(50);
    expect(clampRate(151)).toBe(150);
    expect(clampRate(87.4)).toBe(87);
  });
});

// A 6/8 song and a 12/8 one: beat_times are dotted quarters, 0.75 s apart from 0.5 s (80 per minute).
const COMPOUND_BEATS = Array.from({ length: 13 }, (_, k) => 0.5 + k * 0.75);
const clock68 = beatClock(COMPOUND_BEATS, quartersPerBeat("6/8"));
const bars68 = barsFrom([{ id: "m1", q: 0 }, { id: "m2", q: 3 }, { id: "m3", q: 6 }], clock68, quartersPerBar("6/8"));
const bars128 = barsFrom([{ id: "m1", q: 0 }, { id: "m2", q: 6 }], clock68, quartersPerBar("12/8"));

describe("beats of compound metres", () => {
  test("a bar counts two beats in 6/8, four in 12/8, as many as its quarters in x/4", () => {
    expect(["6/8", "12/8", "4/4", "3/4", null].map(beatsPerBar)).toEqual([2, 4, 4, 3, 4]);
  });

  test("6/8: a bar's beats are its two dotted quarters, each on a beat of beat_times", () => {
    const beat = (audioS: number) => beatInBar(bars68[1], clock68.toSheet(audioS), 1.5);
    expect(bars68[1].startS).toBe(COMPOUND_BEATS[2]);
    expect(beat(COMPOUND_BEATS[2])).toBe(1);
    expect(beat(COMPOUND_BEATS[3] - 0.01)).toBe(1);
    expect(beat(COMPOUND_BEATS[3])).toBe(2);
    expect(beat(COMPOUND_BEATS[4] - 0.01)).toBe(2);
    expect(beatInBar(bars68[1], 9, 1.5)).toBe(2);
  });

  test("12/8: four beats a bar, the last one three eighths before the next bar", () => {
    expect([6, 7.4, 7.5, 9, 10.5, 11.99].map((q) => beatInBar(bars128[1], q, 1.5))).toEqual([1, 1, 2, 3, 4, 4]);
  });

  test("the beat marker stands where the counted beat starts", () => {
    expect([1, 2].map((b) => beatStartQ(bars68[1], b, 1.5))).toEqual([3, 4.5]);
    expect(beatStartQ(bars[1], 3, 1)).toBe(6);
  });
});
