/**
 * The sheet's bars in audio time, the loop chosen over them, and the speed of each loop pass. A bar's
 * place on the sheet (its quarter notes, from verovio's timemap) is mapped to the audio by the sheet's
 * clock (hits.json's beat_times), so the bars follow a drummer who drifts.
 */
import type { Clock, TimemapEntry } from "@/lib/timemap";

/** A bar of the sheet: verovio's measure id, its place in quarter notes and when it is heard. */
export type Bar = { index: number; id: string; startQ: number; endQ: number; startS: number; endS: number };

/** The bars chosen for the loop, first and last included, first ≤ last. */
export type LoopBars = { first: number; last: number };

/** The measures' onsets in verovio's timemap (renderToTimemap with includeMeasures), in sheet order. */
export function measuresFrom(timemap: readonly TimemapEntry[]): { id: string; q: number }[] {
  const seen = new Set<string>();
  const measures: { id: string; q: number }[] = [];
  for (const entry of timemap) {
    if (!entry.measureOn || seen.has(entry.measureOn)) continue;
    seen.add(entry.measureOn);
    measures.push({ id: entry.measureOn, q: entry.qstamp ?? 0 });
  }
  return measures.sort((a, b) => a.q - b.q);
}

/** Quarter notes in a bar of `timeSignature` ("4/4" → 4, "6/8" → 3); 4 when unknown. */
export function quartersPerBar(timeSignature: string | null | undefined): number {
  const match = /^(\d+)\/(\d+)$/.exec(timeSignature?.trim() ?? "");
  if (!match) return 4;
  const quarters = (Number(match[1]) * 4) / Number(match[2]);
  return quarters > 0 && Number.isFinite(quarters) ? quarters : 4;
}

/**
 * Quarter notes in a counted beat of `timeSignature`: a dotted quarter (1.5) in compound metres (6/8, 12/8:
 * the notation stage counts them so, and hits.json's beat_times are those beats), else one beat of the
 * denominator ("3/4" → 1, "2/2" → 2); 1 when unknown.
 */
export function quartersPerBeat(timeSignature: string | null | undefined): number {
  const match = /^(\d+)\/(\d+)$/.exec(timeSignature?.trim() ?? "");
  if (!match) return 1;
  const [count, unit] = [Number(match[1]), Number(match[2])];
  if (unit === 8 && count > 0 && count % 3 === 0) return 1.5;
  return unit > 0 ? 4 / unit : 1;
}

/** The bars: each runs to the next one's start; the last one lasts as long as the one before (or a full bar). */
export function barsFrom(measures: readonly { id: string; q: number }[], clock: Clock, barQuarters: number): Bar[] {
  return measures.map((m, i) => {
    const next = measures[i + 1];
    const previous = measures[i - 1];
    const endQ = next ? next.q : m.q + (previous ? m.q - previous.q : barQuarters);
    return { index: i, id: m.id, startQ: m.q, endQ, startS: clock.toAudio(m.q), endS: clock.toAudio(endQ) };
  });
}

/** The bar heard at `audioS`, or -1 before the first bar and after the last. */
export function barIndexAt(bars: readonly Bar[], audioS: number): number {
  // A seek lands on a bar's start computed in floating point: a hair before it still counts as that bar.
  const at = audioS + 1e-4;
  let lo = 0;
  let hi = bars.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (bars[mid].startS <= at) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found >= 0 && at < bars[found].endS ? found : -1;
}

/**
 * Counted beats in a bar of `timeSignature`: the beats a musician feels and the click sounds (hits.json's
 * beat_times), so two in 6/8 and four in 12/8 (dotted quarters), four in 4/4, three in 3/4; 4 when unknown.
 */
export function beatsPerBar(timeSignature: string | null | undefined): number {
  return Math.max(1, Math.round(quartersPerBar(timeSignature) / quartersPerBeat(timeSignature)));
}

/**
 * The counted beat of `bar` (1 = its downbeat) at sheet position `quarters`, each beat `beatQuarters`
 * quarters long (quartersPerBeat: 1.5 in 6/8 and 12/8, so the count matches the click's).
 */
export function beatInBar(bar: Bar, quarters: number, beatQuarters: number): number {
  const beats = Math.max(1, Math.ceil((bar.endQ - bar.startQ) / beatQuarters - 1e-6));
  return Math.min(beats, Math.max(1, Math.floor((quarters - bar.startQ) / beatQuarters + 1e-6) + 1));
}

/** Where counted beat `beat` of `bar` (1 = its downbeat) starts on the sheet, in quarter notes. */
export function beatStartQ(bar: Bar, beat: number, beatQuarters: number): number {
  return bar.startQ + (beat - 1) * beatQuarters;
}

/** The bar `delta` bars from the one heard at `audioS` (before the first bar: from bar 1), kept on the sheet. */
export function barFrom(bars: readonly Bar[], audioS: number, delta: number): number {
  if (!bars.length) return -1;
  const current = barIndexAt(bars, audioS);
  const from = current >= 0 ? current : audioS < bars[0].startS ? (delta > 0 ? -1 : 0) : bars.length;
  return Math.min(bars.length - 1, Math.max(0, from + delta));
}

/** The loop from bar `a` to bar `b`, in whichever order they were picked. */
export function loopBetween(a: number, b: number): LoopBars {
  return { first: Math.min(a, b), last: Math.max(a, b) };
}

/** The loop with its first bar set to `bar` (its last bar moves along when it would come before). */
export function withLoopStart(loop: LoopBars | null, bar: number): LoopBars {
  return { first: bar, last: loop && loop.last >= bar ? loop.last : bar };
}

/** The loop with its last bar set to `bar` (its first bar moves along when it would come after). */
export function withLoopEnd(loop: LoopBars | null, bar: number): LoopBars {
  return { first: loop && loop.first <= bar ? loop.first : bar, last: bar };
}

/** The audio the loop repeats: from its first bar's start to its last bar's end; null if it is off the sheet. */
export function loopSpan(bars: readonly Bar[], loop: LoopBars): { startS: number; endS: number } | null {
  const first = bars[loop.first];
  const last = bars[loop.last];
  return first && last && loop.first <= loop.last ? { startS: first.startS, endS: last.endS } : null;
}

/** Speed limits of the player, in percent of the recording's. */
export const MIN_RATE_PCT = 50;
export const MAX_RATE_PCT = 150;

/** `ratePct` kept within the player's speeds and on whole percents. */
export function clampRate(ratePct: number): number {
  return Math.min(MAX_RATE_PCT, Math.max(MIN_RATE_PCT, Math.round(ratePct)));
}

/** The speed of the next loop pass when each pass is a little faster: `stepPct` more, up to `capPct`. */
export function nextPassRate(ratePct: number, stepPct: number, capPct: number): number {
  return ratePct >= capPct ? ratePct : Math.min(capPct, ratePct + stepPct);
}
