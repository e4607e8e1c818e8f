import { readFileSync } from "node:fs";
import { join } from "node:path";

import createVerovioModule from "verovio/wasm";
import { VerovioToolkit } from "verovio/esm";
import { beforeAll, describe, expect, test } from "vitest";

import { noteAt, noteCell, sheetNotes, writtenNotes, type SheetNote } from "@/lib/editor/sheetNotes";
import { barsFrom, measuresFrom } from "@/lib/practice/bars";
import { beatClock, cuesFrom, type TimemapEntry } from "@/lib/timemap";

import { parseXml } from "./xml";

// Two bars of 4/4 at 120 BPM from 0.5 s, as the notation stage wrote them (backend write_notation): a rock
// bar (hi-hat 8ths, the last one open, in chords with the snare; the kick in the other voice, one a 16th
// before beat 4), then crash and kick, three toms in 16ths and 8ths, ride, snare.
const MUSICXML = readFileSync(join(import.meta.dirname, "fixtures/two-bars.musicxml"), "utf8");
const BEATS = Array.from({ length: 10 }, (_, k) => 0.5 + 0.5 * k);
const EXPECTED: [number, string][] = [
  [0, "hihat_closed"], [0, "kick"], [0.5, "hihat_closed"], [1, "hihat_closed"], [1, "snare"], [1.5, "hihat_closed"],
  [2, "hihat_closed"], [2, "kick"], [2.5, "hihat_closed"], [2.75, "kick"], [3, "hihat_closed"], [3, "snare"],
  [3.5, "hihat_open"], [4, "crash"], [4, "kick"], [5, "tom_high"], [5.25, "tom_mid"], [5.5, "tom_low"], [6, "ride"],
  [7, "snare"],
]; // prettier-ignore

function sorted(notes: { q: number; drum: string }[]): [number, string][] {
  return notes.map((n): [number, string] => [n.q, n.drum]).sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1]));
}

describe("the drum notes of the MusicXML", () => {
  test("each note's time, drum and staff place, chords and both voices included", () => {
    const written = writtenNotes(parseXml(MUSICXML));
    expect(sorted(written)).toEqual(EXPECTED);
    const places = Object.fromEntries(written.map((n) => [n.drum, n.loc]));
    expect(places).toMatchObject({ kick: 1, snare: 5, hihat_closed: 9, hihat_open: 9, crash: 10, ride: 8, tom_high: 7, tom_mid: 6, tom_low: 3 });
    expect(written.find((n) => n.drum === "hihat_open")?.head).toBe("other");
    expect(written.find((n) => n.drum === "hihat_closed")?.head).toBe("x");
    expect(written.find((n) => n.drum === "snare")?.head).toBe("normal");
  });

  test("a score without a part, or whose instruments are no kit drums, has no notes to pick", () => {
    expect(writtenNotes(parseXml("<score-partwise><part-list/></score-partwise>"))).toEqual([]);
    const foreign = MUSICXML.replace(/<midi-unpitched>(\d+)<\/midi-unpitched>/g, "<midi-unpitched>82</midi-unpitched>");
    expect(writtenNotes(parseXml(foreign))).toEqual([]);
  });
});

describe("verovio's notes matched to the MusicXML's", () => {
  let notes: SheetNote[];
  let bars: ReturnType<typeof barsFrom>;
  const clock = beatClock(BEATS);

  beforeAll(async () => {
    const tk = new VerovioToolkit(await createVerovioModule());
    expect(tk.loadData(MUSICXML)).toBeTruthy();
    tk.renderToSVG(1);
    const timemap = tk.renderToTimemap({ includeMeasures: true, includeRests: false }) as TimemapEntry[];
    bars = barsFrom(measuresFrom(timemap), clock, 4);
    notes = sheetNotes(cuesFrom(timemap), bars, writtenNotes(parseXml(MUSICXML)), (id) => tk.getElementAttr(id));
  }, 30_000);

  test("every engraved note gets its drum, the open hi-hat told from the closed one by its notehead", () => {
    expect(sorted(notes)).toEqual(EXPECTED);
    expect(new Set(notes.map((n) => n.id)).size).toBe(EXPECTED.length);
    expect(notes.filter((n) => n.q >= 4).every((n) => n.bar === 1)).toBe(true);
  });

  test("each note's grid cell: its bar, its drum, its 16th", () => {
    const cell = (q: number, drum: string) => noteCell(notes.find((n) => n.q === q && n.drum === drum)!, bars, clock, BEATS);
    expect(cell(2.75, "kick")).toEqual({ bar: 0, drum: "kick", step: 11 });
    expect(cell(3.5, "hihat_open")).toEqual({ bar: 0, drum: "hihat_open", step: 14 });
    expect(cell(5.25, "tom_mid")).toEqual({ bar: 1, drum: "tom_mid", step: 5 });
    expect(cell(7, "snare")).toEqual({ bar: 1, drum: "snare", step: 12 });
  });

  test("a drummer who slows down: the cell follows the beats, not the written tempo", () => {
    const slower = [...BEATS.slice(0, 6), ...BEATS.slice(6).map((t) => t + 0.2)];
    const snare = notes.find((n) => n.q === 7 && n.drum === "snare")!;
    const slowBars = barsFrom(bars.map((b) => ({ id: b.id, q: b.startQ })), beatClock(slower), 4);
    expect(noteCell(snare, slowBars, beatClock(slower), slower)).toEqual({ bar: 1, drum: "snare", step: 12 });
  });

  test("a note outside its bar's grid has no cell", () => {
    expect(noteCell({ id: "x", bar: 5, q: 30, drum: "kick" }, bars, clock, BEATS)).toBeNull();
    expect(noteCell(notes[0], bars, clock, [0.5])).toBeNull();
  });
});

describe("the note under a pointer", () => {
  const heads = [
    { id: "snare", box: { left: 100, top: 50, right: 110, bottom: 58 } },
    { id: "hihat", box: { left: 100, top: 30, right: 110, bottom: 38 } },
    { id: "kick", box: { left: 130, top: 70, right: 140, bottom: 78 } },
  ];

  test("on a notehead, or within the slop around it; of two in reach, the nearer", () => {
    expect(noteAt(heads, 105, 54, 0)).toBe("snare");
    expect(noteAt(heads, 105, 41, 4)).toBe("hihat");
    expect(noteAt(heads, 105, 45, 8)).toBe("snare");
    expect(noteAt(heads, 128, 74, 4)).toBe("kick");
  });

  test("away from every notehead: none", () => {
    expect(noteAt(heads, 120, 64, 4)).toBeNull();
    expect(noteAt([], 0, 0, 10)).toBeNull();
  });
});
