import type { Metadata } from "next";

import { HistoryList } from "@/components/HistoryList";

export const metadata: Metadata = { title: "History — DrumScribe" };

export default function HistoryPage() {
  return (
    <div className="page">
      <h1 className="page__title">History</h1>
      <p className="lead lead--small">Transcriptions made in this browser, newest first.</p>
      <HistoryList />
    </div>
  );
}
