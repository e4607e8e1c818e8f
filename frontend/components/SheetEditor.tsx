"use client";

import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from "react";

import { ApiError, createRevision, getRevision, restoreRevision, type RevisionIn } from "@/lib/api/client";
import { REVISION_BPM, REVISION_METRES } from "@/lib/api/revision";
import {
  ADDED_VELOCITY,
  KIT,
  currentHits,
  historyKey,
  hitOrigin,
  record,
  redo,
  startHistory,
  timeOfStep,
  undo,
  type Drum,
  type Edit,
  type History,
} from "@/lib/editor/edits";
import { barCells, barGrid, beatAt, cellKey, gridSteps, hitsDocument, shiftedDownbeat, stepName, stepsPerBeat } from "@/lib/editor/grid";
import type { NoteCell } from "@/lib/editor/sheetNotes";
import type { Bar } from "@/lib/practice/bars";

type Metre = NonNullable<RevisionIn["time_signature"]>;
type Cursor = { bar: number; drum: Drum; step: number };
/** A note picked on the engraved sheet: its cell in the bar shown; `n` counts the picks (a new one, a new n). */
export type NotePick = { drum: Drum; step: number; n: number };
type Save = { state: "idle" } | { state: "saving"; message: string } | { state: "error"; message: string };

// What a revision may fix, as the API's schema says (generated: npm run api:generate).
const METRES: readonly Metre[] = REVISION_METRES;
const { min: MIN_BPM, max: MAX_BPM } = REVISION_BPM;
const POLL_MS = 1000;

function drumLabel(drum: Drum): string {
  return KIT.find((k) => k.drum === drum)?.label ?? drum;
}

function beatsWord(n: number): string {
  return `${n} beat${n === 1 ? "" : "s"}`;
}

/** Is the key's target a field that keeps its own undo (the note)? */
function inTextField(target: EventTarget): boolean {
  return target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement;
}

/**
 * The sheet editor (the owner's only): a bar picked on the sheet opens as a grid of drums by 16th steps;
 * a note picked in it can change drum, be deleted, accented or ghosted, and an empty step takes a new
 * note. Tempo, metre and where bar 1 starts apply to the whole piece. Edits undo and redo; saving makes
 * a new revision (the transcription is kept), waits for its sheet, PDF and MIDI, and shows it.
 */
export function SheetEditor({
  jobId,
  revision,
  hitsJson,
  bars,
  bar,
  focusRequest,
  pick,
  onPicked,
  tempoBpm,
  timeSignature,
  onSaved,
  onDirty,
}: {
  jobId: string;
  /** The revision edited: the one the page shows, whose hits.json is `hitsJson`. */
  revision: number;
  hitsJson: unknown;
  bars: readonly Bar[];
  /** The bar picked on the sheet, or null before one is. */
  bar: number | null;
  /** Changes when a bar was picked with the keyboard: the grid takes the focus. */
  focusRequest: number;
  /** The latest note picked on the sheet (in `bar`): the grid picks its cell. */
  pick: NotePick | null;
  /** The cell picked in the grid (null: none), for the sheet to mark its note. */
  onPicked(cell: NoteCell | null): void;
  tempoBpm: number | null;
  timeSignature: string | null;
  /** The new revision is saved and is now the job's: read the job again. */
  onSaved(number: number): void;
  onDirty(dirty: boolean): void;
}) {
  const ids = useId();
  const doc = useMemo(() => hitsDocument(hitsJson), [hitsJson]);
  const [history, setHistory] = useState<History>(() => startHistory(doc?.hits ?? []));
  const [cursor, setCursor] = useState<Cursor | null>(null);
  // A note picked on the sheet picks its cell; a pick made before this editor was shown is not repeated.
  const [seenPick, setSeenPick] = useState(pick?.n ?? 0);
  if (pick && pick.n !== seenPick) {
    setSeenPick(pick.n);
    if (bar !== null) setCursor({ bar, drum: pick.drum, step: pick.step });
  }
  const startTempo = tempoBpm != null ? String(Math.round(tempoBpm)) : "";
  const startMetre = METRES.find((m) => m === timeSignature) ?? "";
  const [tempo, setTempo] = useState(startTempo);
  const [metre, setMetre] = useState<Metre | "">(startMetre);
  const [downbeat, setDownbeat] = useState<number | null>(null);
  const [note, setNote] = useState("");
  const [save, setSave] = useState<Save>({ state: "idle" });
  const cells = useRef(new Map<string, HTMLTableCellElement>());
  const focusCursor = useRef(false);
  const alive = useRef(true);

  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);

  const hits = useMemo(() => currentHits(history), [history]);
  const beatTimes = useMemo(() => doc?.beatTimes ?? [], [doc]);
  const barInfo = bar !== null ? bars[bar] : undefined;
  const perBeat = stepsPerBeat(timeSignature);
  const grid = useMemo(() => (barInfo && beatTimes.length > 1 ? barGrid(beatTimes, barInfo, perBeat) : null), [barInfo, beatTimes, perBeat]);
  const filled = useMemo(() => (grid ? barCells(hits, beatTimes, grid) : new Map<string, number>()), [grid, hits, beatTimes]);
  const steps = grid ? gridSteps(grid) : 0;

  // The cell that takes Tab: the picked one, else the bar's first note, else its first cell.
  const firstNote = KIT.flatMap((k) => Array.from({ length: steps }, (_, s) => ({ drum: k.drum, step: s }))).find((c) =>
    filled.has(cellKey(c.drum, c.step)),
  );
  const at =
    cursor && cursor.bar === bar && cursor.step < steps ? cursor : grid ? { bar: bar!, ...(firstNote ?? { drum: KIT[0].drum, step: 0 }) } : null;
  const picked = cursor && cursor.bar === bar && cursor.step < steps ? cursor : null;
  const pickedHit = picked ? (filled.get(cellKey(picked.drum, picked.step)) ?? -1) : -1;

  // The note as engraved: a picked note whose drum changed is still the original drum on the sheet until
  // saved, so the sheet keeps marking that note (and the caption names the change).
  const origin = pickedHit >= 0 ? hitOrigin(history, pickedHit) : -1;
  const engravedDrum = origin >= 0 ? history.original[origin].instrument : null;
  const shownDrum = picked ? (engravedDrum ?? picked.drum) : null;
  const [pickedBar, pickedDrum, pickedStep] = picked && shownDrum ? [picked.bar, shownDrum, picked.step] : [-1, null, -1];
  useEffect(() => {
    onPicked(pickedDrum === null ? null : { bar: pickedBar, drum: pickedDrum, step: pickedStep });
  }, [pickedBar, pickedDrum, pickedStep, onPicked]);
  useEffect(() => () => onPicked(null), [onPicked]);

  const firstDownbeat = doc ? (doc.downbeatTimes[0] ?? doc.beatTimes[0]) : 0;
  const shownDownbeat = downbeat ?? firstDownbeat;
  const downbeatMoved = doc ? Math.round(beatAt(beatTimes, shownDownbeat)) - Math.round(beatAt(beatTimes, firstDownbeat)) : 0;
  const tempoChanged = tempo.trim() !== startTempo;
  const metreChanged = metre !== startMetre;
  const dirty = history.done.length > 0 || tempoChanged || metreChanged || downbeatMoved !== 0;
  const saving = save.state === "saving";

  useEffect(() => onDirty(dirty), [dirty, onDirty]);

  // Unsaved edits: the browser asks before the page is left or reloaded.
  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = "";
    };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);

  // A bar picked with the keyboard: its grid takes the focus (a request made before this editor was
  // shown, for an earlier version, is not repeated).
  const focusHandled = useRef(focusRequest);
  useEffect(() => {
    if (focusRequest === focusHandled.current) return;
    focusHandled.current = focusRequest;
    focusCursor.current = true;
  }, [focusRequest]);
  useEffect(() => {
    if (!focusCursor.current || !at) return;
    focusCursor.current = false;
    cells.current.get(cellKey(at.drum, at.step))?.focus();
  });

  if (!doc) {
    return (
      <p className="message message--warning" role="status">
        This sheet has no beat grid to edit on. Download the MusicXML to edit it in a notation program.
      </p>
    );
  }

  function edit(change: Edit, next?: Cursor) {
    setHistory((h) => record(h, change));
    setSave({ state: "idle" });
    if (next) setCursor(next);
  }

  function addAt(c: Cursor) {
    if (!grid) return;
    const time = timeOfStep(beatTimes, grid.firstBeat, c.step, grid.stepsPerBeat);
    edit({ kind: "add", hit: { time, instrument: c.drum, velocity: ADDED_VELOCITY, accent: false, ghost: false } }, c);
  }

  function moveTo(c: Cursor) {
    focusCursor.current = true;
    setCursor(c);
  }

  function stepHistory(kind: "undo" | "redo") {
    setHistory((h) => (kind === "undo" ? undo(h) : redo(h)));
    setSave({ state: "idle" });
  }

  function onGridKey(e: KeyboardEvent<HTMLTableElement>) {
    if (!at || e.ctrlKey || e.metaKey || e.altKey) return;
    const row = KIT.findIndex((k) => k.drum === at.drum);
    const hit = filled.get(cellKey(at.drum, at.step)) ?? -1;
    const go = (r: number, s: number) => moveTo({ bar: at.bar, drum: KIT[Math.min(KIT.length - 1, Math.max(0, r))].drum, step: Math.min(steps - 1, Math.max(0, s)) });
    switch (e.key) {
      case "ArrowLeft":
        go(row, at.step - 1);
        break;
      case "ArrowRight":
        go(row, at.step + 1);
        break;
      case "ArrowUp":
        go(row - 1, at.step);
        break;
      case "ArrowDown":
        go(row + 1, at.step);
        break;
      case "Home":
        go(row, 0);
        break;
      case "End":
        go(row, steps - 1);
        break;
      case "Enter":
      case " ":
        if (hit < 0) addAt(at);
        else setCursor(at);
        break;
      case "Delete":
      case "Backspace":
        if (hit >= 0) edit({ kind: "delete", index: hit }, at);
        break;
      case "a":
      case "A":
        if (hit >= 0) edit({ kind: "accent", index: hit }, at);
        break;
      case "g":
      case "G":
        if (hit >= 0) edit({ kind: "ghost", index: hit }, at);
        break;
      default:
        return;
    }
    // The player's keys (arrows, Space) are not for the sheet while the grid has the focus.
    e.preventDefault();
  }

  function onEditorKey(e: KeyboardEvent<HTMLElement>) {
    if (inTextField(e.target)) return;
    const action = historyKey(e);
    if (!action) return;
    e.preventDefault();
    stepHistory(action);
  }

  function discardPiece() {
    setTempo(startTempo);
    setMetre(startMetre);
    setDownbeat(null);
  }

  async function saveRevision() {
    const body: RevisionIn = { hits, base_revision: revision, note: note.trim() || null };
    if (tempoChanged) {
      const bpm = Number(tempo);
      if (!tempo.trim() || !Number.isFinite(bpm) || bpm < MIN_BPM || bpm > MAX_BPM) {
        setSave({ state: "error", message: `The tempo must be between ${MIN_BPM} and ${MAX_BPM} BPM.` });
        return;
      }
      body.tempo_bpm = bpm;
    }
    if (metreChanged && metre) body.time_signature = metre;
    if (downbeatMoved !== 0) body.first_downbeat_s = shownDownbeat;
    setSave({ state: "saving", message: "Saving…" });
    try {
      let saved = await createRevision(jobId, body);
      while (saved.status === "pending" || saved.status === "processing") {
        if (!alive.current) return;
        setSave({ state: "saving", message: `Writing version ${saved.number}: the sheet, its PDF and MIDI…` });
        await new Promise((r) => setTimeout(r, POLL_MS));
        saved = await getRevision(jobId, saved.number);
      }
      if (saved.status === "failed") {
        setSave({ state: "error", message: saved.error_message ?? `Version ${saved.number} could not be written. Save again.` });
        return;
      }
      await restoreRevision(jobId, saved.number);
      if (!alive.current) return;
      setSave({ state: "idle" });
      onSaved(saved.number);
    } catch (exc) {
      if (alive.current) setSave({ state: "error", message: exc instanceof ApiError ? exc.message : "The sheet could not be saved. Try again." });
    }
  }

  const pickedNote = pickedHit >= 0 ? hits[pickedHit] : null;
  const stepWords = (step: number) => `beat ${Math.floor(step / perBeat) + 1}${step % perBeat ? ` “${stepName(step, perBeat)}”` : ""}`;

  return (
    <div className="editor" onKeyDown={onEditorKey}>
      <div className="editor__history" role="group" aria-label="Undo and redo">
        <button type="button" className="button" onClick={() => stepHistory("undo")} disabled={!history.done.length || saving} aria-keyshortcuts="Control+Z">
          Undo
        </button>
        <button
          type="button"
          className="button"
          onClick={() => stepHistory("redo")}
          disabled={!history.undone.length || saving}
          aria-keyshortcuts="Control+Shift+Z Control+Y"
        >
          Redo
        </button>
        <span className="hint editor__count" aria-live="polite">
          {history.done.length ? `${history.done.length} unsaved change${history.done.length === 1 ? "" : "s"} to notes` : "No changes to notes yet"}
        </span>
      </div>

      {!grid ? (
        <p className="hint editor__pick">Pick a bar on the sheet (click or tap it, or Enter on it) to edit its notes.</p>
      ) : (
        <section className="editor__bar" aria-labelledby={`${ids}-bar`}>
          <h3 id={`${ids}-bar`} className="editor__title">
            Bar {bar! + 1}
          </h3>
          <p className="hint" id={`${ids}-keys`}>
            Arrow keys move between steps and drums. Enter adds a note on an empty step; Delete removes a note, A accents it, G makes it a
            ghost note. Ctrl+Z undoes, Ctrl+Shift+Z redoes.
          </p>
          <div className="editor__scroll">
            <table
              role="grid"
              className="beats"
              aria-labelledby={`${ids}-bar`}
              aria-describedby={`${ids}-keys`}
              onKeyDown={onGridKey}
            >
              <thead>
                <tr>
                  <th scope="col" className="beats__corner">
                    <span className="visually-hidden">Drum</span>
                  </th>
                  {Array.from({ length: steps }, (_, s) => (
                    <th key={s} scope="col" className={s % perBeat === 0 ? "beats__head beats__head--beat" : "beats__head"}>
                      {stepName(s, perBeat)}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {KIT.map((k) => (
                  <tr key={k.drum}>
                    <th scope="row" className="beats__drum">
                      {k.label}
                    </th>
                    {Array.from({ length: steps }, (_, s) => {
                      const key = cellKey(k.drum, s);
                      const index = filled.get(key) ?? -1;
                      const hit = index >= 0 ? hits[index] : null;
                      const isAt = at?.drum === k.drum && at.step === s;
                      const isPicked = picked?.drum === k.drum && picked.step === s;
                      const mark = hit ? (hit.accent ? "accented note" : hit.ghost ? "ghost note" : "note") : "empty";
                      const classes = [
                        "beats__cell",
                        s % perBeat === 0 && "beats__cell--beat",
                        hit && "beats__cell--note",
                        hit?.accent && "beats__cell--accent",
                        hit?.ghost && "beats__cell--ghost",
                        isPicked && "beats__cell--picked",
                      ].filter(Boolean);
                      return (
                        <td
                          key={s}
                          ref={(el) => {
                            if (el) cells.current.set(key, el);
                            else cells.current.delete(key);
                          }}
                          role="gridcell"
                          className={classes.join(" ")}
                          data-drum={k.drum}
                          data-step={s}
                          data-hit={index >= 0 ? index : undefined}
                          tabIndex={isAt ? 0 : -1}
                          aria-selected={isPicked}
                          onClick={() => setCursor({ bar: bar!, drum: k.drum, step: s })}
                          onFocus={() => setCursor({ bar: bar!, drum: k.drum, step: s })}
                        >
                          <span aria-hidden="true">{hit ? (hit.ghost ? "(●)" : hit.accent ? ">●" : "●") : ""}</span>
                          <span className="visually-hidden">{`${k.label}, ${stepWords(s)}: ${mark}`}</span>
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>

          <div className="editor__note" role="group" aria-labelledby={`${ids}-picked`}>
            <p id={`${ids}-picked`} className="editor__picked" aria-live="polite">
              {!picked
                ? "Pick a step in the grid."
                : pickedNote
                  ? `${drumLabel(pickedNote.instrument)} on ${stepWords(picked.step)}${pickedNote.accent ? ", accented" : pickedNote.ghost ? ", ghost note" : ""}${
                      origin < 0
                        ? " (added: on the sheet once saved)"
                        : engravedDrum && engravedDrum !== pickedNote.instrument
                          ? ` (${drumLabel(engravedDrum)} on the sheet until saved)`
                          : ""
                    }`
                  : `${drumLabel(picked.drum)} on ${stepWords(picked.step)}: no note`}
            </p>
            {picked && pickedNote && (
              <div className="editor__tools">
                <label className="editor__drum">
                  <span className="label">Drum</span>
                  <select
                    className="input"
                    value={pickedNote.instrument}
                    disabled={saving}
                    onChange={(e) => {
                      const drum = e.target.value as Drum;
                      edit({ kind: "drum", index: pickedHit, drum }, { ...picked, drum });
                    }}
                  >
                    {KIT.map((k) => (
                      <option key={k.drum} value={k.drum}>
                        {k.label}
                      </option>
                    ))}
                  </select>
                </label>
                <button
                  type="button"
                  className="button"
                  aria-pressed={pickedNote.accent}
                  disabled={saving}
                  onClick={() => edit({ kind: "accent", index: pickedHit }, picked)}
                >
                  Accent
                </button>
                <button
                  type="button"
                  className="button"
                  aria-pressed={pickedNote.ghost}
                  disabled={saving}
                  onClick={() => edit({ kind: "ghost", index: pickedHit }, picked)}
                >
                  Ghost note
                </button>
                <button type="button" className="button button--danger" disabled={saving} onClick={() => edit({ kind: "delete", index: pickedHit }, picked)}>
                  Delete note
                </button>
              </div>
            )}
            {picked && !pickedNote && (
              <div className="editor__tools">
                <button type="button" className="button" disabled={saving} onClick={() => addAt(picked)}>
                  Add a {drumLabel(picked.drum).toLowerCase()} note
                </button>
              </div>
            )}
          </div>
        </section>
      )}

      <fieldset className="editor__piece" disabled={saving}>
        <legend className="editor__title">Whole piece</legend>
        <div className="editor__fields">
          <label className="editor__field">
            <span className="label">Tempo (BPM)</span>
            <input
              className="input"
              type="number"
              inputMode="decimal"
              min={MIN_BPM}
              max={MAX_BPM}
              step={1}
              value={tempo}
              onChange={(e) => setTempo(e.target.value)}
            />
          </label>
          <label className="editor__field">
            <span className="label">Time signature</span>
            <select className="input" value={metre} onChange={(e) => setMetre(e.target.value as Metre | "")}>
              {startMetre === "" && <option value="">As transcribed ({timeSignature ?? "unknown"})</option>}
              {METRES.map((m) => (
                <option key={m} value={m}>
                  {m === "2/2" ? "2/2 (cut time)" : m}
                </option>
              ))}
            </select>
          </label>
          <div className="editor__field" role="group" aria-labelledby={`${ids}-downbeat`}>
            <span className="label" id={`${ids}-downbeat`}>
              Bar 1 starts at
            </span>
            <div className="editor__downbeat">
              <button
                type="button"
                className="button"
                onClick={() => setDownbeat(shiftedDownbeat(beatTimes, shownDownbeat, -1))}
              >
                1 beat earlier
              </button>
              <output aria-live="polite">
                {shownDownbeat.toFixed(2)} s
                {downbeatMoved !== 0 && ` (${beatsWord(Math.abs(downbeatMoved))} ${downbeatMoved > 0 ? "later" : "earlier"})`}
              </output>
              <button
                type="button"
                className="button"
                onClick={() => setDownbeat(shiftedDownbeat(beatTimes, shownDownbeat, 1))}
              >
                1 beat later
              </button>
            </div>
          </div>
        </div>
        {(tempoChanged || metreChanged || downbeatMoved !== 0) && (
          <p className="hint">
            These apply to the whole sheet when you save.{" "}
            <button type="button" className="button button--quiet" onClick={discardPiece}>
              Keep the piece as it is
            </button>
          </p>
        )}
      </fieldset>

      <div className="editor__save">
        <label className="editor__field editor__field--wide">
          <span className="label">What changed (optional)</span>
          <input className="input" type="text" maxLength={500} value={note} onChange={(e) => setNote(e.target.value)} disabled={saving} />
        </label>
        <button type="button" className="button button--primary" onClick={() => void saveRevision()} disabled={!dirty || saving}>
          {saving ? "Saving…" : "Save as a new version"}
        </button>
      </div>
      <p className="visually-hidden" role="status">
        {save.state === "saving" ? save.message : ""}
      </p>
      {save.state === "saving" && (
        <p className="hint editor__progress" aria-hidden="true">
          {save.message}
        </p>
      )}
      {save.state === "error" && (
        <p className="message message--error" role="alert">
          {save.message}
        </p>
      )}
    </div>
  );
}
