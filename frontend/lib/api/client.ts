/**
 * The only way the UI talks to the DrumScribe API: openapi-fetch over the types generated from
 * openapi.json (`npm run api:generate`). Requests go to the page's own origin (`drumscribe serve`
 * serves UI and API on one port; server.mjs proxies /api), so the API's HttpOnly ownership cookie
 * rides along with every request.
 */
import createClient from "openapi-fetch";

import type { components, paths } from "./schema";
import { xhrFetch, type UploadProgress } from "./xhrFetch";

export type Job = components["schemas"]["JobOut"];
export type JobStatus = components["schemas"]["JobStatus"];
export type Artifact = components["schemas"]["Artifact"];
export type JobList = components["schemas"]["JobList"];
export type Limits = components["schemas"]["Limits"];
export type Pipeline = components["schemas"]["Pipeline"];
export type PipelineStage = components["schemas"]["PipelineStage"];
export type PipelineArtifact = components["schemas"]["PipelineArtifact"];

// The page's own origin (a Request needs an absolute URL outside a browser, as in the unit tests).
// fetch is looked up on each call rather than captured once, so tests and instrumentation can replace it.
export const api = createClient<paths>({
  baseUrl: globalThis.location?.origin ?? "",
  fetch: (request) => globalThis.fetch(request),
});

/** An API refusal or a network failure, with the message to show the user. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly retryAfterS: number | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/**
 * The message of an error body: the API's `detail` verbatim when it is a string, FastAPI's validation
 * errors joined, else a plain description of the status.
 */
export function errorMessage(body: unknown, status: number): string {
  if (body && typeof body === "object" && "detail" in body) {
    const detail = (body as { detail: unknown }).detail;
    if (typeof detail === "string" && detail.trim()) return detail;
    if (Array.isArray(detail)) {
      const parts = detail
        .map((d) => (d && typeof d === "object" && "msg" in d ? String((d as { msg: unknown }).msg) : ""))
        .filter(Boolean);
      if (parts.length) return parts.join("; ");
    }
  }
  if (typeof body === "string" && body.trim() && body.length < 300 && !body.trim().startsWith("<")) return body.trim();
  if (status === 0) return "Could not reach DrumScribe. Check your connection and try again.";
  if (status === 404) return "Not found.";
  if (status === 429) return "Too many transcriptions are running. Wait for one to finish and try again.";
  if (status >= 500) return `DrumScribe had a problem (HTTP ${status}). Try again in a moment.`;
  return `The request was refused (HTTP ${status}).`;
}

function refusal(error: unknown, response: Response): ApiError {
  const retry = Number(response.headers.get("Retry-After"));
  return new ApiError(errorMessage(error, response.status), response.status, Number.isFinite(retry) && retry > 0 ? retry : null);
}

/** Runs a call of the typed client, turning a thrown network error into an ApiError. */
async function call<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (exc) {
    if (exc instanceof ApiError || (exc instanceof DOMException && exc.name === "AbortError")) throw exc;
    throw new ApiError(errorMessage(null, 0), 0);
  }
}

/** Uploads a song; `onProgress` sees the bytes sent. Resolves to the new job (202). */
export async function uploadSong(file: File, onProgress?: (p: UploadProgress) => void, signal?: AbortSignal): Promise<Job> {
  const { data, error, response } = await call(() =>
    api.POST("/api/v1/jobs", {
      body: { file },
      // Sent as multipart/form-data, with the file's own name (a plain Blob would be called "blob").
      bodySerializer: () => {
        const form = new FormData();
        form.append("file", file, file.name);
        return form;
      },
      fetch: xhrFetch(onProgress),
      signal,
    }),
  );
  if (!data) throw refusal(error, response);
  return data;
}

/** Transcribes a link (YouTube or a direct audio link). Resolves to the new job (202). */
export async function submitLink(url: string): Promise<Job> {
  const { data, error, response } = await call(() => api.POST("/api/v1/jobs", { body: { url } }));
  if (!data) throw refusal(error, response);
  return data;
}

/** What this deployment accepts (upload size, song length, jobs at a time). */
export async function getLimits(signal?: AbortSignal): Promise<Limits> {
  const { data, error, response } = await call(() => api.GET("/api/v1/limits", { signal }));
  if (!data) throw refusal(error, response);
  return data;
}

/** The pipeline's stages, in order, and the files a finished job hands back. */
export async function getPipeline(signal?: AbortSignal): Promise<Pipeline> {
  const { data, error, response } = await call(() => api.GET("/api/v1/pipeline", { signal }));
  if (!data) throw refusal(error, response);
  return data;
}

/** One job, and the server's clock at the time of the answer (for elapsed times). */
export async function getJob(id: string, signal?: AbortSignal): Promise<{ job: Job; serverNow: number | null }> {
  const { data, error, response } = await call(() =>
    api.GET("/api/v1/jobs/{job_id}", { params: { path: { job_id: id } }, signal, cache: "no-store" }),
  );
  if (!data) throw refusal(error, response);
  const date = Date.parse(response.headers.get("Date") ?? "");
  return { job: data, serverNow: Number.isNaN(date) ? null : date };
}

/** This browser's jobs, newest first. */
export async function listJobs(limit = 100): Promise<JobList> {
  const { data, error, response } = await call(() =>
    api.GET("/api/v1/jobs", { params: { query: { limit } }, cache: "no-store" }),
  );
  if (!data) throw refusal(error, response);
  return data;
}

/** Cancels a running job or deletes a finished one with its files. */
export async function deleteJob(id: string): Promise<void> {
  const { error, response } = await call(() => api.DELETE("/api/v1/jobs/{job_id}", { params: { path: { job_id: id } } }));
  if (!response.ok && response.status !== 404) throw refusal(error, response);
}

/** The text of a finished job's artifact (the MusicXML, hits.json), by its name in `job.artifacts`. */
export async function artifactText(id: string, name: string, signal?: AbortSignal): Promise<string> {
  const { data, error, response } = await call(() =>
    api.GET("/api/v1/jobs/{job_id}/artifacts/{name}", { params: { path: { job_id: id, name } }, parseAs: "text", signal }),
  );
  if (data === undefined) throw refusal(error, response);
  return data;
}

export type SharedJob = components["schemas"]["SharedJobOut"];
export type Share = components["schemas"]["ShareOut"];
export type ShareCreated = components["schemas"]["ShareCreated"];

/**
 * Where a sheet's files are read from: the owner's job, or a share link (which never touches the owner's
 * endpoints). Plain data, so a component can depend on it by value.
 */
export type ArtifactSource = { kind: "job"; jobId: string; revision?: number } | { kind: "shared"; token: string };

/** A key that changes exactly when the source does (for effects' dependencies). */
export function sourceKey(source: ArtifactSource): string {
  return source.kind === "job" ? `job:${source.jobId}:${source.revision ?? 0}` : `shared:${source.token}`;
}

/**
 * The text of one of a sheet's files (the MusicXML, hits.json), from the owner's job (the revision it
 * shows: an edited one's files are its own) or a share link.
 */
export async function sourceArtifactText(source: ArtifactSource, name: string, signal?: AbortSignal): Promise<string> {
  if (source.kind === "job" && source.revision) return revisionArtifactText(source.jobId, source.revision, name, signal);
  if (source.kind === "job") return artifactText(source.jobId, name, signal);
  const { data, error, response } = await call(() =>
    api.GET("/api/v1/shared/{token}/artifacts/{name}", { params: { path: { token: source.token, name } }, parseAs: "text", signal }),
  );
  if (data === undefined) throw refusal(error, response);
  return data;
}

/** A shared job, read-only, by its link's token (404 once the link is revoked or the job is gone). */
export async function getSharedJob(token: string, signal?: AbortSignal): Promise<SharedJob> {
  const { data, error, response } = await call(() =>
    api.GET("/api/v1/shared/{token}", { params: { path: { token } }, signal, cache: "no-store" }),
  );
  if (!data) throw refusal(error, response);
  return data;
}

/** The owner's active share links of a job, oldest first. */
export async function listShares(jobId: string, signal?: AbortSignal): Promise<Share[]> {
  const { data, error, response } = await call(() =>
    api.GET("/api/v1/jobs/{job_id}/shares", { params: { path: { job_id: jobId } }, signal, cache: "no-store" }),
  );
  if (!data) throw refusal(error, response);
  return data.shares;
}

/** Makes a read-only link to a finished job; its token is in the answer this once. */
export async function createShare(jobId: string): Promise<ShareCreated> {
  const { data, error, response } = await call(() => api.POST("/api/v1/jobs/{job_id}/shares", { params: { path: { job_id: jobId } } }));
  if (!data) throw refusal(error, response);
  return data;
}

/** Revokes a share link; one already gone (404) counts as revoked. */
export async function revokeShare(jobId: string, shareId: string): Promise<void> {
  const { error, response } = await call(() =>
    api.DELETE("/api/v1/jobs/{job_id}/shares/{share_id}", { params: { path: { job_id: jobId, share_id: shareId } } }),
  );
  if (!response.ok && response.status !== 404) throw refusal(error, response);
}

export type Revision = components["schemas"]["RevisionOut"];
export type RevisionList = components["schemas"]["RevisionList"];
export type RevisionIn = components["schemas"]["RevisionIn"];

/** Saves an edited sheet as a new revision (202: the notation stage renders it; poll getRevision). */
export async function createRevision(jobId: string, body: RevisionIn): Promise<Revision> {
  const { data, error, response } = await call(() =>
    api.POST("/api/v1/jobs/{job_id}/revisions", { params: { path: { job_id: jobId } }, body }),
  );
  if (!data) throw refusal(error, response);
  return data;
}

/** A job's revisions, revision 0 (the transcription) first. */
export async function listRevisions(jobId: string, signal?: AbortSignal): Promise<RevisionList> {
  const { data, error, response } = await call(() =>
    api.GET("/api/v1/jobs/{job_id}/revisions", { params: { path: { job_id: jobId } }, signal, cache: "no-store" }),
  );
  if (!data) throw refusal(error, response);
  return data;
}

/** One revision, with its status and (once completed) its files. */
export async function getRevision(jobId: string, number: number, signal?: AbortSignal): Promise<Revision> {
  const { data, error, response } = await call(() =>
    api.GET("/api/v1/jobs/{job_id}/revisions/{number}", { params: { path: { job_id: jobId, number } }, signal, cache: "no-store" }),
  );
  if (!data) throw refusal(error, response);
  return data;
}

/** Makes revision `number` the one the job shows (and its share links serve); resolves to the job. */
export async function restoreRevision(jobId: string, number: number): Promise<Job> {
  const { data, error, response } = await call(() =>
    api.POST("/api/v1/jobs/{job_id}/revisions/{number}/restore", { params: { path: { job_id: jobId, number } } }),
  );
  if (!data) throw refusal(error, response);
  return data;
}

/** The text of one of revision `number`'s files (its MusicXML, hits.json). */
export async function revisionArtifactText(jobId: string, number: number, name: string, signal?: AbortSignal): Promise<string> {
  const { data, error, response } = await call(() =>
    api.GET("/api/v1/jobs/{job_id}/revisions/{number}/artifacts/{name}", {
      params: { path: { job_id: jobId, number, name } },
      parseAs: "text",
      signal,
    }),
  );
  if (data === undefined) throw refusal(error, response);
  return data;
}
