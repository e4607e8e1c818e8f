import { describe, expect, test } from "vitest";

import { barAt, barBoxes, MIN_TARGET_PX, xAtQuarter, type MeasureBox } from "@/lib/practice/hittest";
import { actionFor, focusKind } from "@/lib/practice/keys";
import { JUMP_S, NUDGE, syncStep } from "@/lib/practice/sync";
import { practiceTracks } from "@/lib/practice/tracks";

// Two lines of music on a page: bars 0–1 on the first (y 40–100), bars 2–3 on the second (y 160–220).
const line1 = { left: 20, top: 40, right: 380, bottom: 100 };
const line2 = { left: 20, top: 160, right: 380, bottom: 220 };
const MEASURES: MeasureBox[] = [
  { bar: 0, measure: { left: 60, top: 50, right: 200, bottom: 90 }, system: line1 },
  { bar: 1, measure: { left: 200, top: 45, right: 370, bottom: 95 }, system: line1 },
  { bar: 2, measure: { left: 40, top: 170, right: 210, bottom: 210 }, system: line2 },
  { bar: 3, measure: { left: 210, top: 170, right: 380, bottom: 210 }, system: line2 },
];
const boxes = barBoxes(MEASURES);

describe("bars on the page", () => {
  test("a bar takes its line's height and half the gap; the line's first and last bars reach its ends", () => {
    expect(boxes).toEqual([
      { bar: 0, left: 20, right: 200, top: 40, bottom: 130 },
      { bar: 1, left: 200, right: 380, top: 40, bottom: 130 },
      { bar: 2, left: 20, right: 210, top: 130, bottom: 220 },
      { bar: 3, left: 210, right: 380, top: 130, bottom: 220 },
    ]);
  });

  test("a thin line of music still gives a finger-sized target", () => {
    const thin = barBoxes([{ bar: 0, measure: { left: 0, top: 10, right: 50, bottom: 30 }, system: { left: 0, top: 10, right: 50, bottom: 30 } }]);
    expect(thin[0].bottom - thin[0].top).toBe(MIN_TARGET_PX);
    expect(thin[0].top).toBe(-2);
  });

  test("a point between the staff lines, on the clef, or in the margin finds its bar", () => {
    expect(barAt(boxes, 100, 70)).toBe(0);
    expect(barAt(boxes, 25, 60)).toBe(0);
    expect(barAt(boxes, 250, 120)).toBe(1);
    expect(barAt(boxes, 250, 140)).toBe(3);
    expect(barAt(boxes, 5, 200)).toBe(2);
    expect(barAt(boxes, 395, 10)).toBe(1);
    expect(barAt(boxes, 300, 400)).toBe(3);
    expect(barAt([], 1, 1)).toBe(-1);
  });

  test("the beat marker sits on the notes of its beat, and in proportion between them", () => {
    const bar = { startQ: 4, endQ: 8, left: 200, right: 400 };
    const anchors = [
      { q: 4, x: 220 },
      { q: 5, x: 260 },
      { q: 7, x: 360 },
      { q: 9, x: 999 },
    ];
    expect(xAtQuarter(anchors, bar, 4)).toBe(220);
    expect(xAtQuarter(anchors, bar, 5)).toBe(260);
    expect(xAtQuarter(anchors, bar, 6)).toBe(310);
    expect(xAtQuarter(anchors, bar, 7.5)).toBe(380);
    expect(xAtQuarter([], bar, 6)).toBe(300);
    expect(xAtQuarter([{ q: 6, x: 330 }], bar, 5)).toBe(265);
  });
});

describe("keyboard", () => {
  const press = (key: string, focus: Parameters<typeof actionFor>[1] = "other", mods = {}) => actionFor({ key, ...mods }, focus);

  test("the player's keys", () => {
    expect(press(" ")).toBe("toggle-play");
    expect(press("ArrowLeft")).toBe("previous-bar");
    expect(press("ArrowRight")).toBe("next-bar");
    expect(press("[")).toBe("loop-start");
    expect(press("]")).toBe("loop-end");
    expect(press("l")).toBe("toggle-loop");
    expect(press("L")).toBe("toggle-loop");
    expect(press("+")).toBe("faster");
    expect(press("=")).toBe("faster");
    expect(press("-")).toBe("slower");
    expect(press("m")).toBe("toggle-drums");
    expect(press("C")).toBe("toggle-click");
    expect(press("x")).toBeNull();
    expect(press("Enter")).toBeNull();
  });

  test("a focused control keeps its own keys", () => {
    expect(press(" ", "control")).toBeNull();
    expect(press("m", "control")).toBe("toggle-drums");
    expect(press("ArrowRight", "slider")).toBeNull();
    expect(press(" ", "slider")).toBe("toggle-play");
    expect(press("m", "text")).toBeNull();
    expect(press(" ", "text")).toBeNull();
  });

  test("on a bar of the sheet, Space plays and the arrows move between bars", () => {
    expect(press(" ", "bar")).toBe("toggle-play");
    expect(press("ArrowLeft", "bar")).toBe("previous-bar");
  });

  test("the browser's shortcuts are left alone", () => {
    expect(press("l", "other", { ctrlKey: true })).toBeNull();
    expect(press("c", "other", { metaKey: true })).toBeNull();
    expect(press("ArrowLeft", "other", { altKey: true })).toBeNull();
  });

  test("what has the focus", () => {
    expect(focusKind(null, false)).toBe("other");
    expect(focusKind({ tagName: "BUTTON" }, true)).toBe("bar");
    expect(focusKind({ tagName: "BUTTON" }, false)).toBe("control");
    expect(focusKind({ tagName: "INPUT", type: "range" }, false)).toBe("slider");
    expect(focusKind({ tagName: "INPUT", type: "checkbox" }, false)).toBe("control");
    expect(focusKind({ tagName: "INPUT", type: "url" }, false)).toBe("text");
    expect(focusKind({ tagName: "DIV", isContentEditable: true }, false)).toBe("text");
    expect(focusKind({ tagName: "BODY" }, false)).toBe("other");
  });
});

describe("keeping the tracks together", () => {
  test("close enough: left alone", () => {
    expect(syncStep(0.01, 1.2, false)).toEqual({ kind: "steady", rate: 1.2 });
  });

  test("a follower ahead slows a little, one behind speeds up, until it is back", () => {
    expect(syncStep(0.03, 1, false)).toEqual({ kind: "nudge", rate: 1 - NUDGE });
    expect(syncStep(-0.03, 0.5, false)).toEqual({ kind: "nudge", rate: 0.5 * (1 + NUDGE) });
    expect(syncStep(0.01, 1, true).kind).toBe("nudge");
    expect(syncStep(0.002, 1, true)).toEqual({ kind: "steady", rate: 1 });
  });

  test("far off (a stall): it jumps", () => {
    expect(syncStep(JUMP_S + 0.01, 1, false)).toEqual({ kind: "jump" });
    expect(syncStep(-1, 1, true)).toEqual({ kind: "jump" });
  });
});

describe("tracks", () => {
  const file = (name: string) => ({ name, url: `/api/v1/jobs/j/artifacts/${name}` });

  test("song, drums and band, by name; the song starts muted when the band and the drums make it up", () => {
    const tracks = practiceTracks([file("sheet_music.pdf"), file("band.wav"), file("drums.wav"), file("song.wav")]);
    expect(tracks.map((t) => [t.name, t.audible])).toEqual([
      ["song", false],
      ["drums", true],
      ["band", true],
    ]);
    expect(tracks[1].url).toBe("/api/v1/jobs/j/artifacts/drums.wav");
  });

  test("a job from before song.wav: the drums only", () => {
    expect(practiceTracks([file("drums.wav"), file("hits.json")]).map((t) => t.name)).toEqual(["drums"]);
  });

  test("song and drums without a band: both audible", () => {
    expect(practiceTracks([file("song.wav"), file("drums.wav")]).map((t) => t.audible)).toEqual([true, true]);
  });

  test("no audio at all: no tracks", () => {
    expect(practiceTracks([file("sheet_music.pdf")])).toEqual([]);
  });
});
