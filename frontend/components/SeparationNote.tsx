import type { Job } from "@/lib/api/client";
import { separationNote } from "@/lib/separation";

/** A finished job's line on drum separation: whether the drums were separated from the band, and if not, why. */
export function SeparationNote({ job }: { job: Pick<Job, "separator" | "separator_reason"> }) {
  const note = separationNote(job);
  return note ? <p className="hint separation-note">{note}</p> : null;
}
