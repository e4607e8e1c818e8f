"use client";

import { useRouter } from "next/navigation";
import { useEffect, useId, useRef, useState, type DragEvent, type FormEvent } from "react";

import { ApiError, getLimits, submitLink, uploadSong } from "@/lib/api/client";
import type { UploadProgress } from "@/lib/api/xhrFetch";
import { formatBytes } from "@/lib/format";
import { rememberUpload } from "@/lib/retry";
import { ACCEPT, DEFAULT_LIMITS, checkDuration, checkFile, checkLink, readDuration, uploadHint, type InputLimits } from "@/lib/validation";

type Busy = { kind: "upload"; file: File; progress: UploadProgress | null } | { kind: "link"; url: string } | null;

function describe(exc: unknown): string {
  if (exc instanceof ApiError) {
    return exc.retryAfterS ? `${exc.message} (You can try again in ${exc.retryAfterS} s.)` : exc.message;
  }
  return "Something went wrong. Try again.";
}

/** Home: drop or pick a song, or paste a link; checks it, sends it, and opens the new job's page. */
export function NewJob() {
  const router = useRouter();
  const ids = useId();
  const fileInput = useRef<HTMLInputElement>(null);
  const abort = useRef<AbortController | null>(null);
  const [busy, setBusy] = useState<Busy>(null);
  const [dragging, setDragging] = useState(false);
  const [fileError, setFileError] = useState<string | null>(null);
  const [link, setLink] = useState("");
  const [linkError, setLinkError] = useState<string | null>(null);
  const [limits, setLimits] = useState<InputLimits>(DEFAULT_LIMITS);

  useEffect(() => {
    // The operator may have changed the limits; until the API answers, its defaults stand (and the
    // API checks every upload again in any case).
    const controller = new AbortController();
    getLimits(controller.signal).then(setLimits, () => undefined);
    return () => controller.abort();
  }, []);

  async function send(file: File) {
    setLinkError(null);
    const problem = checkFile(file, limits.max_upload_mb);
    if (problem) {
      setFileError(problem);
      return;
    }
    // The length, where the browser can read it; a file it cannot read is checked by the API.
    const tooLong = checkDuration(file.name, await readDuration(file), limits.max_duration_seconds);
    if (tooLong) {
      setFileError(tooLong);
      if (fileInput.current) fileInput.current.value = "";
      return;
    }
    setFileError(null);
    const controller = new AbortController();
    abort.current = controller;
    setBusy({ kind: "upload", file, progress: { loaded: 0, total: file.size } });
    try {
      const job = await uploadSong(file, (progress) => setBusy({ kind: "upload", file, progress }), controller.signal);
      rememberUpload(job.id, file);
      router.push(`/job/?id=${encodeURIComponent(job.id)}`);
    } catch (exc) {
      setBusy(null);
      if (exc instanceof DOMException && exc.name === "AbortError") return;
      setFileError(describe(exc));
    } finally {
      abort.current = null;
      if (fileInput.current) fileInput.current.value = "";
    }
  }

  async function sendLink(event: FormEvent) {
    event.preventDefault();
    setFileError(null);
    const checked = checkLink(link);
    if (checked.error !== null) {
      setLinkError(checked.error);
      return;
    }
    setLinkError(null);
    setBusy({ kind: "link", url: checked.url });
    try {
      const job = await submitLink(checked.url);
      router.push(`/job/?id=${encodeURIComponent(job.id)}`);
    } catch (exc) {
      setBusy(null);
      setLinkError(describe(exc));
    }
  }

  function onDrop(event: DragEvent) {
    event.preventDefault();
    setDragging(false);
    if (busy) return;
    const files = event.dataTransfer.files;
    if (files.length > 1) {
      setFileError("Drop one song at a time.");
      return;
    }
    if (files[0]) void send(files[0]);
  }

  const uploading = busy?.kind === "upload" ? busy : null;
  const percent = uploading?.progress?.total
    ? Math.min(100, Math.round((uploading.progress.loaded / uploading.progress.total) * 100))
    : 0;

  return (
    <div className="card new-job">
      <div
        className={`dropzone${dragging ? " dropzone--active" : ""}${fileError ? " dropzone--error" : ""}`}
        onDragEnter={(e) => {
          e.preventDefault();
          if (!busy) setDragging(true);
        }}
        onDragOver={(e) => e.preventDefault()}
        onDragLeave={(e) => {
          if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDragging(false);
        }}
        onDrop={onDrop}
      >
        {uploading ? (
          <div className="upload" aria-live="polite">
            <p className="upload__name">
              Uploading <strong>{uploading.file.name}</strong>
            </p>
            <progress
              className="progress"
              max={100}
              value={percent}
              aria-label={`Uploading ${uploading.file.name}`}
              aria-valuetext={`${percent}%`}
            />
            <p className="upload__numbers">
              {percent < 100
                ? `${percent}% · ${formatBytes(uploading.progress?.loaded ?? 0)} of ${formatBytes(uploading.file.size)}`
                : "Uploaded. Checking the audio…"}
            </p>
            {percent < 100 && (
              <button type="button" className="button button--quiet" onClick={() => abort.current?.abort()}>
                Cancel upload
              </button>
            )}
          </div>
        ) : (
          <>
            <svg className="dropzone__icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
              <path d="M12 3v12m0-12-4.5 4.5M12 3l4.5 4.5M4 15v3.5A2.5 2.5 0 0 0 6.5 21h11a2.5 2.5 0 0 0 2.5-2.5V15" />
            </svg>
            <p className="dropzone__title">
              {dragging ? "Drop the song to upload it" : "Drag and drop a song here"}
            </p>
            <p className="dropzone__or">or</p>
            <label className="button button--primary file-button">
              <input
                ref={fileInput}
                id={`${ids}-file`}
                className="visually-hidden"
                type="file"
                accept={ACCEPT}
                disabled={busy !== null}
                aria-describedby={`${ids}-file-hint${fileError ? ` ${ids}-file-error` : ""}`}
                onChange={(e) => {
                  const file = e.target.files?.[0];
                  if (file) void send(file);
                }}
              />
              Choose an audio file
            </label>
            <p className="hint" id={`${ids}-file-hint`}>
              {uploadHint(limits)}
            </p>
          </>
        )}
        {fileError && (
          <p className="message message--error" role="alert" id={`${ids}-file-error`}>
            {fileError}
          </p>
        )}
      </div>

      <div className="divider" role="presentation">
        <span>or paste a link</span>
      </div>

      <form className="link-form" onSubmit={sendLink} noValidate>
        <label htmlFor={`${ids}-link`} className="label">
          YouTube or audio link
        </label>
        <div className="link-form__row">
          <input
            id={`${ids}-link`}
            className="input"
            type="url"
            inputMode="url"
            autoComplete="url"
            spellCheck={false}
            placeholder="https://www.youtube.com/watch?v=…"
            value={link}
            disabled={busy !== null}
            aria-invalid={linkError ? true : undefined}
            aria-describedby={linkError ? `${ids}-link-error` : undefined}
            onChange={(e) => {
              setLink(e.target.value);
              if (linkError) setLinkError(null);
            }}
          />
          <button type="submit" className="button button--primary" disabled={busy !== null}>
            {busy?.kind === "link" ? "Sending…" : "Transcribe link"}
          </button>
        </div>
        {linkError && (
          <p className="message message--error" role="alert" id={`${ids}-link-error`}>
            {linkError}
          </p>
        )}
      </form>
    </div>
  );
}
