import { describe, expect, test } from "vitest";

import { barsFrom } from "@/lib/practice/bars";
import { beatsOfHits, clickGrid, clickGridFromBars, clicksDue, countIn, firstClickFrom, sheetClickGrid } from "@/lib/practice/clicks";
import { beatClock, steadyClock } from "@/lib/timemap";

// Two bars of 3/4 at 100 BPM from 1 s: a beat every 0.6 s, a bar every 1.8 s.
const BEATS = [1, 1.6, 2.2, 2.8, 3.4, 4.0];
const DOWNBEATS = [1, 2.8];
const grid = clickGrid(BEATS, DOWNBEATS);

const window = { mediaS: 0, contextS: 10, rate: 1, aheadS: 0.12, fromIndex: 0, untilS: Infinity, lateS: 0.03 };

describe("click grid", () => {
  test("a click on every beat, accented on the downbeats", () => {
    expect(grid.map((c) => c.accent)).toEqual([true, false, false, true, false, false]);
    expect(grid.map((c) => c.audioS)).toEqual(BEATS);
  });

  test("a downbeat a hair off its beat (rounding) still accents it; one between beats accents nothing", () => {
    expect(clickGrid([1, 1.5, 2], [1.0004, 1.75]).map((c) => c.accent)).toEqual([true, false, false]);
    expect(clickGrid([1, 1.5], []).map((c) => c.accent)).toEqual([false, false]);
  });

  test("without beat times, every quarter of every bar through the sheet's clock", () => {
    const clock = steadyClock([{ ms: 0, q: 0, ids: ["a"] }, { ms: 500, q: 1, ids: ["b"] }], 0.25);
    const bars = barsFrom([{ id: "m1", q: 0 }, { id: "m2", q: 3 }], clock, 3);
    const clicks = clickGridFromBars(bars, clock, 1);
    expect(clicks.map((c) => c.audioS)).toEqual([0.25, 0.75, 1.25, 1.75, 2.25, 2.75]);
    expect(clicks.map((c) => c.accent)).toEqual([true, false, false, true, false, false]);
  });

  test("hits.json's beats, sorted and cleaned; none when it has none", () => {
    expect(beatsOfHits({ beat_times: [1, "2", 0.5, null], downbeat_times: [0.5] })).toEqual({ beatTimes: [0, 0.5, 1, 2], downbeatTimes: [0.5] });
    expect(beatsOfHits({ beat_times: [1, "x"] }).beatTimes).toEqual([1]);
    expect(beatsOfHits(null)).toEqual({ beatTimes: [], downbeatTimes: [] });
  });

  test("the first click at or after a time", () => {
    expect(firstClickFrom(grid, 0)).toBe(0);
    expect(firstClickFrom(grid, 1.6)).toBe(1);
    expect(firstClickFrom(grid, 1.61)).toBe(2);
    expect(firstClickFrom(grid, 9)).toBe(6);
  });
});

describe("scheduling ahead", () => {
  test("a beat 0.1 s ahead is scheduled 0.1 s ahead at full speed, 0.2 s at half speed", () => {
    expect(clicksDue(grid, { ...window, mediaS: 1.5, fromIndex: 1 }).clicks).toEqual([{ index: 1, at: 10.1, accent: false }]);
    const half = clicksDue(grid, { ...window, mediaS: 1.5, fromIndex: 1, rate: 0.5, aheadS: 0.25 });
    expect(half.clicks).toEqual([{ index: 1, at: 10.2, accent: false }]);
    expect(half.next).toBe(2);
  });

  test("at 150 % the window covers more of the recording", () => {
    const fast = clicksDue(grid, { ...window, mediaS: 1.45, fromIndex: 1, rate: 1.5 });
    expect(fast.clicks.map((c) => c.index)).toEqual([1]);
    expect(fast.clicks[0].at).toBeCloseTo(10.1);
    expect(clicksDue(grid, { ...window, mediaS: 1.45, fromIndex: 1, rate: 1 }).clicks).toEqual([]);
  });

  test("nothing twice: the next window starts after the last beat scheduled", () => {
    const first = clicksDue(grid, { ...window, mediaS: 1.5, fromIndex: 1 });
    expect(clicksDue(grid, { ...window, mediaS: 1.55, fromIndex: first.next }).clicks).toEqual([]);
  });

  test("a beat just missed clicks at once; an older one is skipped", () => {
    const due = clicksDue(grid, { ...window, mediaS: 1.62, fromIndex: 0 });
    expect(due.clicks).toEqual([{ index: 1, at: 10, accent: false }]);
    expect(due.next).toBe(2);
  });

  test("no click at or after a loop's end", () => {
    expect(clicksDue(grid, { ...window, mediaS: 2.75, fromIndex: 3, untilS: 2.8 }).clicks).toEqual([]);
  });
});

describe("count-in", () => {
  test("one bar of the bar's metre at its tempo, accent first; the recording starts on the downbeat", () => {
    const plan = countIn(grid, 3.0, 1, 20, 3);
    expect(plan.startS).toBe(2.8);
    expect(plan.clicks.map((c) => c.accent)).toEqual([true, false, false]);
    expect(plan.clicks.map((c) => c.at - 20)).toEqual([0, 0.6, 1.2].map((x) => expect.closeTo(x, 9)));
    expect(plan.mediaAt).toBeCloseTo(21.8);
  });

  test("at 80 % each count is 1/0.8 as long", () => {
    const plan = countIn(grid, 1.2, 0.8, 0, 3);
    expect(plan.startS).toBe(1);
    expect(plan.clicks[1].at).toBeCloseTo(0.75);
    expect(plan.mediaAt).toBeCloseTo(2.25);
  });

  test("before the first bar, into bar 1; with no beats, four at 120 BPM", () => {
    expect(countIn(grid, 0.2, 1, 0, 3).startS).toBe(1);
    const plain = countIn([], 3.3, 1, 0, 4);
    expect(plain).toEqual({ startS: 3.3, clicks: [0, 0.5, 1, 1.5].map((at, k) => ({ at, accent: k === 0 })), mediaAt: 2 });
  });

  test("a 4/4 song at 120 BPM counts four clicks half a second apart", () => {
    const beats = Array.from({ length: 9 }, (_, k) => 0.5 + k * 0.5);
    const plan = countIn(clickGrid(beats, [0.5, 2.5, 4.5]), 2.5, 1, 5, 4);
    expect(plan.clicks.map((c) => c.at)).toEqual([5, 5.5, 6, 6.5]);
    expect(plan.mediaAt).toBe(7);
  });
});

// 6/8 and 12/8: beat_times are dotted quarters, 0.75 s apart from 0.5 s; downbeat_times every bar.
const COMPOUND_BEATS = Array.from({ length: 13 }, (_, k) => 0.5 + k * 0.75);
const every = (n: number) => COMPOUND_BEATS.filter((_, k) => k % n === 0);

describe("compound metres", () => {
  test("6/8 clicks twice a bar and 12/8 four times, accented on the downbeats", () => {
    expect(clickGrid(COMPOUND_BEATS.slice(0, 6), every(2)).map((c) => c.accent)).toEqual([true, false, true, false, true, false]);
    expect(clickGrid(COMPOUND_BEATS.slice(0, 8), every(4)).map((c) => c.accent)).toEqual([true, false, false, false, true, false, false, false]);
  });

  test("6/8 counts in two dotted quarters, 12/8 four; the recording starts on the downbeat", () => {
    const six = countIn(clickGrid(COMPOUND_BEATS, every(2)), 2.1, 1, 0, 2);
    expect(six.startS).toBe(2);
    expect(six.clicks).toEqual([{ at: 0, accent: true }, { at: 0.75, accent: false }]);
    expect(six.mediaAt).toBe(1.5);
    const twelve = countIn(clickGrid(COMPOUND_BEATS, every(4)), 3.6, 1, 0, 4);
    expect(twelve.startS).toBe(3.5);
    expect(twelve.clicks.map((c) => [c.at, c.accent])).toEqual([[0, true], [0.75, false], [1.5, false], [2.25, false]]);
  });

  test("where the grid cannot tell the bar (no downbeats, one bar), the metre's beats count in", () => {
    expect(countIn([], 1, 1, 0, 2).clicks).toHaveLength(2);
    expect(countIn(clickGrid(COMPOUND_BEATS.slice(0, 4), [0.5]), 0.5, 1, 0, 2).clicks.map((c) => c.at)).toEqual([0, 0.75]);
  });

  test("without beat times, a click on each dotted quarter of a 6/8 bar", () => {
    const clock = steadyClock([{ ms: 0, q: 0, ids: ["a"] }, { ms: 500, q: 1, ids: ["b"] }], 0.25);
    const bars = barsFrom([{ id: "m1", q: 0 }, { id: "m2", q: 3 }], clock, 3);
    const clicks = clickGridFromBars(bars, clock, 1.5);
    expect(clicks.map((c) => c.audioS)).toEqual([0.25, 1, 1.75, 2.5]);
    expect(clicks.map((c) => c.accent)).toEqual([true, false, true, false]);
  });

  test("beat_times without downbeat_times: accented where the sheet's 6/8 bars start", () => {
    const clock = beatClock(COMPOUND_BEATS, 1.5);
    const bars = barsFrom([{ id: "m1", q: 0 }, { id: "m2", q: 3 }, { id: "m3", q: 6 }], clock, 3);
    const clicks = sheetClickGrid({ beatTimes: COMPOUND_BEATS.slice(0, 6), downbeatTimes: [] }, bars, clock, 1.5);
    expect(clicks.map((c) => c.accent)).toEqual([true, false, true, false, true, false]);
    expect(sheetClickGrid({ beatTimes: [], downbeatTimes: [] }, bars, clock, 1.5)).toHaveLength(6);
  });
});
