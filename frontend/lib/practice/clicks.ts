/**
 * The click track and the count-in: one click on every beat of the sheet (hits.json's beat_times), a
 * stronger one on every downbeat (downbeat_times). The clicks are Web Audio oscillators started at times
 * of the audio context's clock, computed here a little ahead of the music, so they land on the beat
 * however late a timer fires; at speed `rate` a beat `d` seconds ahead in the recording is `d / rate`
 * seconds ahead in real time.
 */
import type { Bar } from "./bars";
import type { Clock } from "@/lib/timemap";

/** A beat of the recording: when it is heard (seconds into the audio) and whether it starts a bar. */
export type Click = { audioS: number; accent: boolean };

/** A click to start on the audio context's clock (`at`, seconds); `index` is its beat in the grid. */
export type ScheduledClick = { index: number; at: number; accent: boolean };

// A downbeat and a beat are the same moment when they are this close (hits.json rounds to 0.1 ms).
const SAME_TIME_S = 0.005;

/** The beats of hits.json (beat_times, increasing), accented where a bar starts (downbeat_times). */
export function clickGrid(beatTimes: readonly number[], downbeatTimes: readonly number[]): Click[] {
  let d = 0;
  return beatTimes.map((audioS) => {
    while (d < downbeatTimes.length && downbeatTimes[d] < audioS - SAME_TIME_S) d += 1;
    return { audioS, accent: d < downbeatTimes.length && Math.abs(downbeatTimes[d] - audioS) <= SAME_TIME_S };
  });
}

/**
 * For results without beat times: every counted beat of every bar (`beatQuarters` quarters apart: a
 * dotted quarter in 6/8 and 12/8), through the sheet's clock, accented on each bar's first.
 */
export function clickGridFromBars(bars: readonly Bar[], clock: Clock, beatQuarters: number): Click[] {
  const clicks: Click[] = [];
  for (const bar of bars) {
    for (let q = bar.startQ; q < bar.endQ - 1e-6; q += beatQuarters) clicks.push({ audioS: clock.toAudio(q), accent: q === bar.startQ });
  }
  return clicks;
}

/**
 * The sheet's click: hits.json's beats where it has them, accented on its downbeats, or where the sheet's
 * bars start when it has none; else the bars' counted beats (`beatQuarters` quarters apart).
 */
export function sheetClickGrid(
  beats: { beatTimes: readonly number[]; downbeatTimes: readonly number[] },
  bars: readonly Bar[],
  clock: Clock,
  beatQuarters: number,
): Click[] {
  if (beats.beatTimes.length < 2) return clickGridFromBars(bars, clock, beatQuarters);
  return clickGrid(beats.beatTimes, beats.downbeatTimes.length ? beats.downbeatTimes : bars.map((b) => b.startS));
}

/** The beat_times and downbeat_times of a hits.json document (empty lists where it has none). */
export function beatsOfHits(hitsJson: unknown): { beatTimes: number[]; downbeatTimes: number[] } {
  const doc = (hitsJson ?? {}) as { beat_times?: unknown; downbeat_times?: unknown };
  const times = (value: unknown) =>
    Array.isArray(value) ? value.map(Number).filter((t) => Number.isFinite(t)).sort((a, b) => a - b) : [];
  return { beatTimes: times(doc.beat_times), downbeatTimes: times(doc.downbeat_times) };
}

/** Index of the first click at or after `audioS` (grid.length when there is none). */
export function firstClickFrom(grid: readonly Click[], audioS: number): number {
  let lo = 0;
  let hi = grid.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (grid[mid].audioS < audioS - 1e-4) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export type ScheduleWindow = {
  /** Where the recording is now (seconds) and the audio context's clock at that moment. */
  mediaS: number;
  contextS: number;
  /** Playback speed, 1 = as recorded. */
  rate: number;
  /** How far ahead to schedule, in real seconds. */
  aheadS: number;
  /** The first beat not scheduled yet. */
  fromIndex: number;
  /** No click at or after this audio time (a loop's end). */
  untilS: number;
  /** A beat this much behind the recording (seconds) still clicks, at once; an older one is skipped. */
  lateS: number;
};

/** The clicks due within the window, and the first beat left for the next one. */
export function clicksDue(grid: readonly Click[], w: ScheduleWindow): { clicks: ScheduledClick[]; next: number } {
  const clicks: ScheduledClick[] = [];
  const horizon = Math.min(w.mediaS + w.aheadS * w.rate, w.untilS - 1e-4);
  let i = w.fromIndex;
  for (; i < grid.length && grid[i].audioS < horizon; i += 1) {
    const aheadS = (grid[i].audioS - w.mediaS) / w.rate;
    if (aheadS < -w.lateS) continue;
    clicks.push({ index: i, at: w.contextS + Math.max(0, aheadS), accent: grid[i].accent });
  }
  return { clicks, next: i };
}

/** A count-in: its clicks on the audio context's clock, where the recording starts, and when. */
export type CountIn = { startS: number; clicks: { at: number; accent: boolean }[]; mediaAt: number };

const DEFAULT_BEAT_S = 0.5;

/**
 * One bar of clicks before the bar heard at `audioS` (before the first bar: bar 1), at that bar's tempo
 * and metre, `rate` times faster, starting at `contextS`; the recording starts from that bar's downbeat
 * one beat after the last click. The grid's downbeats give the bar's beats; where it cannot (no
 * downbeats, or a single bar), the sheet's `beatsPerBar` does (two in 6/8, four in 12/8 and 4/4).
 */
export function countIn(grid: readonly Click[], audioS: number, rate: number, contextS: number, beatsPerBar: number): CountIn {
  const downbeats = grid.flatMap((c, i) => (c.accent ? [i] : []));
  if (!downbeats.length) return evenCountIn(Math.max(0, audioS), beatsPerBar, DEFAULT_BEAT_S / rate, contextS);
  let bar = 0;
  for (let k = 0; k < downbeats.length; k += 1) if (grid[downbeats[k]].audioS <= audioS + 1e-4) bar = k;
  const first = downbeats[bar];
  const end = downbeats[bar + 1] ?? (bar > 0 ? first + (first - downbeats[bar - 1]) : Math.min(grid.length, first + beatsPerBar));
  const beats = Math.max(1, Math.min(end, grid.length) - first);
  const beatS = grid[first + 1] ? grid[first + 1].audioS - grid[first].audioS : first > 0 ? grid[first].audioS - grid[first - 1].audioS : DEFAULT_BEAT_S;
  return evenCountIn(grid[first].audioS, beats, beatS / rate, contextS);
}

function evenCountIn(startS: number, beats: number, intervalS: number, contextS: number): CountIn {
  const clicks = Array.from({ length: beats }, (_, k) => ({ at: contextS + k * intervalS, accent: k === 0 }));
  return { startS, clicks, mediaAt: contextS + beats * intervalS };
}
