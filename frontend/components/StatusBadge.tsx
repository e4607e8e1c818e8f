import type { JobStatus } from "@/lib/api/client";
import { usePipeline } from "@/lib/hooks/usePipeline";
import { isActive, statusLabel } from "@/lib/steps";

export function StatusBadge({ status }: { status: JobStatus }) {
  const { stages } = usePipeline();
  const tone = status === "completed" ? "done" : status === "failed" ? "failed" : isActive(status) ? "active" : "neutral";
  return <span className={`badge badge--${tone}`}>{statusLabel(status, stages)}</span>;
}
