/** What the result page says about drum separation, in a musician's words (hits.json's `separator_reason`). */
import type { Job } from "@/lib/api/client";

type Separation = Pick<Job, "separator" | "separator_reason">;

const LESS_ACCURATE = "results on full mixes may be less accurate";

/** Why the drums were heard in the mix, or null when the job does not say (jobs from before it was kept). */
function whyNotSeparated(reason: Separation["separator_reason"]): string | null {
  switch (reason) {
    case "demucs weights unavailable offline":
      return "the separation model isn't installed on this server";
    case "demucs weights download failed":
      return "the separation model couldn't be downloaded to this server";
    case "demucs weights could not be loaded":
      return "the separation model on this server couldn't be started";
    case "chosen explicitly":
      return "this server is set up to transcribe recordings as they are, which suits drums-only tracks";
    default:
      return null;
  }
}

/** One sentence on how the drums were taken out of the song; null when the job has not got that far. */
export function separationNote({ separator, separator_reason }: Separation): string | null {
  switch (separator) {
    case "demucs":
      return "Drums were separated from the band before transcription.";
    case "hpss":
      return `Drums were picked out of the mix with a simple filter instead of the separation model; ${LESS_ACCURATE}.`;
    case "none": {
      const why = whyNotSeparated(separator_reason);
      return `Drums were not separated from the band${why ? `: ${why}` : ""}; ${LESS_ACCURATE}.`;
    }
    default:
      return null;
  }
}
