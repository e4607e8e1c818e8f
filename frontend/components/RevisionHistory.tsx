"use client";

import { useEffect, useState } from "react";

import { ApiError, listRevisions, restoreRevision, type Revision, type RevisionList } from "@/lib/api/client";
import { formatTempo, formatWhen } from "@/lib/format";
import { usePipeline } from "@/lib/hooks/usePipeline";

const RECHECK_MS = 2000;

function statusWords(revision: Revision): string {
  if (revision.status === "pending" || revision.status === "processing") return "being written…";
  if (revision.status === "failed") return revision.error_message ?? "could not be written";
  return "";
}

/**
 * The versions of a job's sheet (the owner's only): the transcription and each saved edit, with its note,
 * when it was saved, its files to download, and a button to show it instead of the current one.
 * `refreshKey` changes when the job does (a version saved or restored elsewhere on the page). Showing
 * another version asks first while the editor holds unsaved edits.
 */
export function RevisionHistory({
  jobId,
  refreshKey,
  onRestored,
  unsavedEdits,
}: {
  jobId: string;
  refreshKey: string;
  onRestored(): void;
  /** The editor holds edits not saved yet: they are lost when another version is shown. */
  unsavedEdits: boolean;
}) {
  const { artifacts } = usePipeline();
  const [list, setList] = useState<RevisionList | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [reads, setReads] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    listRevisions(jobId, controller.signal).then(
      (next) => {
        setList(next);
        // A version still being written: look again until it is done.
        if (next.revisions.some((r) => r.status === "pending" || r.status === "processing")) {
          timer = setTimeout(() => setReads((n) => n + 1), RECHECK_MS);
        }
      },
      (exc: unknown) => {
        if (!controller.signal.aborted) setError(exc instanceof ApiError ? exc.message : "Could not list the versions of this sheet.");
      },
    );
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [jobId, refreshKey, reads]);

  async function restore(revision: Revision) {
    if (unsavedEdits && !window.confirm(`Show ${revision.number === 0 ? "the transcription" : `version ${revision.number}`} and discard your unsaved edits?`)) return;
    setBusy(true);
    setError(null);
    try {
      await restoreRevision(jobId, revision.number);
      onRestored();
    } catch (exc) {
      setError(exc instanceof ApiError ? exc.message : `Could not show version ${revision.number}. Try again.`);
    } finally {
      setBusy(false);
    }
  }

  if (!list && !error) return null;
  const saved = list ? list.revisions.length - 1 : 0;

  return (
    <section className="card versions" aria-labelledby="versions-title">
      <h2 id="versions-title" className="section-title">
        Versions of this sheet
      </h2>
      {list && (
        <p className="hint">
          {saved === 0
            ? "Edit the sheet and save it to make a new version. The transcription is always kept."
            : `${saved} of ${list.max_revisions} saved versions. The transcription is always kept.`}
        </p>
      )}
      {list && (
        <ol className="versions__list">
          {list.revisions.map((r) => {
            const name = r.number === 0 ? "Transcription" : `Version ${r.number}`;
            const files = artifacts.filter((a) => r.artifacts.some((f) => f.name === a.name));
            const state = statusWords(r);
            return (
              <li key={r.number} className={`versions__item${r.current ? " versions__item--current" : ""}`} data-revision={r.number}>
                <div className="versions__what">
                  <span className="versions__name">{name}</span>
                  {r.current && <span className="versions__current">shown now</span>}
                  <span className="hint">
                    {r.number === 0 ? "as transcribed" : `saved ${formatWhen(r.created_at)}`}
                    {r.tempo_bpm != null && ` · ${formatTempo(r.tempo_bpm)}`}
                    {r.time_signature && ` · ${r.time_signature}`}
                  </span>
                  {r.note && <span className="versions__note">“{r.note}”</span>}
                  {state && <span className={r.status === "failed" ? "versions__failed" : "hint"}>{state}</span>}
                </div>
                <div className="versions__actions">
                  {files.map((a) => (
                    <a
                      key={a.name}
                      className="button button--quiet"
                      href={r.artifacts.find((f) => f.name === a.name)!.url}
                      download
                      aria-label={`${a.label} of ${name.toLowerCase()}`}
                    >
                      {a.label}
                    </a>
                  ))}
                  {!r.current && r.status === "completed" && (
                    <button type="button" className="button" disabled={busy} onClick={() => void restore(r)}>
                      Show this version
                    </button>
                  )}
                </div>
              </li>
            );
          })}
        </ol>
      )}
      {error && (
        <p className="message message--error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
