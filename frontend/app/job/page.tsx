import { Suspense } from "react";

import { JobView } from "@/components/JobView";

export default function JobPage() {
  // The job id is in the query (/job/?id=…): the static export has one page for every job.
  return (
    <Suspense fallback={<p className="state state--loading">Loading…</p>}>
      <JobView />
    </Suspense>
  );
}
