import Link from "next/link";

export default function NotFound() {
  return (
    <div className="page page--narrow">
      <div className="state">
        <h1 className="page__title">Page not found</h1>
        <p>There is nothing at this address.</p>
        <p className="state__actions">
          <Link className="button button--primary" href="/">New transcription</Link>
          <Link className="button" href="/history/">History</Link>
        </p>
      </div>
    </div>
  );
}
