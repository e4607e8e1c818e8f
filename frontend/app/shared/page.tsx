import { Suspense } from "react";

import { SharedView } from "@/components/SharedView";

export default function SharedPage() {
  // The link's token is in the query (/shared/?token=…): the static export has one page for every link.
  return (
    <Suspense fallback={<p className="state state--loading">Loading…</p>}>
      <SharedView />
    </Suspense>
  );
}
