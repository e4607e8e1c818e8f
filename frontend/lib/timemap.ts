/**
 * Verovio's timemap (renderToTimemap) as cues for the playback cursor, and the clock that maps the
 * drums audio onto the sheet. The sheet counts in quarter notes from its first bar line; hits.json's
 * beat_times says when each of its beats (quarters, or dotted quarters in 6/8 and 12/8) is heard, so the cursor follows a drummer who speeds up
 * or slows down. Older results without beat_times fall back to one steady tempo lined up with the
 * first detected hit.
 */
export type TimemapEntry = {
  tstamp: number;
  qstamp?: number;
  on?: string[];
  off?: string[];
  tempo?: number;
  /** The measure that starts here (with renderToTimemap's includeMeasures). */
  measureOn?: string;
};

/** The notes that start at one point of the sheet: its time at the written tempo, and in quarter notes. */
export type Cue = { ms: number; q: number; ids: string[] };

/** Drums audio time (seconds) to sheet position (quarter notes from the first bar line), and back. */
export type Clock = { toSheet(audioS: number): number; toAudio(quarters: number): number };

const DEFAULT_QUARTER_MS = 500;

/** Onsets in time order, one cue per distinct time. */
export function cuesFrom(timemap: readonly TimemapEntry[]): Cue[] {
  const quarterMs = 60_000 / (timemap.find((e) => e.tempo)?.tempo ?? 120);
  const byTime = new Map<number, Cue>();
  for (const entry of timemap) {
    if (!entry.on?.length) continue;
    const ms = Math.round(entry.tstamp);
    const cue = byTime.get(ms) ?? { ms, q: entry.qstamp ?? entry.tstamp / quarterMs, ids: [] };
    cue.ids.push(...entry.on);
    byTime.set(ms, cue);
  }
  return [...byTime.values()].sort((a, b) => a.ms - b.ms);
}

/** Index of the last cue at or before sheet position `quarters`, -1 before the first one. */
export function cueIndexAt(cues: readonly Cue[], quarters: number): number {
  // Triplets make qstamps like 0.3333…; a position computed from audio time must not miss them.
  const at = quarters + 1e-6;
  let lo = 0;
  let hi = cues.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cues[mid].q <= at) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/** Seconds of audio before the sheet's time 0: the first hit's time minus the first note's sheet time. */
export function audioOffsetS(cues: readonly Cue[], firstHitS: number | null | undefined): number {
  if (!cues.length || firstHitS == null || !Number.isFinite(firstHitS)) return 0;
  return Math.max(0, firstHitS - cues[0].ms / 1000);
}

/** One steady tempo (the sheet's), lined up with the first detected hit. */
export function steadyClock(cues: readonly Cue[], firstHitS: number | null | undefined): Clock {
  const timed = cues.find((c) => c.q > 0);
  const quarterS = (timed ? timed.ms / timed.q : DEFAULT_QUARTER_MS) / 1000;
  const offsetS = audioOffsetS(cues, firstHitS);
  return {
    toSheet: (audioS) => (audioS - offsetS) / quarterS,
    toAudio: (quarters) => offsetS + quarters * quarterS,
  };
}

function interpolate(x: number, xs: readonly number[], ys: readonly number[]): number {
  const last = xs.length - 1;
  // Outside the beats, carry on at the tempo of the nearest beat.
  const i = x <= xs[0] ? 0 : x >= xs[last] ? last - 1 : upperIndex(xs, x) - 1;
  return ys[i] + ((x - xs[i]) * (ys[i + 1] - ys[i])) / (xs[i + 1] - xs[i]);
}

function upperIndex(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * The performed beats (hits.json beat_times): beat k of the sheet is heard at beatTimes[k], and is
 * `quartersPerBeat` quarters long (1.5 in 6/8 and 12/8, whose beats are dotted quarters).
 */
export function beatClock(beatTimes: readonly number[], quartersPerBeat = 1): Clock {
  const quarters = beatTimes.map((_, k) => k * quartersPerBeat);
  return {
    toSheet: (audioS) => interpolate(audioS, beatTimes, quarters),
    toAudio: (q) => interpolate(q, quarters, beatTimes),
  };
}

/** The beat_times of a hits.json document: at least two, increasing; else null. */
export function beatTimesOf(hitsJson: unknown): number[] | null {
  const beats = (hitsJson as { beat_times?: unknown } | null)?.beat_times;
  if (!Array.isArray(beats) || beats.length < 2) return null;
  const times = beats.map(Number);
  return times.every((t, k) => Number.isFinite(t) && (k === 0 || t > times[k - 1])) ? times : null;
}

/**
 * The clock for a sheet: the performed beats (each `quartersPerBeat` quarters long) where hits.json has
 * them, else the steady tempo.
 */
export function clockFor(cues: readonly Cue[], hitsJson: unknown, quartersPerBeat = 1): Clock {
  const beats = beatTimesOf(hitsJson);
  return beats ? beatClock(beats, quartersPerBeat) : steadyClock(cues, firstHitTime(hitsJson));
}

/** The first hit's time in a hits.json document, or null. */
export function firstHitTime(hitsJson: unknown): number | null {
  const hits = (hitsJson as { hits?: { time?: unknown }[] } | null)?.hits;
  if (!Array.isArray(hits)) return null;
  const times = hits.map((h) => Number(h?.time)).filter((t) => Number.isFinite(t));
  return times.length ? Math.min(...times) : null;
}
