"use client";

import { useEffect, useState } from "react";

import { ApiError, createShare, listShares, revokeShare, type Share } from "@/lib/api/client";
import { formatWhen } from "@/lib/format";

/** The full address of a share link's page, from the path the API gives (/shared/?token=…). */
function linkAddress(path: string): string {
  return new URL(path, window.location.origin).href;
}

/**
 * The owner's share links of a finished job: make a read-only link (its address shown once, with a copy
 * button), see the links that work, and revoke any of them.
 */
export function SharePanel({ jobId }: { jobId: string }) {
  const [shares, setShares] = useState<Share[] | null>(null);
  const [fresh, setFresh] = useState<{ id: string; address: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const listFailed = (exc: unknown) => setError(exc instanceof ApiError ? exc.message : "Could not list the share links.");

  useEffect(() => {
    const controller = new AbortController();
    listShares(jobId, controller.signal).then(setShares, (exc: unknown) => {
      if (!controller.signal.aborted) listFailed(exc);
    });
    return () => controller.abort();
  }, [jobId]);

  async function create() {
    setBusy(true);
    setError(null);
    setCopied(false);
    try {
      const made = await createShare(jobId);
      setFresh({ id: made.id, address: linkAddress(made.url) });
      // Listed from the answer, not listed again: the new link is the newest of the job's links.
      const listed: Share = { id: made.id, token_prefix: made.token_prefix, created_at: made.created_at };
      setShares((prev) => [...(prev ?? []).filter((s) => s.id !== made.id), listed]);
    } catch (exc) {
      setError(exc instanceof ApiError ? exc.message : "Could not make a share link.");
    } finally {
      setBusy(false);
    }
  }

  async function revoke(share: Share) {
    setBusy(true);
    setError(null);
    try {
      await revokeShare(jobId, share.id);
      if (fresh?.id === share.id) setFresh(null);
      setShares((prev) => (prev ?? []).filter((s) => s.id !== share.id));
    } catch (exc) {
      setError(exc instanceof ApiError ? exc.message : "Could not revoke the link.");
    } finally {
      setBusy(false);
    }
  }

  async function copy() {
    if (!fresh) return;
    try {
      await navigator.clipboard.writeText(fresh.address);
      setCopied(true);
    } catch {
      // No clipboard (an insecure origin, or permission refused): the address stays selectable.
      setError("Could not copy: select the address and copy it yourself.");
    }
  }

  return (
    <section className="card share" aria-labelledby="share-title">
      <h2 id="share-title" className="section-title">
        Share
      </h2>
      <p className="hint">
        A link opens this sheet, its player and its downloads in any browser, read-only. Your other songs and editing stay
        private. Revoke a link to stop it working.
      </p>
      <button type="button" className="button share__create" onClick={() => void create()} disabled={busy}>
        Make a share link
      </button>
      {fresh && (
        <div className="share__fresh">
          <label htmlFor="share-address">New link (shown once: copy it now)</label>
          <div className="share__copy">
            <input id="share-address" className="input share__address" readOnly value={fresh.address} onFocus={(e) => e.currentTarget.select()} />
            <button type="button" className="button button--primary" onClick={() => void copy()}>
              {copied ? "Copied" : "Copy"}
            </button>
          </div>
        </div>
      )}
      {shares && shares.length > 0 && (
        <ul className="share__list" aria-label="Active share links">
          {shares.map((share) => (
            <li key={share.id} className="share__item" data-share={share.id}>
              <span>
                Link <code>{share.token_prefix}…</code>, made {formatWhen(share.created_at)}
              </span>
              <button
                type="button"
                className="button button--quiet"
                onClick={() => void revoke(share)}
                disabled={busy}
                aria-label={`Revoke link ${share.token_prefix}…`}
              >
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
      {shares && shares.length === 0 && <p className="hint">No active links.</p>}
      <p className="visually-hidden" role="status">
        {copied ? "Link copied" : ""}
      </p>
      {error && (
        <p className="message message--error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
