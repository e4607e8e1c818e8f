"use client";

import { useCallback, useEffect, useRef, useState } from "react";

import { ApiError, artifactText, type Job } from "@/lib/api/client";
import { clockFor, cueIndexAt, cuesFrom, type Clock, type Cue } from "@/lib/timemap";
import { adoptVerovioCss, layoutFor, loadVerovio, splitStyles } from "@/lib/verovio";

type Sheet = { pages: string[]; cues: Cue[]; clock: Clock; width: number };
type Load = { state: "loading" } | { state: "error"; message: string } | { state: "ready"; sheet: Sheet };

const PLAYING = "is-playing";

// The formats the player, the engraver and the cursor read, found among the job's files by content type.
const AUDIO = "audio/wav";
const MUSICXML = "application/vnd.recordare.musicxml+xml";
const HITS = "application/json";

function reducedMotion(): boolean {
  return typeof window !== "undefined" && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
}

/**
 * The drum sheet, engraved in the page by verovio from the job's MusicXML (one SVG per page), and the
 * separated drums' player; while it plays, the notes being heard are highlighted.
 */
export function ScoreView({ job }: { job: Job }) {
  const audioUrl = job.artifacts.find((a) => a.content_type === AUDIO)?.url ?? null;
  const sheetName = job.artifacts.find((a) => a.content_type === MUSICXML)?.name ?? null;
  const hitsName = job.artifacts.find((a) => a.content_type === HITS)?.name ?? null;
  const box = useRef<HTMLDivElement>(null);
  const audio = useRef<HTMLAudioElement>(null);
  const source = useRef<{ musicxml: string; hits: unknown } | null>(null);
  const lit = useRef<Element[]>([]);
  const cueIndex = useRef(-1);
  const [load, setLoad] = useState<Load>({ state: "loading" });
  const [width, setWidth] = useState(0);
  const [follow, setFollow] = useState(true);

  // The container's width, for the layout (re-engraved when it changes noticeably).
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () => setWidth((prev) => {
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
    const src = source.current;
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
      const cues = cuesFrom(tk.renderToTimemap({ includeMeasures: false, includeRests: false }));
      lit.current = [];
      cueIndex.current = -1;
      setLoad({ state: "ready", sheet: { pages, cues, clock: clockFor(cues, src.hits), width: w } });
    } catch (exc) {
      setLoad({
        state: "error",
        message: `The sheet could not be shown here (${exc instanceof Error ? exc.message : String(exc)}). Download the PDF instead.`,
      });
    }
  }, []);

  // Fetch the MusicXML and hits.json (beat times, first hit) once.
  useEffect(() => {
    if (!sheetName) return;
    const controller = new AbortController();
    (async () => {
      try {
        const [musicxml, hits] = await Promise.all([
          artifactText(job.id, sheetName, controller.signal),
          hitsName
            ? artifactText(job.id, hitsName, controller.signal).then(
                (text) => JSON.parse(text) as unknown,
                () => null,
              )
            : null,
        ]);
        source.current = { musicxml, hits };
        await engrave();
      } catch (exc) {
        if (controller.signal.aborted) return;
        setLoad({ state: "error", message: exc instanceof ApiError ? exc.message : "Could not load the sheet." });
      }
    })();
    return () => controller.abort();
  }, [job.id, sheetName, hitsName, engrave]);

  // Re-engrave when the width changes noticeably.
  useEffect(() => {
    if (width && source.current && load.state === "ready" && Math.abs(load.sheet.width - width) > 24) void engrave();
  }, [width, load, engrave]);

  const sheet = load.state === "ready" ? load.sheet : null;
  const shown: Load = sheetName ? load : { state: "error", message: "This job has no MusicXML to show." };

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
      const first = lit.current[0];
      if (first && follow && audio.current && !audio.current.paused) {
        const r = first.getBoundingClientRect();
        const top = 96;
        if (r.top < top || r.bottom > window.innerHeight - 24) {
          first.scrollIntoView({ block: "center", behavior: reducedMotion() ? "auto" : "smooth" });
        }
      }
    },
    [sheet, follow],
  );

  // Follow the audio: on every frame while it plays, and on seeks.
  useEffect(() => {
    const player = audio.current;
    if (!player || !sheet) return;
    let frame = 0;
    const update = () => highlight(cueIndexAt(sheet.cues, sheet.clock.toSheet(player.currentTime)));
    const loop = () => {
      update();
      frame = requestAnimationFrame(loop);
    };
    const start = () => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(loop);
    };
    const stop = () => {
      cancelAnimationFrame(frame);
      update();
    };
    player.addEventListener("play", start);
    player.addEventListener("pause", stop);
    player.addEventListener("ended", stop);
    player.addEventListener("seeked", update);
    if (!player.paused) start();
    return () => {
      cancelAnimationFrame(frame);
      player.removeEventListener("play", start);
      player.removeEventListener("pause", stop);
      player.removeEventListener("ended", stop);
      player.removeEventListener("seeked", update);
    };
  }, [sheet, highlight]);

  // Clicking a note plays from there.
  const seekToNote = (target: EventTarget) => {
    if (!sheet || !audio.current || !(target instanceof Element)) return;
    const note = target.closest("g.note, g.chord");
    if (!note) return;
    const ids = new Set([note.id, ...Array.from(note.querySelectorAll("g.note"), (n) => n.id)]);
    const cue = sheet.cues.find((c) => c.ids.some((id) => ids.has(id)));
    if (cue) audio.current.currentTime = Math.max(0, sheet.clock.toAudio(cue.q));
  };

  return (
    <section className="score" aria-labelledby="sheet-title">
      {audioUrl && (
        <div className="player">
          <audio
            ref={audio}
            className="player__audio"
            controls
            preload="metadata"
            src={audioUrl}
            aria-label="Separated drums"
          />
          {sheet && sheet.cues.length > 0 && (
            <label className="checkbox">
              <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} />
              Scroll with the music
            </label>
          )}
        </div>
      )}
      <h2 id="sheet-title" className="section-title">
        Drum sheet
      </h2>
      <div ref={box} className="sheet" data-state={shown.state} onClick={(e) => seekToNote(e.target)}>
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
            <div className="sheet__svg" dangerouslySetInnerHTML={{ __html: svg }} />
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
