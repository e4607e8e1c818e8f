"use client";

/**
 * The practice player's sound: one media element per track, all routed through one Web Audio graph, and
 * the click.
 *
 * Why media elements and not decoded AudioBuffers:
 * - Speed without a change of pitch: HTMLMediaElement.playbackRate with preservesPitch time-stretches
 *   natively (Chromium, Firefox, Safari); an AudioBufferSourceNode's playbackRate resamples, so a slower
 *   song would also be lower.
 * - Memory on a phone: a decoded track is 32-bit floats, about 10 MB a stereo minute, so three tracks of
 *   a five-minute song would hold some 300 MB; media elements stream from the server (byte ranges).
 * Sync: the drums lead (one clock) and the other tracks follow them (lib/practice/sync.ts), nudged
 * within milliseconds. Each element feeds a GainNode of one AudioContext (volume and mute work on iOS,
 * where an element's volume is fixed), which also plays the click: the clicks are oscillators started at
 * times of that context's clock, computed from the leader's position a little ahead (lib/practice/clicks.ts).
 */
import { clampRate, nextPassRate } from "./bars";
import { clicksDue, countIn, firstClickFrom, type Click } from "./clicks";
import { syncStep } from "./sync";
import type { TrackName, TrackSpec } from "./tracks";

export type TrackState = { name: TrackName; label: string; volume: number; audible: boolean };

export type LoopSpan = { startS: number; endS: number };

/** What the controls show; a new object whenever something changes (for useSyncExternalStore). */
export type PlayerState = {
  playing: boolean;
  countingIn: boolean;
  /** Where the recording was at the last seek, pause or loop pass (while playing, ask time()). */
  positionS: number;
  durationS: number;
  ratePct: number;
  tracks: TrackState[];
  click: { audible: boolean; volume: number };
  countIn: boolean;
  loop: LoopSpan | null;
  /** Each loop pass SPEED_UP_PCT faster, up to SPEED_UP_CAP_PCT. */
  speedUp: boolean;
  passes: number;
  /** Why the last Play did not start the sound, if it did not. */
  problem: string | null;
};

export const SPEED_UP_PCT = 5;
export const SPEED_UP_CAP_PCT = 100;

const TICK_MS = 25;
/** Clicks are scheduled this far ahead (real seconds): more than a late timer, less than a fast beat. */
const AHEAD_S = 0.12;
/** A click this late (seconds of the recording, e.g. right after a seek) still sounds, at once. */
const LATE_S = 0.03;
/** The count-in's first click comes this long after Play, so that it is not cut short. */
const COUNT_IN_LEAD_S = 0.1;
/** The loop's end is caught by a timer set when it is this close (real seconds), not by the next tick. */
const WRAP_TIMER_S = 0.06;

type Track = { spec: TrackSpec; el: HTMLAudioElement; gain: GainNode | null; meter: AnalyserNode | null; catchingUp: boolean };
type Graph = { ctx: AudioContext; clickGate: GainNode; clickOut: GainNode; clickMeter: AnalyserNode };
type LoggedClick = { at: number; accent: boolean; countIn: boolean };

/** What the end-to-end tests read from the page (window.__drumscribePractice): the real graph's state. */
export type PracticeProbe = {
  clicks(): LoggedClick[];
  level(name: TrackName | "click"): number;
  clock(): { mediaS: number; contextS: number; rate: number; preservesPitch: boolean };
  tracks(): { name: TrackName; src: string; paused: boolean; timeS: number }[];
};

let sharedContext: AudioContext | null = null;

/** The page's one AudioContext, made on the first Play (browsers start one only after a gesture). */
function audioContext(): AudioContext {
  sharedContext ??= new AudioContext({ latencyHint: "interactive" });
  return sharedContext;
}

function peak(meter: AnalyserNode | null): number {
  if (!meter) return 0;
  const samples = new Float32Array(meter.fftSize);
  meter.getFloatTimeDomainData(samples);
  let max = 0;
  for (const s of samples) max = Math.max(max, Math.abs(s));
  return max;
}

export class PracticeEngine {
  private readonly tracks: Track[];
  private readonly leader: Track;
  private graph: Graph | null = null;
  private state: PlayerState;
  private readonly listeners = new Set<() => void>();
  private grid: Click[] = [];
  private beatsPerBar = 4;
  private nextClick = 0;
  private scheduled: { osc: OscillatorNode; at: number }[] = [];
  private readonly log: LoggedClick[] = [];
  private countInPlan: { startS: number; clicks: { at: number }[] } | null = null;
  private ticker: ReturnType<typeof setInterval> | null = null;
  private startTimer: ReturnType<typeof setTimeout> | null = null;
  private wrapTimer: ReturnType<typeof setTimeout> | null = null;
  private unlocked = false;
  private probeInstalled: PracticeProbe | null = null;
  private readonly onEnded = () => this.ended();
  private readonly onDuration = () => this.set({ durationS: this.leader.el.duration || 0 });

  constructor(specs: readonly TrackSpec[]) {
    if (!specs.length) throw new Error("the practice player needs at least one track");
    this.tracks = specs.map((spec) => {
      const el = document.createElement("audio");
      el.preload = "auto";
      el.preservesPitch = true;
      el.src = spec.url;
      return { spec, el, gain: null, meter: null, catchingUp: false };
    });
    this.leader = this.tracks.find((t) => t.spec.name === "drums") ?? this.tracks[0];
    this.leader.el.addEventListener("ended", this.onEnded);
    this.leader.el.addEventListener("durationchange", this.onDuration);
    this.state = {
      playing: false,
      countingIn: false,
      positionS: 0,
      durationS: 0,
      ratePct: 100,
      tracks: specs.map((s) => ({ name: s.name, label: s.label, volume: 1, audible: s.audible })),
      click: { audible: false, volume: 0.8 },
      countIn: false,
      loop: null,
      speedUp: false,
      passes: 0,
      problem: null,
    };
    (window as unknown as { __drumscribePractice?: PracticeProbe }).__drumscribePractice = this.probe();
  }

  // --- for React (useSyncExternalStore) ---

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  snapshot = (): PlayerState => this.state;

  /** Where the recording is now (during a count-in: where it will start). */
  time(): number {
    return this.countInPlan ? this.countInPlan.startS : this.leader.el.currentTime;
  }

  /** The count-in's beat being heard (1 = first), or 0. */
  countInBeat(): number {
    if (!this.countInPlan || !this.graph) return 0;
    const now = this.graph.ctx.currentTime;
    return this.countInPlan.clicks.filter((c) => c.at <= now + 0.01).length;
  }

  // --- transport ---

  /** Starts playing (after a bar of count-in when it is on); within a loop, from its start when outside it. */
  play(): void {
    if (this.state.playing || this.state.countingIn) return;
    const graph = this.ensureGraph();
    void graph.ctx.resume();
    let from = this.leader.el.currentTime;
    const loop = this.state.loop;
    if (loop && (from < loop.startS - 1e-3 || from >= loop.endS)) from = loop.startS;
    if (this.state.countIn) {
      const plan = countIn(this.grid, from, this.rate(), graph.ctx.currentTime + COUNT_IN_LEAD_S, this.beatsPerBar);
      this.seekElements(plan.startS);
      this.countInPlan = plan;
      this.unlock(plan.startS);
      for (const c of plan.clicks) this.beep(c.at, c.accent, true);
      this.startTimer = setTimeout(() => this.startMedia(plan.startS), Math.max(0, (plan.mediaAt - graph.ctx.currentTime) * 1000));
      this.set({ countingIn: true, positionS: plan.startS, problem: null });
      return;
    }
    if (Math.abs(from - this.leader.el.currentTime) > 1e-3) this.seekElements(from);
    this.startMedia(from);
  }

  pause(): void {
    this.stopTimers();
    this.cancelClicks();
    this.countInPlan = null;
    for (const t of this.tracks) t.el.pause();
    const at = this.leader.el.currentTime;
    this.seekElements(at);
    this.set({ playing: false, countingIn: false, positionS: at });
  }

  toggle(): void {
    if (this.state.playing || this.state.countingIn) this.pause();
    else this.play();
  }

  /** Moves every track to `audioS`; a count-in under way starts again for the new place. */
  seek(audioS: number): void {
    const duration = this.leader.el.duration;
    const to = Math.max(0, Number.isFinite(duration) && duration > 0 ? Math.min(audioS, duration - 0.05) : audioS);
    if (this.state.countingIn) {
      this.pause();
      this.seekElements(to);
      this.play();
      return;
    }
    this.clearWrapTimer();
    this.cancelClicks();
    this.seekElements(to);
    this.nextClick = firstClickFrom(this.grid, to);
    this.set({ positionS: to });
  }

  // --- settings ---

  setRate(ratePct: number): void {
    const pct = clampRate(ratePct);
    if (pct === this.state.ratePct) return;
    this.set({ ratePct: pct });
    this.applyRate();
  }

  setTrack(name: TrackName, change: Partial<Pick<TrackState, "volume" | "audible">>): void {
    this.set({ tracks: this.state.tracks.map((t) => (t.name === name ? { ...t, ...change } : t)) });
    this.applyGains();
  }

  setClick(change: Partial<PlayerState["click"]>): void {
    this.set({ click: { ...this.state.click, ...change } });
    this.applyGains();
    if (this.state.playing) {
      this.cancelClicks();
      this.nextClick = firstClickFrom(this.grid, this.leader.el.currentTime);
    }
  }

  setCountIn(on: boolean): void {
    this.set({ countIn: on });
  }

  setSpeedUp(on: boolean): void {
    this.set({ speedUp: on, passes: 0 });
  }

  /** The span to repeat, or null for none. */
  setLoop(loop: LoopSpan | null): void {
    const same = loop && this.state.loop && loop.startS === this.state.loop.startS && loop.endS === this.state.loop.endS;
    if (same || (!loop && !this.state.loop)) return;
    this.clearWrapTimer();
    this.set({ loop, passes: 0 });
  }

  /** The beats to click on (lib/practice/clicks.ts), and the counted beats in a bar of the sheet (for a count-in the grid cannot time). */
  setClickGrid(grid: readonly Click[], beatsPerBar: number): void {
    this.beatsPerBar = beatsPerBar;
    const same = grid.length === this.grid.length && grid.every((c, i) => c.audioS === this.grid[i].audioS && c.accent === this.grid[i].accent);
    if (same) return;
    this.grid = [...grid];
    this.nextClick = firstClickFrom(this.grid, this.leader.el.currentTime);
  }

  dispose(): void {
    this.pause();
    this.leader.el.removeEventListener("ended", this.onEnded);
    this.leader.el.removeEventListener("durationchange", this.onDuration);
    for (const t of this.tracks) {
      t.gain?.disconnect();
      t.meter?.disconnect();
      t.el.removeAttribute("src");
      t.el.load();
    }
    this.graph?.clickOut.disconnect();
    this.listeners.clear();
    const w = window as unknown as { __drumscribePractice?: PracticeProbe };
    if (w.__drumscribePractice && this.probeInstalled === w.__drumscribePractice) delete w.__drumscribePractice;
  }

  // --- inside ---

  private probe(): PracticeProbe {
    this.probeInstalled = {
      clicks: () => this.log.map((c) => ({ ...c })),
      level: (name) => (name === "click" ? peak(this.graph?.clickMeter ?? null) : peak(this.tracks.find((t) => t.spec.name === name)?.meter ?? null)),
      clock: () => ({
        mediaS: this.leader.el.currentTime,
        contextS: this.graph?.ctx.currentTime ?? 0,
        rate: this.leader.el.playbackRate,
        preservesPitch: this.leader.el.preservesPitch,
      }),
      tracks: () => this.tracks.map((t) => ({ name: t.spec.name, src: t.el.currentSrc || t.el.src, paused: t.el.paused, timeS: t.el.currentTime })),
    };
    return this.probeInstalled;
  }

  private rate(): number {
    return this.state.ratePct / 100;
  }

  private set(patch: Partial<PlayerState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener();
  }

  private ensureGraph(): Graph {
    if (this.graph) return this.graph;
    const ctx = audioContext();
    const meterFor = (node: AudioNode) => {
      const meter = ctx.createAnalyser();
      // About 85 ms of sound: a click is still in the window when a busy page looks a few frames late.
      meter.fftSize = 4096;
      node.connect(meter);
      meter.connect(ctx.destination);
      return meter;
    };
    for (const t of this.tracks) {
      t.gain = ctx.createGain();
      ctx.createMediaElementSource(t.el).connect(t.gain);
      t.meter = meterFor(t.gain);
    }
    const clickGate = ctx.createGain();
    const clickOut = ctx.createGain();
    clickGate.connect(clickOut);
    this.graph = { ctx, clickGate, clickOut, clickMeter: meterFor(clickOut) };
    this.applyGains();
    return this.graph;
  }

  /**
   * Lets every element start later without a gesture (after a count-in), as Safari allows an element that
   * once played from one: each plays muted for a moment, then waits at `audioS`.
   */
  private unlock(audioS: number): void {
    if (this.unlocked) return;
    this.unlocked = true;
    for (const t of this.tracks) {
      t.el.muted = true;
      t.el
        .play()
        .then(() => {
          if (this.state.playing) return;
          t.el.pause();
          t.el.currentTime = this.countInPlan?.startS ?? audioS;
        })
        .catch(() => undefined)
        .finally(() => {
          t.el.muted = false;
        });
    }
  }

  private applyGains(): void {
    if (!this.graph) return;
    const now = this.graph.ctx.currentTime;
    for (const t of this.tracks) {
      const s = this.state.tracks.find((x) => x.name === t.spec.name)!;
      // A short ramp, so a switch does not crackle.
      t.gain?.gain.setTargetAtTime(s.audible ? s.volume : 0, now, 0.01);
    }
    this.graph.clickGate.gain.setTargetAtTime(this.state.click.audible ? 1 : 0, now, 0.005);
    this.graph.clickOut.gain.setTargetAtTime(this.state.click.volume, now, 0.01);
  }

  private applyRate(): void {
    for (const t of this.tracks) {
      t.el.playbackRate = this.rate();
      t.catchingUp = false;
    }
    if (this.state.playing) {
      // Clicks already scheduled were timed for the old speed.
      this.clearWrapTimer();
      this.cancelClicks();
      this.nextClick = firstClickFrom(this.grid, this.leader.el.currentTime);
    }
  }

  private seekElements(audioS: number): void {
    for (const t of this.tracks) {
      if (Math.abs(t.el.currentTime - audioS) > 1e-3) t.el.currentTime = audioS;
      t.catchingUp = false;
      t.el.playbackRate = this.rate();
    }
  }

  private startMedia(from: number): void {
    this.startTimer = null;
    this.countInPlan = null;
    this.nextClick = firstClickFrom(this.grid, from);
    for (const t of this.tracks) t.el.playbackRate = this.rate();
    this.set({ playing: true, countingIn: false, positionS: from, problem: null });
    Promise.all(this.tracks.map((t) => t.el.play())).catch((exc: unknown) => {
      this.pause();
      this.set({
        problem:
          exc instanceof DOMException && exc.name === "NotAllowedError"
            ? "The browser did not let the music start. Press Play again."
            : "The music could not be played. Reload the page to try again.",
      });
    });
    this.ticker ??= setInterval(() => this.tick(), TICK_MS);
  }

  /** Every few milliseconds while playing: the loop, the followers, the clicks ahead. */
  private tick(): void {
    if (!this.graph || !this.state.playing) return;
    const leader = this.leader.el;
    const t = leader.currentTime;
    const rate = this.rate();
    const loop = this.state.loop;
    if (loop) {
      const leftS = (loop.endS - t) / rate;
      if (leftS <= 0.002) {
        this.wrap();
        return;
      }
      if (leftS < WRAP_TIMER_S && !this.wrapTimer) this.wrapTimer = setTimeout(() => this.wrap(), leftS * 1000);
    }
    if (!leader.paused && !leader.seeking) {
      for (const f of this.tracks) {
        if (f === this.leader || f.el.seeking || f.el.paused) continue;
        const step = syncStep(f.el.currentTime - t, rate, f.catchingUp);
        if (step.kind === "jump") {
          f.el.currentTime = t;
          f.catchingUp = false;
        } else {
          f.catchingUp = step.kind === "nudge";
          if (f.el.playbackRate !== step.rate) f.el.playbackRate = step.rate;
        }
      }
    }
    if (!this.state.click.audible || leader.seeking) return;
    const due = clicksDue(this.grid, {
      mediaS: t,
      contextS: this.graph.ctx.currentTime,
      rate,
      aheadS: AHEAD_S,
      fromIndex: this.nextClick,
      untilS: loop ? loop.endS : Infinity,
      lateS: LATE_S,
    });
    for (const c of due.clicks) this.beep(c.at, c.accent, false);
    this.nextClick = due.next;
  }

  /** The end of the loop: back to its start, a little faster when asked. */
  private wrap(): void {
    this.clearWrapTimer();
    const loop = this.state.loop;
    if (!loop || !this.state.playing) return;
    const ratePct = this.state.speedUp ? nextPassRate(this.state.ratePct, SPEED_UP_PCT, SPEED_UP_CAP_PCT) : this.state.ratePct;
    this.set({ ratePct, passes: this.state.passes + 1, positionS: loop.startS });
    this.seekElements(loop.startS);
    this.nextClick = firstClickFrom(this.grid, loop.startS);
  }

  private ended(): void {
    if (this.state.loop && this.state.playing) {
      this.wrap();
      for (const t of this.tracks) void t.el.play().catch(() => undefined);
      return;
    }
    this.pause();
  }

  private beep(at: number, accent: boolean, isCountIn: boolean): void {
    const graph = this.graph;
    if (!graph) return;
    const { ctx } = graph;
    const osc = ctx.createOscillator();
    const envelope = ctx.createGain();
    osc.type = "triangle";
    osc.frequency.value = accent ? 1760 : 1175;
    envelope.gain.setValueAtTime(0, at);
    envelope.gain.linearRampToValueAtTime(accent ? 1 : 0.6, at + 0.002);
    envelope.gain.exponentialRampToValueAtTime(0.001, at + 0.06);
    osc.connect(envelope);
    // The count-in sounds even with the click off; its volume is the click's.
    envelope.connect(isCountIn ? graph.clickOut : graph.clickGate);
    osc.start(at);
    osc.stop(at + 0.07);
    const entry = { osc, at };
    this.scheduled.push(entry);
    osc.onended = () => {
      envelope.disconnect();
      this.scheduled = this.scheduled.filter((s) => s !== entry);
    };
    this.log.push({ at, accent, countIn: isCountIn });
    if (this.log.length > 256) this.log.splice(0, this.log.length - 256);
  }

  /** Silences the clicks scheduled but not heard yet. */
  private cancelClicks(): void {
    const now = this.graph?.ctx.currentTime ?? 0;
    for (const { osc, at } of this.scheduled) if (at > now) osc.stop();
  }

  private clearWrapTimer(): void {
    if (this.wrapTimer) clearTimeout(this.wrapTimer);
    this.wrapTimer = null;
  }

  private stopTimers(): void {
    this.clearWrapTimer();
    if (this.ticker) clearInterval(this.ticker);
    if (this.startTimer) clearTimeout(this.startTimer);
    this.ticker = null;
    this.startTimer = null;
  }
}
