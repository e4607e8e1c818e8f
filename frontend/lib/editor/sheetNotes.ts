/**
 * The notes of the engraved sheet as the editor knows them: which drum each of verovio's notes is, and
 * which cell of the editor's grid it stands in. verovio names its notes with ids of its own and keeps
 * neither the MusicXML's instruments nor its note order in a form that survives its layout, so a note
 * is matched by what both agree on: where it is (its time in quarter notes from the sheet's start) and
 * its place on the staff. The MusicXML says which instrument is written there (each <note>'s
 * <instrument> refers to a <midi-instrument> whose <midi-unpitched> is the General MIDI drum key + 1).
 */
import type { Bar } from "@/lib/practice/bars";
import type { Clock, Cue } from "@/lib/timemap";

import type { Drum } from "./edits";
import { STEPS_PER_BEAT } from "./edits";
import { barGrid, gridSteps, stepOf } from "./grid";

/** What the MusicXML reader needs of an element: a DOM Element (DOMParser's) has all of it. */
export type XmlElement = {
  readonly tagName: string;
  readonly children: ArrayLike<XmlElement>;
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
};

/** The General MIDI percussion keys of the kit's drums (backend/app/pipeline/notation/kit.py). */
export const GM_DRUMS: Readonly<Record<number, Drum>> = {
  36: "kick",
  38: "snare",
  42: "hihat_closed",
  46: "hihat_open",
  51: "ride",
  49: "crash",
  50: "tom_high",
  47: "tom_mid",
  43: "tom_low",
};

/** How a notehead looks, as far as both files tell it apart. */
type Head = "normal" | "x" | "other";

/** A drum note as the MusicXML writes it: quarters from the sheet's start, staff place, drum, notehead. */
export type WrittenNote = { q: number; loc: number; drum: Drum; head: Head };

/** A note of the engraved sheet: verovio's id, the bar (index in `bars`) and quarter it is in, its drum. */
export type SheetNote = { id: string; bar: number; q: number; drum: Drum };

/** A cell of the editor's grid: a drum at a 16th step of a bar. */
export type NoteCell = { bar: number; drum: Drum; step: number };

const STEPS = "CDEFGAB";
/** Staff places count from the bottom line of the five (E4 in the percussion clef's treble positions). */
const BOTTOM_LINE = 4 * 7 + STEPS.indexOf("E");
/** Quarters within which two files' times of one note agree (verovio rounds triplets' qstamps). */
const SAME_Q = 1e-3;

function childrenOf(el: XmlElement, tag?: string): XmlElement[] {
  return Array.from(el.children).filter((c) => tag === undefined || c.tagName === tag);
}

function child(el: XmlElement, tag: string): XmlElement | null {
  return childrenOf(el, tag)[0] ?? null;
}

function numberIn(el: XmlElement | null): number {
  return Number(el?.textContent?.trim() ?? NaN);
}

function headOf(shape: string | null | undefined): Head {
  if (!shape || shape === "normal") return "normal";
  return shape === "x" ? "x" : "other";
}

/**
 * The drum notes of a MusicXML score (its root element, <score-partwise>), from its first part, in order:
 * each one's time, staff place and drum. Rests, grace notes and notes of no kit drum are left out.
 */
export function writtenNotes(root: XmlElement): WrittenNote[] {
  const drumById = new Map<string, Drum>();
  for (const scorePart of childrenOf(child(root, "part-list") ?? root, "score-part")) {
    for (const midi of childrenOf(scorePart, "midi-instrument")) {
      const drum = GM_DRUMS[numberIn(child(midi, "midi-unpitched")) - 1];
      const id = midi.getAttribute("id");
      if (drum && id) drumById.set(id, drum);
    }
  }
  const part = child(root, "part");
  if (!part) return [];
  const notes: WrittenNote[] = [];
  let divisions = 1;
  let barStart = 0;
  for (const measure of childrenOf(part, "measure")) {
    let at = 0;
    let end = 0;
    let chordAt = 0;
    for (const el of childrenOf(measure)) {
      const duration = numberIn(child(el, "duration")) || 0;
      if (el.tagName === "attributes") {
        const d = numberIn(child(el, "divisions"));
        if (d > 0) divisions = d;
      } else if (el.tagName === "backup") {
        at -= duration;
      } else if (el.tagName === "forward") {
        at += duration;
      } else if (el.tagName === "note" && !child(el, "grace")) {
        // A chord's later notes start with its first one and take no time of their own.
        const start = child(el, "chord") ? chordAt : at;
        if (!child(el, "chord")) {
          chordAt = at;
          at += duration;
        }
        const unpitched = child(el, "unpitched");
        const drum = drumById.get(child(el, "instrument")?.getAttribute("id") ?? "");
        const step = STEPS.indexOf(child(unpitched ?? el, "display-step")?.textContent?.trim() ?? "?");
        const octave = numberIn(child(unpitched ?? el, "display-octave"));
        if (unpitched && drum && step >= 0 && Number.isFinite(octave)) {
          notes.push({ q: barStart + start / divisions, loc: octave * 7 + step - BOTTOM_LINE, drum, head: headOf(child(el, "notehead")?.textContent?.trim()) });
        }
      }
      end = Math.max(end, at);
    }
    barStart += end / divisions;
  }
  return notes;
}

/**
 * The drum notes of a MusicXML file's text, read with the browser's DOMParser; none where there is no
 * DOMParser (the server) or the text is not XML.
 */
export function musicXmlNotes(xml: string): WrittenNote[] {
  if (typeof DOMParser === "undefined") return [];
  const doc = new DOMParser().parseFromString(xml, "application/xml");
  if (doc.getElementsByTagName("parsererror").length) return [];
  return writtenNotes(doc.documentElement);
}

/** Ticks of a quarter note for looking notes up by time: a multiple of the sheet's 32nds and triplets. */
const TICKS = 960;

/** The bar (index in `bars`) that sheet position `q` falls in, or -1. */
function barOf(bars: readonly Bar[], q: number): number {
  return bars.findIndex((b) => q + SAME_Q >= b.startQ && q + SAME_Q < b.endQ);
}

/**
 * verovio's notes with their drums: for each note id of the timemap's cues, the written note at its
 * time and staff place (`attrsOf` is verovio's getElementAttr: "loc", "head.shape"). Of two drums written
 * at one place (the closed and the open hi-hat), the one of its notehead. Notes matched by none are left
 * out: they cannot be picked on the sheet, only in the grid.
 */
export function sheetNotes(
  cues: readonly Cue[],
  bars: readonly Bar[],
  written: readonly WrittenNote[],
  attrsOf: (id: string) => Record<string, string>,
): SheetNote[] {
  const byTick = new Map<number, WrittenNote[]>();
  for (const w of written) {
    const tick = Math.round(w.q * TICKS);
    byTick.set(tick, [...(byTick.get(tick) ?? []), w]);
  }
  const notes: SheetNote[] = [];
  for (const cue of cues) {
    const bar = barOf(bars, cue.q);
    if (bar < 0) continue;
    const tick = Math.round(cue.q * TICKS);
    const near = [tick - 1, tick, tick + 1].flatMap((t) => byTick.get(t) ?? []);
    const here = near.filter((w) => Math.abs(w.q - cue.q) < SAME_Q);
    for (const id of cue.ids) {
      const attrs = attrsOf(id);
      const loc = Number(attrs.loc);
      const placed = here.filter((w) => w.loc === loc);
      const match = placed.length > 1 ? (placed.find((w) => w.head === headOf(attrs["head.shape"])) ?? placed[0]) : placed[0];
      if (match) notes.push({ id, bar, q: cue.q, drum: match.drum });
    }
  }
  return notes;
}

/**
 * The grid cell a sheet note stands in: its bar's grid (lib/editor/grid.ts, from hits.json's beat_times,
 * `perBeat` 16ths a beat) and the 16th nearest its time as the sheet's clock hears it; null when that
 * falls outside the bar.
 */
export function noteCell(
  note: SheetNote,
  bars: readonly Bar[],
  clock: Clock,
  beatTimes: readonly number[],
  perBeat = STEPS_PER_BEAT,
): NoteCell | null {
  const bar = bars[note.bar];
  if (!bar || beatTimes.length < 2) return null;
  const grid = barGrid(beatTimes, bar, perBeat);
  const step = stepOf(beatTimes, grid, clock.toAudio(note.q));
  return step >= 0 && step < gridSteps(grid) ? { bar: note.bar, drum: note.drum, step } : null;
}

/** A box on the screen (client pixels). */
export type Box = { left: number; top: number; right: number; bottom: number };

/**
 * The note a pointer at (x, y) is on: of the noteheads whose box, grown by `slopPx` on each side (a
 * finger is wider than a mouse), holds the point, the one whose centre is nearest; null when none does.
 */
export function noteAt(heads: readonly { id: string; box: Box }[], x: number, y: number, slopPx: number): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const { id, box } of heads) {
    if (x < box.left - slopPx || x > box.right + slopPx || y < box.top - slopPx || y > box.bottom + slopPx) continue;
    const distance = Math.hypot(x - (box.left + box.right) / 2, y - (box.top + box.bottom) / 2);
    if (distance < bestDistance) {
      best = id;
      bestDistance = distance;
    }
  }
  return best;
}
