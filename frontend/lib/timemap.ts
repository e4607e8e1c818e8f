/**
 * Verovio's timemap (renderToTimemap) as cues for the playback cursor: at each onset, the ids of the
 * notes that start there. The sheet's time 0 is its first bar line; the drums audio has lead-in, so
 * the two are lined up with the first detected hit (hits.json).
 */
export type TimemapEntry = { tstamp: number; qstamp?: number; on?: string[]; off?: string[]; tempo?: number };

export type Cue = { ms: number; ids: string[] };

/** Onsets in time order, one cue per distinct time. */
export function cuesFrom(timemap: readonly TimemapEntry[]): Cue[] {
  const byTime = new Map<number, string[]>();
  for (const entry of timemap) {
    if (!entry.on?.length) continue;
    const ms = Math.round(entry.tstamp);
    byTime.set(ms, [...(byTime.get(ms) ?? []), ...entry.on]);
  }
  return [...byTime.entries()].sort((a, b) => a[0] - b[0]).map(([ms, ids]) => ({ ms, ids }));
}

/** Index of the last cue at or before `ms` (sheet time), -1 before the first one. */
export function cueIndexAt(cues: readonly Cue[], ms: number): number {
  let lo = 0;
  let hi = cues.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cues[mid].ms <= ms) {
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

/** The first hit's time in a hits.json document, or null. */
export function firstHitTime(hitsJson: unknown): number | null {
  const hits = (hitsJson as { hits?: { time?: unknown }[] } | null)?.hits;
  if (!Array.isArray(hits)) return null;
  const times = hits.map((h) => Number(h?.time)).filter((t) => Number.isFinite(t));
  return times.length ? Math.min(...times) : null;
}
