"use client";

import { formatClock } from "@/lib/format";
import { MAX_RATE_PCT, MIN_RATE_PCT, type LoopBars } from "@/lib/practice/bars";
import { SPEED_UP_CAP_PCT, SPEED_UP_PCT, type PlayerState, type PracticeEngine } from "@/lib/practice/engine";
import { SHORTCUTS } from "@/lib/practice/keys";

/** Where the music is, for the transport's read-out. */
export type Position = {
  timeS: number;
  bar: number;
  beat: number;
  /** The beat marker's x on the current bar's page (page pixels), when measured. */
  beatX: number | null;
  countIn: number;
  /** Past the sheet's end (bar is -1 there and before bar 1). */
  afterLastBar: boolean;
};

export type PlayerActions = {
  togglePlay(): void;
  slower(): void;
  faster(): void;
  toggleLoop(): void;
  loopStart(): void;
  loopEnd(): void;
  clearLoop(): void;
};

type Props = {
  engine: PracticeEngine;
  state: PlayerState;
  actions: PlayerActions;
  position: Position;
  barCount: number;
  loop: LoopBars | null;
  loopOn: boolean;
  follow: boolean;
  setFollow(on: boolean): void;
};

export const RATE_STEP_PCT = 5;

function where(position: Position, barCount: number, countingIn: boolean): string {
  if (countingIn) return position.countIn ? `Count-in ${position.countIn}` : "Count-in";
  if (!barCount) return "";
  if (position.bar < 0) return position.afterLastBar ? "After the last bar" : "Before bar 1";
  return `Bar ${position.bar + 1} of ${barCount} · beat ${position.beat}`;
}

function loopName(loop: LoopBars): string {
  return loop.first === loop.last ? `bar ${loop.first + 1}` : `bars ${loop.first + 1}–${loop.last + 1}`;
}

/** The transport: play, where the music is, speed and loop (it stays in view over the sheet). */
export function PracticeTransport({ state, actions, position, barCount, loop, loopOn }: Omit<Props, "engine" | "follow" | "setFollow">) {
  const busy = state.playing || state.countingIn;
  return (
    <div className="transport" role="group" aria-label="Player">
      <button
        type="button"
        className="button button--primary transport__play"
        onClick={actions.togglePlay}
        aria-keyshortcuts="Space"
        data-state={busy ? "playing" : "paused"}
      >
        {busy ? "Pause" : "Play"}
      </button>
      <p className="transport__where">
        <span className="transport__bar">{where(position, barCount, state.countingIn)}</span>
        <span className="transport__time">
          {formatClock(position.timeS)}
          {state.durationS > 0 && ` / ${formatClock(state.durationS)}`}
        </span>
      </p>
      <div className="transport__speed" role="group" aria-label="Speed">
        <button
          type="button"
          className="button transport__step"
          onClick={actions.slower}
          disabled={state.ratePct <= MIN_RATE_PCT}
          aria-label="Slower"
        >
          −
        </button>
        <output className="transport__rate" aria-label="Speed">
          {state.ratePct}%
        </output>
        <button
          type="button"
          className="button transport__step"
          onClick={actions.faster}
          disabled={state.ratePct >= MAX_RATE_PCT}
          aria-label="Faster"
        >
          +
        </button>
      </div>
      <button
        type="button"
        className="button transport__loop"
        onClick={actions.toggleLoop}
        aria-pressed={loopOn}
        aria-keyshortcuts="L"
        disabled={!barCount}
      >
        {loop ? `Loop ${loopName(loop)}` : "Loop"}
      </button>
    </div>
  );
}

/** One row of the mixer: a track's (or the click's) switch and volume, in whole percent. */
function MixerRow({
  name,
  label,
  audible,
  volume,
  shortcut,
  onChange,
}: {
  name: string;
  label: string;
  audible: boolean;
  volume: number;
  shortcut?: string;
  onChange(change: { audible?: boolean; volume?: number }): void;
}) {
  const percent = Math.round(volume * 100);
  return (
    <li className="mixer__row" data-track={name}>
      <label className="switch">
        <input
          type="checkbox"
          role="switch"
          checked={audible}
          onChange={(e) => onChange({ audible: e.target.checked })}
          aria-keyshortcuts={shortcut}
        />
        {label}
      </label>
      <input
        type="range"
        className="mixer__volume"
        min={0}
        max={100}
        step={5}
        value={percent}
        onChange={(e) => onChange({ volume: Number(e.target.value) / 100 })}
        aria-label={`${label} volume`}
        aria-valuetext={`${percent}%`}
      />
      <span className="mixer__value" aria-hidden="true">
        {percent}%
      </span>
    </li>
  );
}

/** The practice panel: each track's switch and volume, the click, speed, count-in, loop, shortcuts. */
export function PracticePanel({ engine, state, actions, loop, loopOn, barCount, follow, setFollow }: Omit<Props, "position">) {
  return (
    <div className="practice card">
      <section className="practice__part" aria-labelledby="mixer-title">
        <h3 id="mixer-title" className="practice__title">
          Tracks
        </h3>
        <ul className="mixer">
          {state.tracks.map((t) => (
            <MixerRow
              key={t.name}
              name={t.name}
              label={t.label}
              audible={t.audible}
              volume={t.volume}
              shortcut={t.name === "drums" ? "M" : undefined}
              onChange={(change) => engine.setTrack(t.name, change)}
            />
          ))}
          <MixerRow
            name="click"
            label="Click"
            audible={state.click.audible}
            volume={state.click.volume}
            shortcut="C"
            onChange={(change) => engine.setClick(change)}
          />
        </ul>
      </section>

      <section className="practice__part" aria-labelledby="tempo-title">
        <h3 id="tempo-title" className="practice__title">
          Speed
        </h3>
        <div className="practice__row">
          <input
            type="range"
            className="practice__speed"
            min={MIN_RATE_PCT}
            max={MAX_RATE_PCT}
            step={RATE_STEP_PCT}
            value={state.ratePct}
            onChange={(e) => engine.setRate(Number(e.target.value))}
            aria-label="Speed"
            aria-valuetext={`${state.ratePct}% of the recording's speed`}
          />
          <span className="mixer__value" aria-hidden="true">
            {state.ratePct}%
          </span>
        </div>
        <label className="checkbox practice__check">
          <input type="checkbox" checked={state.countIn} onChange={(e) => engine.setCountIn(e.target.checked)} />
          Count in one bar before playing
        </label>
      </section>

      <section className="practice__part" aria-labelledby="loop-title">
        <h3 id="loop-title" className="practice__title">
          Loop
        </h3>
        <p className="practice__loop" aria-live="polite">
          {loop
            ? `${loopOn ? "Repeating" : "Off:"} ${loopName(loop)}${loopOn && state.passes ? `, pass ${state.passes + 1}` : ""}`
            : "Shift-click or drag across bars on the sheet, or use the buttons below."}
        </p>
        <div className="practice__buttons">
          <button type="button" className="button" onClick={actions.loopStart} disabled={!barCount} aria-keyshortcuts="[">
            From this bar
          </button>
          <button type="button" className="button" onClick={actions.loopEnd} disabled={!barCount} aria-keyshortcuts="]">
            To this bar
          </button>
          <button type="button" className="button button--quiet" onClick={actions.clearLoop} disabled={!loop}>
            Clear loop
          </button>
        </div>
        <label className="checkbox practice__check">
          <input type="checkbox" checked={state.speedUp} onChange={(e) => engine.setSpeedUp(e.target.checked)} />
          Each pass {SPEED_UP_PCT}% faster, up to {SPEED_UP_CAP_PCT}%
        </label>
      </section>

      <div className="practice__footer">
        {barCount > 0 && (
          <label className="checkbox practice__check">
            <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} />
            Scroll with the music
          </label>
        )}
        <details className="shortcuts">
          <summary>Keyboard shortcuts</summary>
          <dl className="shortcuts__list">
            {SHORTCUTS.map((s) => (
              <div key={s.keys} className="shortcuts__item">
                <dt>
                  <kbd>{s.keys}</kbd>
                </dt>
                <dd>{s.action}</dd>
              </div>
            ))}
            <div className="shortcuts__item">
              <dt>
                <kbd>Enter</kbd>
              </dt>
              <dd>on a bar of the sheet: go there</dd>
            </div>
          </dl>
        </details>
      </div>
      {state.problem && (
        <p className="message message--error" role="alert">
          {state.problem}
        </p>
      )}
    </div>
  );
}
