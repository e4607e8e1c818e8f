/**
 * The editor's step grid: one bar of the sheet as 16th steps (its beats from hits.json's beat_times),
 * the hits that fall in each step, and where bar 1 starts when the downbeat is shifted by whole beats.
 */
import { KIT, STEPS_PER_BEAT, revisionHits, type Drum, type RevisionHit } from "./edits";

/** What the editor reads of hits.json: the hits, and the beat and downbeat grid they were written on. */
export type HitsDocument = { hits: RevisionHit[]; beatTimes: number[]; downbeatTimes: number[] };

const DRUMS = new Set<string>(KIT.map((k) => k.drum));

function numbers(value: unknown): number[] {
  return Array.isArray(value) ? value.filter((v): v is number => typeof v === "number" && Number.isFinite(v)) : [];
}

/** hits.json as the editor needs it, or null when it lacks hits or a beat grid (two beats at least). */
export function hitsDocument(json: unknown): HitsDocument | null {
  if (!json || typeof json !== "object") return null;
  const doc = json as { hits?: unknown; beat_times?: unknown; downbeat_times?: unknown };
  const beatTimes = numbers(doc.beat_times);
  if (!Array.isArray(doc.hits) || beatTimes.length < 2) return null;
  const hits = doc.hits.filter(
    (h): h is RevisionHit =>
      !!h &&
      typeof h === "object" &&
      typeof (h as RevisionHit).time === "number" &&
      typeof (h as RevisionHit).velocity === "number" &&
      DRUMS.has((h as RevisionHit).instrument),
  );
  return { hits: revisionHits(hits), beatTimes, downbeatTimes: numbers(doc.downbeat_times) };
}

/**
 * Where time `timeS` falls in beats from the first of beat_times (fractions within a beat): the inverse
 * of timeAtBeat, past the ends at the nearest beats' spacing.
 */
export function beatAt(beatTimes: readonly number[], timeS: number): number {
  const last = beatTimes.length - 1;
  let i = 0;
  while (i < last - 1 && beatTimes[i + 1] <= timeS) i++;
  return i + (timeS - beatTimes[i]) / (beatTimes[i + 1] - beatTimes[i]);
}

/** A bar as the grid shows it: the beat (of beat_times) it starts on and how many beats it has. */
export type BarGrid = { firstBeat: number; beats: number };

/** The grid of the bar heard from `startS` to `endS`: its start and end on the nearest beats. */
export function barGrid(beatTimes: readonly number[], bar: { startS: number; endS: number }): BarGrid {
  const firstBeat = Math.round(beatAt(beatTimes, bar.startS));
  return { firstBeat, beats: Math.max(1, Math.round(beatAt(beatTimes, bar.endS)) - firstBeat) };
}

/** The step (0-based, 16ths) of the bar's grid nearest to `timeS`; it may lie outside the bar. */
export function stepOf(beatTimes: readonly number[], grid: BarGrid, timeS: number): number {
  return Math.round((beatAt(beatTimes, timeS) - grid.firstBeat) * STEPS_PER_BEAT);
}

/** The key of a grid cell: a drum and a step. */
export function cellKey(drum: Drum, step: number): string {
  return `${drum}@${step}`;
}

/** The hits in the bar, by cell (the index in `hits`; of two in one cell, the first). */
export function barCells(hits: readonly RevisionHit[], beatTimes: readonly number[], grid: BarGrid): Map<string, number> {
  const steps = grid.beats * STEPS_PER_BEAT;
  const cells = new Map<string, number>();
  hits.forEach((hit, index) => {
    const step = stepOf(beatTimes, grid, hit.time);
    const key = cellKey(hit.instrument, step);
    if (step >= 0 && step < steps && !cells.has(key)) cells.set(key, index);
  });
  return cells;
}

/** How a step is counted: "1", "e", "&", "a" (the beat's number on its first 16th). */
export function stepName(step: number): string {
  const sub = step % STEPS_PER_BEAT;
  return sub === 0 ? String(step / STEPS_PER_BEAT + 1) : ["e", "&", "a"][sub - 1];
}

/** The time of the beat nearest `timeS`, moved `delta` beats (kept on beat_times): a shifted bar 1. */
export function shiftedDownbeat(beatTimes: readonly number[], timeS: number, delta: number): number {
  const beat = Math.round(beatAt(beatTimes, timeS)) + delta;
  return beatTimes[Math.min(beatTimes.length - 1, Math.max(0, beat))];
}

