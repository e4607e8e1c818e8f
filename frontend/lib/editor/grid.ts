/**
 * The editor's step grid: one bar of the sheet as 16th steps (its beats from hits.json's beat_times: four
 * 16ths to a quarter-note beat, six to the dotted quarter of 6/8 and 12/8, eight to the half of 2/2),
 * the hits that fall in each step, and where bar 1 starts when the downbeat is shifted by whole beats.
 */
import { quartersPerBeat } from "@/lib/practice/bars";

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

/** 16ths in a counted beat of `timeSignature`: 4 in x/4, 6 in 6/8 and 12/8 (a dotted quarter), 8 in 2/2; 4 when unknown. */
export function stepsPerBeat(timeSignature: string | null | undefined): number {
  return Math.max(1, Math.round(STEPS_PER_BEAT * quartersPerBeat(timeSignature)));
}

/** A bar as the grid shows it: the beat (of beat_times) it starts on, how many beats it has, 16ths a beat. */
export type BarGrid = { firstBeat: number; beats: number; stepsPerBeat: number };

/** The grid of the bar heard from `startS` to `endS`: its start and end on the nearest beats. */
export function barGrid(beatTimes: readonly number[], bar: { startS: number; endS: number }, perBeat = STEPS_PER_BEAT): BarGrid {
  const firstBeat = Math.round(beatAt(beatTimes, bar.startS));
  return { firstBeat, beats: Math.max(1, Math.round(beatAt(beatTimes, bar.endS)) - firstBeat), stepsPerBeat: perBeat };
}

/** The 16ths of the bar's grid. */
export function gridSteps(grid: BarGrid): number {
  return grid.beats * grid.stepsPerBeat;
}

/** The step (0-based, 16ths) of the bar's grid nearest to `timeS`; it may lie outside the bar. */
export function stepOf(beatTimes: readonly number[], grid: BarGrid, timeS: number): number {
  return Math.round((beatAt(beatTimes, timeS) - grid.firstBeat) * grid.stepsPerBeat);
}

/** The key of a grid cell: a drum and a step. */
export function cellKey(drum: Drum, step: number): string {
  return `${drum}@${step}`;
}

/** The hits in the bar, by cell (the index in `hits`; of two in one cell, the first). */
export function barCells(hits: readonly RevisionHit[], beatTimes: readonly number[], grid: BarGrid): Map<string, number> {
  const steps = gridSteps(grid);
  const cells = new Map<string, number>();
  hits.forEach((hit, index) => {
    const step = stepOf(beatTimes, grid, hit.time);
    const key = cellKey(hit.instrument, step);
    if (step >= 0 && step < steps && !cells.has(key)) cells.set(key, index);
  });
  return cells;
}

/**
 * How a step is counted: "1", "e", "&", "a" in beats of four 16ths (the beat's number on its first); in
 * beats of six (6/8, 12/8) the bar's 8ths are counted "1", "2", "3"..., the 16ths between them "&"; in the
 * half-note beats of 2/2 (eight 16ths) the 8ths are "1", "e", "&", "a" and the 16ths between them "·".
 */
export function stepName(step: number, perBeat = STEPS_PER_BEAT): string {
  if (perBeat === 6) return step % 2 === 0 ? String(step / 2 + 1) : "&";
  const sub = step % perBeat;
  if (sub === 0) return String(step / perBeat + 1);
  if (perBeat === STEPS_PER_BEAT) return ["e", "&", "a"][sub - 1];
  if (perBeat === 2 * STEPS_PER_BEAT && sub % 2 === 0) return ["e", "&", "a"][sub / 2 - 1];
  return "·";
}

/** The time of the beat nearest `timeS`, moved `delta` beats (kept on beat_times): a shifted bar 1. */
export function shiftedDownbeat(beatTimes: readonly number[], timeS: number, delta: number): number {
  const beat = Math.round(beatAt(beatTimes, timeS)) + delta;
  return beatTimes[Math.min(beatTimes.length - 1, Math.max(0, beat))];
}

