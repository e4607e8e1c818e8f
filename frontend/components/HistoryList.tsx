"use client";

import Link from "next/link";
import { useCallback, useEffect, useState } from "react";

import { ApiError, deleteJob, listJobs, type Job } from "@/lib/api/client";
import { formatClock, formatTempo, formatWhen, jobName } from "@/lib/format";
import { useNow } from "@/lib/hooks/useNow";
import { isActive } from "@/lib/steps";

import { StatusBadge } from "./StatusBadge";

type Load = { state: "loading" } | { state: "error"; message: string } | { state: "ready"; jobs: Job[]; total: number };

/** This browser's jobs (the API knows them by its cookie), newest first, with delete. */
export function HistoryList() {
  const [load, setLoad] = useState<Load>({ state: "loading" });
  const [announcement, setAnnouncement] = useState("");
  const [deleting, setDeleting] = useState<string | null>(null);
  const now = useNow(true, 30_000);

  const refresh = useCallback(
    () =>
      listJobs().then(
        ({ jobs, total }) => setLoad({ state: "ready", jobs, total }),
        (exc) =>
          setLoad({
            state: "error",
            message: exc instanceof ApiError ? exc.message : "Could not load your transcriptions.",
          }),
      ),
    [],
  );

  useEffect(() => {
    void refresh();
  }, [refresh]);

  // While a job runs, keep its status fresh.
  const anyActive = load.state === "ready" && load.jobs.some((j) => isActive(j.status));
  useEffect(() => {
    if (!anyActive) return;
    const timer = setInterval(() => void refresh(), 3000);
    return () => clearInterval(timer);
  }, [anyActive, refresh]);

  async function remove(job: Job) {
    const running = isActive(job.status);
    const question = running
      ? `Cancel the transcription of “${jobName(job)}”?`
      : `Delete “${jobName(job)}” and its files?`;
    if (!window.confirm(question)) return;
    setDeleting(job.id);
    try {
      await deleteJob(job.id);
      setLoad((prev) =>
        prev.state === "ready" ? { ...prev, jobs: prev.jobs.filter((j) => j.id !== job.id), total: prev.total - 1 } : prev,
      );
      setAnnouncement(`${running ? "Cancelled" : "Deleted"} “${jobName(job)}”.`);
    } catch (exc) {
      setAnnouncement(exc instanceof ApiError ? exc.message : "Could not delete the job.");
    } finally {
      setDeleting(null);
    }
  }

  return (
    <>
      <p className="visually-hidden" role="status" aria-live="polite">
        {announcement}
      </p>
      {load.state === "loading" && (
        <p className="state state--loading" role="status">
          Loading your transcriptions…
        </p>
      )}
      {load.state === "error" && (
        <div className="state">
          <p className="message message--error" role="alert">
            {load.message}
          </p>
          <button type="button" className="button" onClick={() => { setLoad({ state: "loading" }); void refresh(); }}>
            Try again
          </button>
        </div>
      )}
      {load.state === "ready" && load.jobs.length === 0 && (
        <div className="state state--empty card">
          <h2 className="state__title">No transcriptions yet</h2>
          <p>Songs you transcribe in this browser show up here.</p>
          <Link className="button button--primary" href="/">
            Transcribe a song
          </Link>
        </div>
      )}
      {load.state === "ready" && load.jobs.length > 0 && (
        <ul className="history">
          {load.jobs.map((job) => (
            <li key={job.id} className="history__item card">
              <div className="history__main">
                <Link className="history__name" href={`/job/?id=${encodeURIComponent(job.id)}`}>
                  {jobName(job)}
                </Link>
                <p className="history__meta">
                  <StatusBadge status={job.status} />
                  <span>{formatWhen(job.created_at, now)}</span>
                  {job.duration_s != null && <span>{formatClock(job.duration_s)}</span>}
                  {job.tempo_bpm != null && <span>{formatTempo(job.tempo_bpm)}</span>}
                  {job.time_signature && <span>{job.time_signature}</span>}
                </p>
                {job.status === "failed" && job.error_message && (
                  <p className="history__error">{job.error_message}</p>
                )}
              </div>
              <button
                type="button"
                className="button button--quiet button--danger"
                onClick={() => void remove(job)}
                disabled={deleting === job.id}
                aria-label={`${isActive(job.status) ? "Cancel" : "Delete"} ${jobName(job)}`}
              >
                {deleting === job.id ? "Deleting…" : isActive(job.status) ? "Cancel" : "Delete"}
              </button>
            </li>
          ))}
        </ul>
      )}
      {load.state === "ready" && load.total > load.jobs.length && (
        <p className="hint">Showing the newest {load.jobs.length} of {load.total}.</p>
      )}
    </>
  );
}
