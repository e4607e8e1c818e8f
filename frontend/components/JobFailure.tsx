"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useId, useState } from "react";

import { ApiError, submitLink, uploadSong, type Job } from "@/lib/api/client";
import type { UploadProgress } from "@/lib/api/xhrFetch";
import { usePipeline } from "@/lib/hooks/usePipeline";
import { rememberUpload, uploadFor } from "@/lib/retry";
import { failedStepLabel } from "@/lib/steps";
import { ACCEPT, checkFile } from "@/lib/validation";

/**
 * Why a job failed (its stage and the API's message, verbatim) and a retry: a link is sent again; an
 * upload is sent again from memory, or, after a reload, once the user picks the file again.
 */
export function JobFailure({ job }: { job: Job }) {
  const router = useRouter();
  const ids = useId();
  const { stages } = usePipeline();
  const [sending, setSending] = useState<UploadProgress | "link" | null>(null);
  const [error, setError] = useState<string | null>(null);
  const remembered = job.source_kind === "upload" ? uploadFor(job.id) : undefined;

  async function retry(file?: File) {
    setError(null);
    if (file) {
      const problem = checkFile(file);
      if (problem) {
        setError(problem);
        return;
      }
    }
    try {
      let next: Job;
      if (file) {
        setSending({ loaded: 0, total: file.size });
        next = await uploadSong(file, setSending);
        rememberUpload(next.id, file);
      } else {
        setSending("link");
        next = await submitLink(job.source);
      }
      router.push(`/job/?id=${encodeURIComponent(next.id)}`);
    } catch (exc) {
      setSending(null);
      setError(exc instanceof ApiError ? exc.message : "Could not start the job again. Try again.");
    }
  }

  const percent =
    sending && sending !== "link" && sending.total ? Math.round((sending.loaded / sending.total) * 100) : null;

  return (
    <div className="failure" role="alert" aria-labelledby={`${ids}-title`}>
      <h2 className="failure__title" id={`${ids}-title`}>
        Failed at “{failedStepLabel(job, stages)}”
      </h2>
      <p className="failure__message">{job.error_message || "The job stopped without giving a reason."}</p>
      <div className="failure__actions">
        {job.source_kind === "url" || remembered ? (
          <button
            type="button"
            className="button button--primary"
            disabled={sending !== null}
            onClick={() => void retry(remembered)}
          >
            {sending === null ? "Try again" : percent !== null ? `Uploading… ${percent}%` : "Sending…"}
          </button>
        ) : (
          <label className={`button button--primary file-button${sending !== null ? " is-disabled" : ""}`}>
            <input
              className="visually-hidden"
              type="file"
              accept={ACCEPT}
              disabled={sending !== null}
              aria-describedby={`${ids}-pick-hint`}
              onChange={(e) => {
                const file = e.target.files?.[0];
                if (file) void retry(file);
              }}
            />
            {sending === null ? "Choose the file to try again" : `Uploading… ${percent ?? 0}%`}
          </label>
        )}
        <Link className="button" href="/">
          Start over
        </Link>
      </div>
      {job.source_kind === "upload" && !remembered && (
        <p className="hint" id={`${ids}-pick-hint`}>
          To send “{job.source}” again, choose it again: this page no longer holds the file.
        </p>
      )}
      {error && (
        <p className="message message--error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
