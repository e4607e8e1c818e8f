import { describe, expect, test } from "vitest";

import {
  applyEdit,
  currentHits,
  hitAt,
  historyKey,
  hitOrigin,
  record,
  redo,
  revisionHits,
  startHistory,
  timeAtBeat,
  timeOfStep,
  undo,
  type RevisionHit,
} from "@/lib/editor/edits";

const hit = (time: number, instrument: RevisionHit["instrument"], extra: Partial<RevisionHit> = {}): RevisionHit => ({
  time,
  instrument,
  velocity: 100,
  accent: false,
  ghost: false,
  ...extra,
});

const GROOVE = [hit(0.5, "kick"), hit(0.5, "hihat_closed"), hit(1.0, "snare"), hit(1.25, "hihat_closed")];
const BEATS = [0.5, 1.0, 1.5, 2.0, 2.5];

describe("edits", () => {
  test("change a drum, delete, accent and ghost exclude each other, add keeps time order", () => {
    expect(applyEdit(GROOVE, { kind: "drum", index: 2, drum: "tom_high" })[2].instrument).toBe("tom_high");
    expect(applyEdit(GROOVE, { kind: "delete", index: 0 })).toEqual(GROOVE.slice(1));
    const accented = applyEdit(GROOVE, { kind: "accent", index: 2 });
    expect(accented[2]).toMatchObject({ accent: true, ghost: false });
    expect(applyEdit(accented, { kind: "ghost", index: 2 })[2]).toMatchObject({ accent: false, ghost: true });
    const added = applyEdit(GROOVE, { kind: "add", hit: hit(0.75, "snare") });
    expect(added.map((h) => h.time)).toEqual([0.5, 0.5, 0.75, 1.0, 1.25]);
    expect(() => applyEdit(GROOVE, { kind: "delete", index: 9 })).toThrow(/no note 9 among 4/);
  });

  test("the original hits are never changed", () => {
    const copy = structuredClone(GROOVE);
    applyEdit(GROOVE, { kind: "drum", index: 0, drum: "crash" });
    expect(GROOVE).toEqual(copy);
  });

  test("a revision's hits keep only what the API takes", () => {
    const fromJson: RevisionHit[] = [Object.assign(hit(0.5, "kick"), { confidence: 0.9 })];
    expect(revisionHits(fromJson)).toEqual([hit(0.5, "kick")]);
  });
});

describe("sheet positions to times, through beat_times", () => {
  test("on, between and past the beats", () => {
    expect(timeAtBeat(BEATS, 0)).toBe(0.5);
    expect(timeAtBeat(BEATS, 1.5)).toBe(1.25);
    expect(timeAtBeat(BEATS, 5)).toBe(3.0);
    expect(timeAtBeat(BEATS, -1)).toBe(0);
    expect(() => timeAtBeat([1], 0)).toThrow(/two beat times/);
  });

  test("a bar's 16th grid, from its first beat", () => {
    expect(timeOfStep(BEATS, 0, 3)).toBe(0.875);
    expect(timeOfStep([0, 0.4, 1.0, 1.6], 1, 2)).toBeCloseTo(0.7, 9);
  });

  test("a note is the nearest hit of its drum within the tolerance", () => {
    expect(hitAt(GROOVE, 1.02, "snare", 0.05)).toBe(2);
    expect(hitAt(GROOVE, 0.5, "hihat_closed", 0.05)).toBe(1);
    expect(hitAt(GROOVE, 1.2, "snare", 0.05)).toBe(-1);
  });
});

describe("undo and redo", () => {
  test("undo steps back, redo forward, a new edit clears the redo", () => {
    let h = startHistory(GROOVE);
    h = record(h, { kind: "drum", index: 0, drum: "crash" });
    h = record(h, { kind: "delete", index: 3 });
    expect(currentHits(h).map((x) => x.instrument)).toEqual(["crash", "hihat_closed", "snare"]);
    h = undo(h);
    expect(currentHits(h)).toHaveLength(4);
    h = redo(h);
    expect(currentHits(h)).toHaveLength(3);
    h = undo(undo(h));
    expect(currentHits(h)).toEqual(GROOVE);
    expect(undo(h)).toBe(h);
    h = record(h, { kind: "accent", index: 1 });
    expect(redo(h)).toBe(h);
  });

  test("keys: Ctrl+Z, Ctrl+Shift+Z, Ctrl+Y, and ⌘ on a Mac", () => {
    const key = (k: string, mods: { ctrlKey?: boolean; metaKey?: boolean; shiftKey?: boolean } = {}) =>
      historyKey({ key: k, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods });
    expect(key("z", { ctrlKey: true })).toBe("undo");
    expect(key("Z", { ctrlKey: true, shiftKey: true })).toBe("redo");
    expect(key("y", { ctrlKey: true })).toBe("redo");
    expect(key("z", { metaKey: true })).toBe("undo");
    expect(key("z")).toBeNull();
  });
});

describe("a note's place on the saved sheet", () => {
  test("a note whose drum changed is still the engraved note it was, through adds before it and deletes", () => {
    let h = record(startHistory(GROOVE), { kind: "drum", index: 2, drum: "tom_high" });
    expect(currentHits(h)[2].instrument).toBe("tom_high");
    expect(hitOrigin(h, 2)).toBe(2);
    expect(h.original[hitOrigin(h, 2)].instrument).toBe("snare");
    h = record(h, { kind: "add", hit: hit(0.25, "crash") });
    expect(currentHits(h)[3].instrument).toBe("tom_high");
    expect(hitOrigin(h, 3)).toBe(2);
    expect(hitOrigin(h, 0)).toBe(-1);
    h = record(h, { kind: "delete", index: 1 });
    expect([0, 1, 2, 3].map((i) => hitOrigin(h, i))).toEqual([-1, 1, 2, 3]);
    expect(hitOrigin(undo(undo(h)), 2)).toBe(2);
    expect(hitOrigin(h, 9)).toBe(-1);
  });

  test("the edited hits carry no trace of it", () => {
    const h = record(startHistory(GROOVE), { kind: "drum", index: 0, drum: "snare" });
    hitOrigin(h, 0);
    expect(Object.keys(currentHits(h)[0]).sort()).toEqual(["accent", "ghost", "instrument", "time", "velocity"]);
  });
});
