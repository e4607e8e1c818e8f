"use client";

import { useSearchParams } from "next/navigation";
import { useEffect, useMemo, useState } from "react";

import { ApiError, getSharedJob, type ArtifactSource, type SharedJob } from "@/lib/api/client";

import { JobResult } from "./JobResult";
import { StatePanel } from "./StatePanel";

type Load = { state: "loading" } | { state: "gone"; message: string } | { state: "error"; message: string } | { state: "ready"; job: SharedJob };

/**
 * A share link's page: the song's title, its facts, downloads, sheet and player, read only from
 * /api/v1/shared/{token} and its files, so it works in any browser and shows nothing of the owner's.
 */
export function SharedView() {
  const token = useSearchParams().get("token");
  const [load, setLoad] = useState<Load>({ state: "loading" });
  const source = useMemo((): ArtifactSource | null => (token ? { kind: "shared", token } : null), [token]);

  useEffect(() => {
    if (!token) return;
    const controller = new AbortController();
    getSharedJob(token, controller.signal).then(
      (job) => setLoad({ state: "ready", job }),
      (exc: unknown) => {
        if (controller.signal.aborted) return;
        if (exc instanceof ApiError && exc.status === 404) setLoad({ state: "gone", message: exc.message });
        else setLoad({ state: "error", message: exc instanceof ApiError ? exc.message : "Could not load the shared sheet." });
      },
    );
    return () => controller.abort();
  }, [token]);

  const title = load.state === "ready" ? load.job.title || "Shared drum sheet" : null;
  useEffect(() => {
    if (title) document.title = `${title} — DrumScribe`;
  }, [title]);

  if (!token || !source || load.state === "gone") {
    return (
      <StatePanel title="This link no longer works">
        <p>{load.state === "gone" ? load.message : "This address does not hold a share link."}</p>
      </StatePanel>
    );
  }
  if (load.state === "error") {
    return (
      <StatePanel title="Could not load the shared sheet">
        <p className="message message--error" role="alert">
          {load.message}
        </p>
      </StatePanel>
    );
  }
  if (load.state === "loading") {
    return (
      <div className="page">
        <p className="state state--loading" role="status">
          Loading the shared sheet…
        </p>
      </div>
    );
  }
  return (
    <div className="page">
      <header className="job-header">
        <p className="eyebrow">Shared with you · read-only</p>
        <h1 className="page__title job-header__title">{title}</h1>
      </header>
      <JobResult job={load.job} source={source} />
    </div>
  );
}
