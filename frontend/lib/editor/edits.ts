/**
 * The sheet editor's model: edits to a transcription's hits (change a note's drum, delete it, toggle its
 * accent or ghost, add one on a bar's 16th grid), with undo and redo, and the hits a revision is saved
 * with (POST /api/v1/jobs/{id}/revisions). Sheet positions become times through hits.json's beat_times.
 */
import type { components } from "@/lib/api/schema";

export type RevisionHit = components["schemas"]["RevisionHit"];
export type Drum = RevisionHit["instrument"];

/** The kit the editor offers, in the order of its menu. */
export const KIT: readonly { drum: Drum; label: string }[] = [
  { drum: "kick", label: "Kick" },
  { drum: "snare", label: "Snare" },
  { drum: "hihat_closed", label: "Hi-hat (closed)" },
  { drum: "hihat_open", label: "Hi-hat (open)" },
  { drum: "ride", label: "Ride" },
  { drum: "crash", label: "Crash" },
  { drum: "tom_high", label: "High tom" },
  { drum: "tom_mid", label: "Mid tom" },
  { drum: "tom_low", label: "Floor tom" },
];

/** The velocity of a note the editor adds (a plain stroke; accent and ghost are marks of their own). */
export const ADDED_VELOCITY = 96;

/** Steps of the add grid in a quarter-note beat: 16ths (a dotted quarter of 6/8 has six: grid.ts stepsPerBeat). */
export const STEPS_PER_BEAT = 4;

export type Edit =
  | { kind: "drum"; index: number; drum: Drum }
  | { kind: "delete"; index: number }
  | { kind: "accent"; index: number }
  | { kind: "ghost"; index: number }
  | { kind: "add"; hit: RevisionHit };

/** One edit applied to `hits` (a new array; `index` is a position in `hits`). */
export function applyEdit(hits: readonly RevisionHit[], edit: Edit): RevisionHit[] {
  if (edit.kind === "add") return [...hits, edit.hit].sort((a, b) => a.time - b.time);
  if (!hits[edit.index]) throw new RangeError(`no note ${edit.index} among ${hits.length} to edit`);
  if (edit.kind === "delete") return hits.filter((_, i) => i !== edit.index);
  return hits.map((hit, i) => {
    if (i !== edit.index) return hit;
    if (edit.kind === "drum") return { ...hit, instrument: edit.drum };
    // A note is accented or ghosted, never both.
    if (edit.kind === "accent") return { ...hit, accent: !hit.accent, ghost: false };
    return { ...hit, ghost: !hit.ghost, accent: false };
  });
}

/** The hits of a revision: each of hits.json's hits reduced to what the API takes. */
export function revisionHits(hits: readonly RevisionHit[]): RevisionHit[] {
  return hits.map(({ time, instrument, velocity, accent, ghost }) => ({
    time,
    instrument,
    velocity,
    accent: accent ?? false,
    ghost: ghost ?? false,
  }));
}

/**
 * The time, in seconds, of sheet position `beat` (in beats from the first of beat_times, fractions within
 * a beat): between the two beats around it, and past the ends at the nearest beats' spacing.
 */
export function timeAtBeat(beatTimes: readonly number[], beat: number): number {
  if (beatTimes.length < 2) throw new RangeError("at least two beat times are needed to place a note");
  const last = beatTimes.length - 1;
  const i = Math.min(Math.max(Math.floor(beat), 0), last - 1);
  const span = beatTimes[i + 1] - beatTimes[i];
  return Math.max(0, beatTimes[i] + (beat - i) * span);
}

/**
 * The time of 16th `step` (0-based) of the bar that starts on beat `firstBeat` of beat_times, each beat
 * `stepsPerBeat` 16ths long.
 */
export function timeOfStep(beatTimes: readonly number[], firstBeat: number, step: number, stepsPerBeat = STEPS_PER_BEAT): number {
  return timeAtBeat(beatTimes, firstBeat + step / stepsPerBeat);
}

/**
 * The hit a note on the sheet stands for: of those of `drum`, the nearest to `timeS`, within `toleranceS`
 * (the sheet rounds times to its grid); -1 when none is that close.
 */
export function hitAt(hits: readonly RevisionHit[], timeS: number, drum: Drum, toleranceS: number): number {
  let best = -1;
  for (let i = 0; i < hits.length; i++) {
    if (hits[i].instrument !== drum) continue;
    const off = Math.abs(hits[i].time - timeS);
    if (off <= toleranceS && (best < 0 || off < Math.abs(hits[best].time - timeS))) best = i;
  }
  return best;
}

/** Edits with undo and redo: the hits are always the original's with `done` applied in order. */
export type History = { original: readonly RevisionHit[]; done: readonly Edit[]; undone: readonly Edit[] };

export function startHistory(original: readonly RevisionHit[]): History {
  return { original, done: [], undone: [] };
}

/** A new edit: it clears what was undone. */
export function record(history: History, edit: Edit): History {
  return { ...history, done: [...history.done, edit], undone: [] };
}

export function undo(history: History): History {
  if (!history.done.length) return history;
  const last = history.done[history.done.length - 1];
  return { ...history, done: history.done.slice(0, -1), undone: [...history.undone, last] };
}

export function redo(history: History): History {
  if (!history.undone.length) return history;
  const next = history.undone[history.undone.length - 1];
  return { ...history, done: [...history.done, next], undone: history.undone.slice(0, -1) };
}

/** The hits with every edit done so far. */
export function currentHits(history: History): RevisionHit[] {
  return history.done.reduce<RevisionHit[]>((hits, edit) => applyEdit(hits, edit), [...history.original]);
}

/**
 * Which of the original hits (the saved sheet's) current hit `index` is, edits and all; -1 for a note
 * added since. It replays the edits on hits tagged with their place (applyEdit keeps a hit's other
 * fields), so a note whose drum changed is still known as the note engraved on the sheet.
 */
export function hitOrigin(history: History, index: number): number {
  const tagged: (RevisionHit & { origin?: number })[] = history.original.map((hit, origin) => ({ ...hit, origin }));
  const hits = history.done.reduce<(RevisionHit & { origin?: number })[]>((all, edit) => applyEdit(all, edit), tagged);
  return hits[index]?.origin ?? -1;
}

/** What a key does in the editor: Ctrl+Z undoes, Ctrl+Shift+Z (or Ctrl+Y) redoes (⌘ on a Mac). */
export function historyKey(e: Pick<KeyboardEvent, "key" | "ctrlKey" | "metaKey" | "shiftKey" | "altKey">): "undo" | "redo" | null {
  if (!(e.ctrlKey || e.metaKey) || e.altKey) return null;
  const key = e.key.toLowerCase();
  if (key === "z") return e.shiftKey ? "redo" : "undo";
  if (key === "y" && !e.shiftKey) return "redo";
  return null;
}
