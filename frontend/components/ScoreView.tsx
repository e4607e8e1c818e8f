"use client";

import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type PointerEvent } from "react";

import { ApiError, sourceArtifactText, sourceKey, type Artifact, type ArtifactSource } from "@/lib/api/client";
import {
  barFrom,
  barIndexAt,
  barsFrom,
  beatInBar,
  beatsPerBar,
  beatStartQ,
  loopBetween,
  loopSpan,
  measuresFrom,
  quartersPerBar,
  quartersPerBeat,
  withLoopEnd,
  withLoopStart,
  type Bar,
  type LoopBars,
} from "@/lib/practice/bars";
import { beatsOfHits, sheetClickGrid, type Click } from "@/lib/practice/clicks";
import { barAt, barBoxes, xAtQuarter, type BarBox, type MeasureBox, type Rect } from "@/lib/practice/hittest";
import { actionFor, focusKind, type PlayerAction } from "@/lib/practice/keys";
import { practiceTracks } from "@/lib/practice/tracks";
import { usePracticeEngine } from "@/lib/practice/usePracticeEngine";
import { hitsDocument, stepsPerBeat } from "@/lib/editor/grid";
import { musicXmlNotes, noteAt, noteCell, sheetNotes, type NoteCell, type SheetNote } from "@/lib/editor/sheetNotes";
import { clockFor, cueIndexAt, cuesFrom, type Clock, type Cue } from "@/lib/timemap";
import { adoptVerovioCss, layoutFor, loadVerovio, splitStyles } from "@/lib/verovio";

import { PracticePanel, PracticeTransport, RATE_STEP_PCT, type PlayerActions, type Position } from "./PracticePlayer";
import { SheetBars } from "./SheetBars";
import { SheetEditor, type NotePick } from "./SheetEditor";

/** What the owner's page gives the sheet so that it can be edited (a share link's page gives nothing). */
export type Editing = {
  jobId: string;
  tempoBpm: number | null;
  /** The new revision is saved and now the job's: read the job again. */
  onSaved(number: number): void;
  /** Whether the editor holds unsaved edits (for the page's other ways of changing the sheet). */
  onDirty(dirty: boolean): void;
};

type Sheet = {
  pages: string[];
  cues: Cue[];
  clock: Clock;
  bars: Bar[];
  clicks: Click[];
  /** The engraved notes with their drums, for picking a note on the sheet (the owner's page only). */
  notes: SheetNote[];
  width: number;
  hits: unknown;
  loadedFrom: string;
  revision: number;
};
/** Where the note picked in the editor is drawn on a page (page pixels), ringed on the sheet. */
type Ring = { page: number; left: number; top: number; width: number; height: number };
type Load = { state: "loading" } | { state: "error"; message: string } | { state: "ready"; sheet: Sheet };
type Drag = { pointerId: number; anchor: number; over: number; shift: boolean };

const PLAYING = "is-playing";
const PICKED = "is-picked";
/** How far from a notehead (CSS pixels) a click, or a tap, still picks its note. */
const NOTE_SLOP_PX = { mouse: 3, touch: 10 };

// The engraver and the cursor find their files among the job's by content type; the tracks by name.
const MUSICXML = "application/vnd.recordare.musicxml+xml";
const HITS = "application/json";

function reducedMotion(): boolean {
  return typeof window !== "undefined" && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
}

function relativeTo(origin: DOMRect, r: DOMRect): Rect {
  return { left: r.left - origin.left, top: r.top - origin.top, right: r.right - origin.left, bottom: r.bottom - origin.top };
}

/** The bars drawn on one engraved page, measured where the browser laid them out. */
function measurePage(pageEl: HTMLElement, barById: ReadonlyMap<string, number>): BarBox[] {
  const origin = pageEl.getBoundingClientRect();
  const measures: MeasureBox[] = [];
  for (const el of pageEl.querySelectorAll("g.measure")) {
    const bar = barById.get(el.id);
    if (bar === undefined) continue;
    const system = el.closest("g.system") ?? el;
    measures.push({ bar, measure: relativeTo(origin, el.getBoundingClientRect()), system: relativeTo(origin, system.getBoundingClientRect()) });
  }
  return barBoxes(measures);
}

/**
 * The drum sheet, engraved in the page by verovio from the job's MusicXML (one SVG per page), with the
 * practice player: the song, the drums and the band in sync, speed, loops over bars, click and
 * count-in, and a cursor on the current bar and beat. With `editing` (the owner's page), the editor:
 * a bar picked on the sheet opens in it, a note clicked or tapped on the sheet is picked in its grid, and
 * the note picked there is marked on the sheet.
 */
export function ScoreView({
  artifacts,
  timeSignature,
  source,
  editing,
}: {
  artifacts: Artifact[];
  timeSignature: string | null;
  source: ArtifactSource;
  editing?: Editing;
}) {
  const tracks = useMemo(() => practiceTracks(artifacts), [artifacts]);
  const sheetName = artifacts.find((a) => a.content_type === MUSICXML)?.name ?? null;
  const hitsName = artifacts.find((a) => a.content_type === HITS)?.name ?? null;
  const key = sourceKey(source);
  const from = useRef(source);
  useLayoutEffect(() => {
    from.current = source;
  }, [source]);
  const { engine, state } = usePracticeEngine(tracks);
  const box = useRef<HTMLDivElement>(null);
  const transport = useRef<HTMLDivElement>(null);
  const loaded = useRef<{ musicxml: string; hits: unknown; key: string; revision: number } | null>(null);
  const lit = useRef<Element[]>([]);
  const cueIndex = useRef(-1);
  const anchorsByBar = useRef(new Map<number, { q: number; x: number }[]>());
  const selectFrom = useRef<number | null>(null);
  const drag = useRef<Drag | null>(null);
  const [load, setLoad] = useState<Load>({ state: "loading" });
  const [width, setWidth] = useState(0);
  const [follow, setFollow] = useState(true);
  const [boxes, setBoxes] = useState<BarBox[][]>([]);
  const [position, setPosition] = useState<Position>({ timeS: 0, bar: -1, beat: 0, beatX: null, countIn: 0, afterLastBar: false });
  const [loop, setLoop] = useState<LoopBars | null>(null);
  const [loopOn, setLoopOn] = useState(false);
  const [dragLoop, setDragLoop] = useState<LoopBars | null>(null);
  const [editOpen, setEditOpen] = useState(false);
  const [editBar, setEditBar] = useState<number | null>(null);
  const [editFocus, setEditFocus] = useState(0);
  const [notePick, setNotePick] = useState<NotePick | null>(null);
  const [pickedCell, setPickedCell] = useState<NoteCell | null>(null);
  const [rings, setRings] = useState<Ring[]>([]);
  const [saved, setSaved] = useState<string | null>(null);
  const editDirty = useRef(false);
  const editorBox = useRef<HTMLDivElement>(null);
  const savedNote = useRef<HTMLParagraphElement>(null);
  const reportDirty = editing?.onDirty;
  const canEdit = editing !== undefined;
  const onEditDirty = useCallback(
    (dirty: boolean) => {
      editDirty.current = dirty;
      reportDirty?.(dirty);
    },
    [reportDirty],
  );

  // The container's width, for the layout (re-engraved when it changes noticeably).
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () =>
      setWidth((prev) => {
        const next = Math.round(el.clientWidth);
        return Math.abs(next - prev) > Math.max(24, prev * 0.08) ? next : prev;
      });
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const engrave = useCallback(async () => {
    const el = box.current;
    const src = loaded.current;
    if (!el || !src) return;
    const w = Math.round(el.clientWidth);
    try {
      const tk = await loadVerovio();
      const layout = layoutFor(w);
      tk.setOptions({
        ...layout,
        adjustPageHeight: true,
        breaks: "auto",
        svgViewBox: true,
        svgRemoveXlink: true,
        header: "auto",
        footer: "none",
        pageMarginLeft: 40,
        pageMarginRight: 40,
        pageMarginTop: 40,
        pageMarginBottom: 40,
      });
      if (!tk.loadData(src.musicxml)) throw new Error("verovio could not read the MusicXML");
      const rendered = Array.from({ length: tk.getPageCount() }, (_, i) => splitStyles(tk.renderToSVG(i + 1)));
      adoptVerovioCss(rendered.flatMap((page) => page.css));
      const pages = rendered.map((page) => page.svg);
      const timemap = tk.renderToTimemap({ includeMeasures: true, includeRests: false });
      const cues = cuesFrom(timemap);
      const clock = clockFor(cues, src.hits, quartersPerBeat(timeSignature));
      const bars = barsFrom(measuresFrom(timemap), clock, quartersPerBar(timeSignature));
      const clicks = sheetClickGrid(beatsOfHits(src.hits), bars, clock, quartersPerBeat(timeSignature));
      // Only the owner edits: the engraved notes' drums are read for the editor alone.
      const notes = canEdit ? sheetNotes(cues, bars, musicXmlNotes(src.musicxml), (id) => tk.getElementAttr(id)) : [];
      lit.current = [];
      cueIndex.current = -1;
      anchorsByBar.current.clear();
      setLoad({ state: "ready", sheet: { pages, cues, clock, bars, clicks, notes, width: w, hits: src.hits, loadedFrom: src.key, revision: src.revision } });
    } catch (exc) {
      setLoad({
        state: "error",
        message: `The sheet could not be shown here (${exc instanceof Error ? exc.message : String(exc)}). Download the PDF instead.`,
      });
    }
  }, [timeSignature, canEdit]);

  // Fetch the MusicXML and hits.json (beat times, first hit) once.
  useEffect(() => {
    if (!sheetName) return;
    const controller = new AbortController();
    (async () => {
      try {
        const [musicxml, hits] = await Promise.all([
          sourceArtifactText(from.current, sheetName, controller.signal),
          hitsName
            ? sourceArtifactText(from.current, hitsName, controller.signal).then(
                (text) => JSON.parse(text) as unknown,
                () => null,
              )
            : null,
        ]);
        const at = from.current;
        loaded.current = { musicxml, hits, key: sourceKey(at), revision: at.kind === "job" ? (at.revision ?? 0) : 0 };
        await engrave();
      } catch (exc) {
        if (controller.signal.aborted) return;
        setLoad({ state: "error", message: exc instanceof ApiError ? exc.message : "Could not load the sheet." });
      }
    })();
    return () => controller.abort();
  }, [key, sheetName, hitsName, engrave]);

  // Re-engrave when the width changes noticeably.
  useEffect(() => {
    if (width && loaded.current && load.state === "ready" && Math.abs(load.sheet.width - width) > 24) void engrave();
  }, [width, load, engrave]);

  const sheet = load.state === "ready" ? load.sheet : null;
  // The counted beat (a dotted quarter in 6/8 and 12/8): the read-out and the beat marker count the click's beats.
  const beatQuarters = quartersPerBeat(timeSignature);
  const bars = useMemo(() => sheet?.bars ?? [], [sheet]);
  const beatTimes = useMemo(() => hitsDocument(sheet?.hits)?.beatTimes ?? [], [sheet]);
  const shown: Load = sheetName ? load : { state: "error", message: "This job has no MusicXML to show." };

  // Where each bar is on its page, once the pages are laid out.
  useLayoutEffect(() => {
    const el = box.current;
    if (!el || !sheet) return;
    const barById = new Map(sheet.bars.map((b) => [b.id, b.index]));
    const measureAll = () => {
      anchorsByBar.current.clear();
      setBoxes(Array.from(el.querySelectorAll<HTMLElement>(".sheet__music"), (page) => measurePage(page, barById)));
    };
    measureAll();
    // The SVGs scale with their page: remeasure when a page changes size without a new engraving.
    const observer = new ResizeObserver(measureAll);
    for (const page of el.querySelectorAll(".sheet__music")) observer.observe(page);
    return () => observer.disconnect();
  }, [sheet]);

  // The engine clicks on the sheet's beats and repeats the loop's bars.
  useEffect(() => {
    if (engine && sheet) engine.setClickGrid(sheet.clicks, beatsPerBar(timeSignature));
  }, [engine, sheet, timeSignature]);
  useEffect(() => {
    engine?.setLoop(loopOn && loop ? loopSpan(bars, loop) : null);
  }, [engine, bars, loop, loopOn]);

  const highlight = useCallback(
    (index: number) => {
      if (!sheet || index === cueIndex.current || !box.current) return;
      cueIndex.current = index;
      for (const el of lit.current) el.classList.remove(PLAYING);
      lit.current = [];
      if (index < 0) return;
      for (const id of sheet.cues[index].ids) {
        const el = box.current.querySelector(`[id="${CSS.escape(id)}"]`);
        if (el) {
          el.classList.add(PLAYING);
          lit.current.push(el);
        }
      }
    },
    [sheet],
  );

  /** The x of a beat in its bar: among the bar's notes as drawn (measured once per bar and layout). */
  const beatXFor = useCallback(
    (bar: Bar, beat: number): number | null => {
      const page = boxes.findIndex((p) => p.some((b) => b.bar === bar.index));
      const barBox = boxes[page]?.find((b) => b.bar === bar.index);
      const pageEl = box.current?.querySelectorAll<HTMLElement>(".sheet__music")[page];
      if (!sheet || !barBox || !pageEl) return null;
      let anchors = anchorsByBar.current.get(bar.index);
      if (!anchors) {
        const origin = pageEl.getBoundingClientRect();
        anchors = [];
        for (const cue of sheet.cues) {
          if (cue.q < bar.startQ || cue.q >= bar.endQ) continue;
          const el = pageEl.querySelector(`[id="${CSS.escape(cue.ids[0])}"] .notehead, [id="${CSS.escape(cue.ids[0])}"]`);
          if (el) anchors.push({ q: cue.q, x: el.getBoundingClientRect().left - origin.left });
        }
        anchorsByBar.current.set(bar.index, anchors);
      }
      return xAtQuarter(anchors, { ...bar, left: barBox.left, right: barBox.right }, beatStartQ(bar, beat, beatQuarters));
    },
    [sheet, boxes, beatQuarters],
  );

  // The cursor: on every frame while the music plays (or counts in), and whenever the player changes.
  useEffect(() => {
    if (!engine || !state) return;
    let frame = 0;
    const update = () => {
      const timeS = engine.time();
      const bar = barIndexAt(bars, timeS);
      const q = sheet ? sheet.clock.toSheet(timeS) : 0;
      const beat = bar >= 0 ? beatInBar(bars[bar], q, beatQuarters) : 0;
      const countIn = engine.countInBeat();
      const beatX = bar >= 0 ? beatXFor(bars[bar], beat) : null;
      const afterLastBar = bars.length > 0 && timeS >= bars[bars.length - 1].endS;
      setPosition((p) =>
        p.bar === bar &&
        p.beat === beat &&
        p.beatX === beatX &&
        p.countIn === countIn &&
        p.afterLastBar === afterLastBar &&
        Math.floor(p.timeS) === Math.floor(timeS)
          ? p
          : { timeS, bar, beat, beatX, countIn, afterLastBar },
      );
      if (sheet) highlight(cueIndexAt(sheet.cues, q));
    };
    const run = () => {
      update();
      frame = requestAnimationFrame(run);
    };
    if (state.playing || state.countingIn) frame = requestAnimationFrame(run);
    else update();
    return () => cancelAnimationFrame(frame);
  }, [engine, state, bars, sheet, highlight, beatXFor, beatQuarters]);

  // The sheet scrolls to keep the current bar in view, below the transport.
  useEffect(() => {
    if (!follow || !state?.playing || position.bar < 0) return;
    const el = box.current?.querySelector(`[data-bar="${position.bar}"]`);
    if (!el) return;
    const r = el.getBoundingClientRect();
    const top = (transport.current?.getBoundingClientRect().bottom ?? 0) + 8;
    if (r.top < top || r.bottom > window.innerHeight - 16) {
      el.scrollIntoView({ block: "center", behavior: reducedMotion() ? "auto" : "smooth" });
    }
  }, [follow, state?.playing, position.bar]);

  const currentBar = useCallback((): number => (engine ? barFrom(bars, engine.time(), 0) : -1), [engine, bars]);

  const goToBar = useCallback(
    (bar: number, focus: boolean) => {
      if (!engine || !bars[bar]) return;
      engine.seek(bars[bar].startS);
      selectFrom.current = bar;
      if (focus) box.current?.querySelector<HTMLElement>(`[data-bar="${bar}"]`)?.focus();
    },
    [engine, bars],
  );

  // Saved: the editor is shown anew for the new version, so the focus goes to the news (not to the page's top).
  useEffect(() => {
    if (saved) savedNote.current?.focus();
  }, [saved]);

  /** A bar picked on the sheet: the player goes there, and in edit mode the editor opens it. */
  const pickBar = useCallback(
    (bar: number, byKeyboard: boolean) => {
      goToBar(bar, false);
      if (!editOpen) return;
      setEditBar(bar);
      if (byKeyboard) setEditFocus((n) => n + 1);
      else editorBox.current?.scrollIntoView({ block: "nearest", behavior: reducedMotion() ? "auto" : "smooth" });
    },
    [goToBar, editOpen],
  );

  /** In edit mode, the note under a click or tap in `bar` of a page opens in the editor; false when none is there. */
  function pickNoteAt(e: PointerEvent<HTMLElement>, bar: number): boolean {
    if (!sheet) return false;
    const heads = sheet.notes
      .filter((n) => n.bar === bar)
      .flatMap((n) => {
        const el = e.currentTarget.querySelector(`[id="${CSS.escape(n.id)}"] .notehead`) ?? e.currentTarget.querySelector(`[id="${CSS.escape(n.id)}"]`);
        return el ? [{ id: n.id, box: el.getBoundingClientRect() }] : [];
      });
    const id = noteAt(heads, e.clientX, e.clientY, e.pointerType === "mouse" ? NOTE_SLOP_PX.mouse : NOTE_SLOP_PX.touch);
    const note = sheet.notes.find((n) => n.id === id);
    const cell = note ? noteCell(note, bars, sheet.clock, beatTimes, stepsPerBeat(timeSignature)) : null;
    if (!cell) return false;
    pickBar(cell.bar, false);
    setNotePick((p) => ({ drum: cell.drum, step: cell.step, n: (p?.n ?? 0) + 1 }));
    return true;
  }

  // The note picked in the editor, on the sheet: its noteheads take a colour and a ring.
  const pickedIds = useMemo(() => {
    if (!sheet || !pickedCell || !editOpen) return [];
    return sheet.notes
      .filter((n) => {
        if (n.bar !== pickedCell.bar || n.drum !== pickedCell.drum) return false;
        return noteCell(n, bars, sheet.clock, beatTimes, stepsPerBeat(timeSignature))?.step === pickedCell.step;
      })
      .map((n) => n.id);
  }, [sheet, pickedCell, editOpen, bars, beatTimes, timeSignature]);
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const marked = pickedIds.flatMap((id) => {
      const note = el.querySelector(`[id="${CSS.escape(id)}"]`);
      return note ? [note] : [];
    });
    for (const note of marked) note.classList.add(PICKED);
    const measureRings = () => {
      const pages = Array.from(el.querySelectorAll<HTMLElement>(".sheet__music"));
      setRings(
        marked.flatMap((note) => {
          const page = pages.findIndex((p) => p.contains(note));
          if (page < 0) return [];
          const origin = pages[page].getBoundingClientRect();
          const r = (note.querySelector(".notehead") ?? note).getBoundingClientRect();
          return [{ page, left: r.left - origin.left, top: r.top - origin.top, width: r.width, height: r.height }];
        }),
      );
    };
    measureRings();
    return () => {
      for (const note of marked) note.classList.remove(PICKED);
    };
  }, [pickedIds, boxes]);

  function toggleEditor() {
    if (editOpen && editDirty.current && !window.confirm("Close the editor and discard your unsaved changes?")) return;
    setEditOpen((open) => !open);
    setEditBar(null);
    setNotePick(null);
    setPickedCell(null);
    setSaved(null);
    onEditDirty(false);
  }

  const actions = useMemo((): PlayerActions & Record<PlayerAction, () => void> => {
    const step = (delta: number) => () => {
      if (!engine) return;
      const onBar = document.activeElement?.closest(".bars") != null;
      goToBar(barFrom(bars, engine.time(), delta), onBar);
    };
    const loopStart = () => {
      const bar = currentBar();
      if (bar < 0) return;
      setLoop((l) => withLoopStart(l, bar));
      setLoopOn(true);
    };
    const loopEnd = () => {
      const bar = currentBar();
      if (bar < 0) return;
      setLoop((l) => withLoopEnd(l, bar));
      setLoopOn(true);
    };
    const toggleLoop = () => {
      if (!loop) {
        const bar = currentBar();
        if (bar < 0) return;
        setLoop({ first: bar, last: bar });
        setLoopOn(true);
        return;
      }
      setLoopOn((on) => !on);
    };
    const slower = () => engine?.setRate((state?.ratePct ?? 100) - RATE_STEP_PCT);
    const faster = () => engine?.setRate((state?.ratePct ?? 100) + RATE_STEP_PCT);
    const togglePlay = () => engine?.toggle();
    return {
      togglePlay,
      slower,
      faster,
      toggleLoop,
      loopStart,
      loopEnd,
      clearLoop: () => {
        setLoop(null);
        setLoopOn(false);
      },
      "toggle-play": togglePlay,
      "previous-bar": step(-1),
      "next-bar": step(1),
      "loop-start": loopStart,
      "loop-end": loopEnd,
      "toggle-loop": toggleLoop,
      "toggle-drums": () => {
        const drums = state?.tracks.find((t) => t.name === "drums");
        if (drums) engine?.setTrack("drums", { audible: !drums.audible });
      },
      "toggle-click": () => engine?.setClick({ audible: !state?.click.audible }),
    };
  }, [engine, state, bars, loop, currentBar, goToBar]);

  // The keyboard, anywhere on the page but in a text field (lib/practice/keys.ts).
  useEffect(() => {
    if (!engine) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented) return;
      const target = e.target instanceof HTMLElement ? e.target : null;
      const action = actionFor(e, focusKind(target, target?.closest(".bars") != null));
      if (!action) return;
      e.preventDefault();
      actions[action]();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [engine, actions]);

  // Pointing at the sheet: a click or tap goes to the bar; shift-click or a drag with the mouse loops bars.
  const pointAt = (e: PointerEvent<HTMLElement>, page: number): number => {
    const origin = e.currentTarget.getBoundingClientRect();
    return barAt(boxes[page] ?? [], e.clientX - origin.left, e.clientY - origin.top);
  };
  const onPointerDown = (e: PointerEvent<HTMLElement>, page: number) => {
    if (e.button !== 0 || !engine) return;
    const bar = pointAt(e, page);
    if (bar < 0) return;
    drag.current = { pointerId: e.pointerId, anchor: bar, over: bar, shift: e.shiftKey };
    if (e.pointerType === "mouse") {
      e.currentTarget.setPointerCapture(e.pointerId);
      // No text selection while dragging over the bars.
      e.preventDefault();
    }
  };
  const onPointerMove = (e: PointerEvent<HTMLElement>, page: number) => {
    const d = drag.current;
    if (!d || d.pointerId !== e.pointerId || e.pointerType !== "mouse") return;
    const bar = pointAt(e, page);
    if (bar < 0 || bar === d.over) return;
    d.over = bar;
    setDragLoop(loopBetween(d.anchor, bar));
  };
  const onPointerUp = (e: PointerEvent<HTMLElement>, page: number) => {
    const d = drag.current;
    if (!d || d.pointerId !== e.pointerId) return;
    drag.current = null;
    setDragLoop(null);
    const bar = pointAt(e, page);
    if (bar < 0) return;
    if (d.anchor !== bar) {
      setLoop(loopBetween(d.anchor, bar));
      setLoopOn(true);
    } else if (d.shift) {
      setLoop(loopBetween(selectFrom.current ?? currentBar(), bar));
      setLoopOn(true);
    } else if (!(editOpen && pickNoteAt(e, bar))) {
      pickBar(bar, false);
    }
  };
  const onPointerCancel = () => {
    drag.current = null;
    setDragLoop(null);
  };

  const shownLoop = dragLoop ?? loop;
  const tabBar = position.bar >= 0 ? position.bar : 0;

  return (
    <section className="score" aria-labelledby="sheet-title">
      {engine && state && (
        <>
          <div ref={transport} className="score__transport">
            <PracticeTransport state={state} actions={actions} position={position} barCount={bars.length} loop={loop} loopOn={loopOn} />
          </div>
          <PracticePanel
            engine={engine}
            state={state}
            actions={actions}
            barCount={bars.length}
            loop={loop}
            loopOn={loopOn}
            follow={follow}
            setFollow={setFollow}
          />
        </>
      )}
      <div className="score__head">
        <h2 id="sheet-title" className="section-title">
          Drum sheet
        </h2>
        {editing && sheet && bars.length > 0 && (
          <button type="button" className="button score__edit" aria-expanded={editOpen} aria-controls="sheet-editor" onClick={toggleEditor}>
            {editOpen ? "Close the editor" : "Edit the sheet"}
          </button>
        )}
      </div>
      {sheet && bars.length > 0 && (
        <p className="hint" id="sheet-hint">
          {editOpen
            ? "Click or tap a note to edit it, or a bar (or press Enter on it) to edit its notes."
            : "Click or tap a bar to play from it. Shift-click or drag across bars to loop them."}
        </p>
      )}
      {editing && sheet && (
        <div ref={editorBox} id="sheet-editor" className="card editor-card" hidden={!editOpen}>
          <h3 className="visually-hidden">Editor</h3>
          {saved && (
            <p ref={savedNote} className="message message--success" role="status" tabIndex={-1}>
              {saved}
            </p>
          )}
          {editOpen && (
            <SheetEditor
              key={sheet.loadedFrom}
              jobId={editing.jobId}
              revision={sheet.revision}
              hitsJson={sheet.hits}
              bars={bars}
              bar={editBar}
              focusRequest={editFocus}
              pick={notePick}
              onPicked={setPickedCell}
              tempoBpm={editing.tempoBpm}
              timeSignature={timeSignature}
              onDirty={onEditDirty}
              onSaved={(number) => {
                setSaved(`Saved as version ${number}. The sheet, the PDF and the MIDI below are the new version's.`);
                editing.onSaved(number);
              }}
            />
          )}
        </div>
      )}
      <div ref={box} className="sheet" data-state={shown.state}>
        {shown.state === "loading" && (
          <p className="state state--loading" role="status">
            Engraving the sheet…
          </p>
        )}
        {shown.state === "error" && (
          <p className="message message--error" role="alert">
            {shown.message}
          </p>
        )}
        {sheet?.pages.map((svg, i) => (
          <figure key={`${sheet.width}-${i}`} className="sheet__page" aria-label={`Sheet music, page ${i + 1} of ${sheet.pages.length}`}>
            <div
              className="sheet__music"
              onPointerDown={(e) => onPointerDown(e, i)}
              onPointerMove={(e) => onPointerMove(e, i)}
              onPointerUp={(e) => onPointerUp(e, i)}
              onPointerCancel={onPointerCancel}
            >
              <div className="sheet__svg" dangerouslySetInnerHTML={{ __html: svg }} />
              {rings
                .filter((r) => r.page === i)
                .map((r, k) => (
                  <span
                    key={k}
                    className="sheet__picked"
                    aria-hidden="true"
                    style={{ left: r.left, top: r.top, width: r.width, height: r.height }}
                  />
                ))}
              {engine && boxes[i] && (
                <SheetBars
                  page={i}
                  boxes={boxes[i]}
                  bars={bars}
                  current={position.bar}
                  beatX={boxes[i].some((b) => b.bar === position.bar) ? position.beatX : null}
                  loop={shownLoop}
                  loopOn={loopOn || dragLoop !== null}
                  tabBar={tabBar}
                  onKeyboardPick={(bar) => pickBar(bar, true)}
                />
              )}
            </div>
            {sheet.pages.length > 1 && (
              <figcaption className="sheet__caption">
                Page {i + 1} of {sheet.pages.length}
              </figcaption>
            )}
          </figure>
        ))}
      </div>
    </section>
  );
}
