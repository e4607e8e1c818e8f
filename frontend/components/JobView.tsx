"use client";

import { useRouter, useSearchParams } from "next/navigation";
import { useEffect, useState } from "react";

import { ApiError, deleteJob } from "@/lib/api/client";
import { elapsedSeconds, formatClock, formatSeconds, jobName } from "@/lib/format";
import { useJob } from "@/lib/hooks/useJob";
import { useNow } from "@/lib/hooks/useNow";
import { usePipeline } from "@/lib/hooks/usePipeline";
import { isFinished, overallProgress, statusSentence, stepsFor } from "@/lib/steps";

import { JobFailure } from "./JobFailure";
import { JobResult } from "./JobResult";
import { RevisionHistory } from "./RevisionHistory";
import { SharePanel } from "./SharePanel";
import { StatePanel } from "./StatePanel";
import { StatusBadge } from "./StatusBadge";
import { StepList } from "./StepList";

/** The job page: live steps while it runs, the failure and a retry, or the result. */
export function JobView() {
  const id = useSearchParams().get("id");
  const router = useRouter();
  const { job, error, offline, clockSkewMs, reload } = useJob(id);
  const { stages } = usePipeline();
  const running = job !== null && !isFinished(job.status);
  // The Date header has a one-second resolution: correct only a clock that is clearly off.
  const now = useNow(running) + (Math.abs(clockSkewMs) > 2000 ? clockSkewMs : 0);
  const [cancelError, setCancelError] = useState<string | null>(null);
  const [cancelling, setCancelling] = useState(false);
  // The editor holds unsaved edits: showing another version asks first.
  const [editing, setEditing] = useState(false);

  const percent = job ? overallProgress(job, stages) : 0;
  useEffect(() => {
    if (!job) return;
    const prefix = job.status === "completed" ? "Done" : job.status === "failed" ? "Failed" : `${percent}%`;
    document.title = `${prefix} · ${jobName(job)} — DrumScribe`;
  }, [job, percent]);

  if (!id) {
    return (
      <StatePanel title="No job to show">
        <p>This address does not name a transcription.</p>
      </StatePanel>
    );
  }

  if (error) {
    return (
      <StatePanel title={error.status === 404 ? "Job not found" : "Could not load the job"}>
        <p className="message message--error" role="alert">
          {error.message}
        </p>
      </StatePanel>
    );
  }

  if (!job) {
    return (
      <div className="page">
        <p className="state state--loading" role="status">
          Loading the job…
        </p>
      </div>
    );
  }

  const elapsed = elapsedSeconds(job.created_at, job.finished_at, now);
  const steps = stepsFor(job, stages);

  async function cancel() {
    if (!job || !window.confirm(`Cancel the transcription of “${jobName(job)}”?`)) return;
    setCancelling(true);
    setCancelError(null);
    try {
      await deleteJob(job.id);
      router.push("/history/");
    } catch (exc) {
      setCancelling(false);
      setCancelError(exc instanceof ApiError ? exc.message : "Could not cancel the job.");
    }
  }

  return (
    <div className="page">
      <header className="job-header">
        <p className="eyebrow">{job.source_kind === "url" ? "Link" : "Upload"}</p>
        <h1 className="page__title job-header__title">{jobName(job)}</h1>
        <p className="job-header__meta">
          <StatusBadge status={job.status} />
          <span>
            {job.status === "completed" ? "Finished in " : job.status === "failed" ? "Stopped after " : "Elapsed "}
            <time className="elapsed">{job.status === "completed" || job.status === "failed" ? formatSeconds(elapsed) : formatClock(elapsed)}</time>
          </span>
          {job.title && job.source_kind === "url" && (
            <a className="job-header__source" href={job.source} rel="noreferrer noopener" target="_blank">
              Source
            </a>
          )}
        </p>
      </header>

      {offline && (
        <p className="message message--warning" role="status">
          Lost contact with DrumScribe. Retrying…
        </p>
      )}

      {job.status === "completed" ? (
        <>
          <JobResult
            job={job}
            source={{ kind: "job", jobId: job.id, revision: job.current_revision }}
            separation={job}
            editing={{ jobId: job.id, tempoBpm: job.tempo_bpm, onSaved: reload, onDirty: setEditing }}
          >
            <SharePanel jobId={job.id} />
            <RevisionHistory
              jobId={job.id}
              refreshKey={`${job.current_revision}@${job.updated_at}`}
              onRestored={reload}
              unsavedEdits={editing}
            />
          </JobResult>
          <details className="card timings">
            <summary>How long each step took</summary>
            <StepList steps={steps} />
          </details>
        </>
      ) : (
        <section className="card progress-card" aria-labelledby="progress-title">
          <h2 id="progress-title" className="visually-hidden">
            Progress
          </h2>
          {job.status === "failed" && <JobFailure job={job} />}
          {job.status !== "failed" && (
            <>
              <p className="progress-card__status" aria-live="polite">
                {statusSentence(job, stages)}
              </p>
              <progress
                className="progress"
                max={100}
                value={percent}
                aria-label="Overall progress"
                aria-valuetext={`${percent}%`}
              />
            </>
          )}
          <StepList steps={steps} />
          {running && (
            <div className="progress-card__footer">
              <p className="hint">You can leave this page: the job keeps running and waits for you in History.</p>
              <button type="button" className="button button--quiet" onClick={() => void cancel()} disabled={cancelling}>
                {cancelling ? "Cancelling…" : "Cancel job"}
              </button>
            </div>
          )}
          {cancelError && (
            <p className="message message--error" role="alert">
              {cancelError}
            </p>
          )}
        </section>
      )}
    </div>
  );
}
