import Link from "next/link";
import type { ReactNode } from "react";

/** A page that has nothing to show (not found, no job, an error): why, and the two ways on. */
export function StatePanel({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="page page--narrow">
      <div className="state">
        <h1 className="page__title">{title}</h1>
        {children}
        <p className="state__actions">
          <Link className="button button--primary" href="/">New transcription</Link>
          <Link className="button" href="/history/">History</Link>
        </p>
      </div>
    </div>
  );
}
