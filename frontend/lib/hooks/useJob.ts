"use client";

import { useCallback, useEffect, useState } from "react";

import { ApiError, getJob, type Job } from "@/lib/api/client";
import { isFinished } from "@/lib/steps";

export type JobState = {
  job: Job | null;
  /** A refusal that ends polling (the job is gone), or null. */
  error: ApiError | null;
  /** True while the API cannot be reached; polling goes on. */
  offline: boolean;
  /** Milliseconds to add to Date.now() to get the server's clock. */
  clockSkewMs: number;
};

export const POLL_MS = 1000;

const NOTHING_YET: JobState = { job: null, error: null, offline: false, clockSkewMs: 0 };

/**
 * Polls a job about once a second until it is completed or failed (slower while the tab is hidden);
 * `reload` reads it again (after a change made on the page, such as a saved or restored revision).
 */
export function useJob(id: string | null): JobState & { reload: () => void } {
  // Tagged with the job id, so that another id starts from nothing rather than from the last job.
  const [state, setState] = useState<JobState & { id: string | null }>({ ...NOTHING_YET, id: null });
  const [reads, setReads] = useState(0);
  const reload = useCallback(() => setReads((n) => n + 1), []);

  useEffect(() => {
    if (!id) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let controller: AbortController | undefined;
    let failures = 0;

    const schedule = (ms: number) => {
      if (stopped) return;
      timer = setTimeout(() => {
        timer = undefined;
        void poll();
      }, document.hidden ? Math.max(ms, 5000) : ms);
    };
    const poll = async () => {
      controller = new AbortController();
      try {
        const { job, serverNow } = await getJob(id, controller.signal);
        if (stopped) return;
        failures = 0;
        setState((prev) => ({
          id,
          job,
          error: null,
          offline: false,
          clockSkewMs: serverNow === null ? (prev.id === id ? prev.clockSkewMs : 0) : serverNow - Date.now(),
        }));
        if (!isFinished(job.status)) schedule(POLL_MS);
      } catch (exc) {
        if (stopped || (exc instanceof DOMException && exc.name === "AbortError")) return;
        const error = exc instanceof ApiError ? exc : new ApiError(String(exc), 0);
        if (error.status === 0 || error.status >= 500 || error.status === 429) {
          failures += 1;
          setState((prev) => (prev.id === id ? { ...prev, offline: true } : { ...NOTHING_YET, id, offline: true }));
          schedule(Math.min(10_000, POLL_MS * 2 ** Math.min(failures, 4)));
        } else {
          setState((prev) => ({ ...(prev.id === id ? prev : NOTHING_YET), id, error, offline: false }));
        }
      }
    };
    const wake = () => {
      // Back in view: poll now rather than at the end of a slow, hidden-tab wait.
      if (!document.hidden && timer !== undefined && !stopped) {
        clearTimeout(timer);
        timer = undefined;
        void poll();
      }
    };
    void poll();
    document.addEventListener("visibilitychange", wake);
    return () => {
      stopped = true;
      clearTimeout(timer);
      controller?.abort();
      document.removeEventListener("visibilitychange", wake);
    };
  }, [id, reads]);

  return { ...(state.id === id ? state : NOTHING_YET), reload };
}
