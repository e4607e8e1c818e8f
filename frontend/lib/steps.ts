/** How a job's status reads as the pipeline's four steps. */
import type { Job, JobStatus } from "./api/client";

export type StepKey = "ingest" | "separation" | "prediction" | "transcription";
export type StepState = "waiting" | "active" | "done" | "failed" | "skipped";

export type StepInfo = {
  key: StepKey;
  label: string;
  detail: string;
  /** The job status while this step runs. */
  status: JobStatus;
  /** The key of this step's entry in `job.timings`. */
  timing: string;
};

export const STEPS: readonly StepInfo[] = [
  { key: "ingest", label: "Ingest", detail: "Fetching and decoding the audio", status: "processing", timing: "ingest_audio" },
  { key: "separation", label: "Separating drums", detail: "Isolating the drum track from the mix", status: "separating_drums", timing: "separate_drums" },
  { key: "prediction", label: "Predicting hits", detail: "Finding every kick, snare, hi-hat and cymbal hit", status: "predicting", timing: "predict_hits" },
  { key: "transcription", label: "Writing the sheet", detail: "Tempo, bars and notation: PDF, MusicXML and MIDI", status: "transcribing", timing: "transcribe_and_export" },
]; // prettier-ignore

export type Step = StepInfo & {
  state: StepState;
  /** 0–100 for the active step, 100 for a done one, else 0. */
  progress: number;
  /** Seconds the step took, once done. */
  seconds: number | null;
};

type JobLike = Pick<Job, "status" | "stage_progress" | "failed_stage" | "timings">;

export const ACTIVE_STATUSES: readonly JobStatus[] = ["pending", "processing", "separating_drums", "predicting", "transcribing"];

export function isActive(status: JobStatus): boolean {
  return ACTIVE_STATUSES.includes(status);
}

export function isFinished(status: JobStatus): boolean {
  return status === "completed" || status === "failed";
}

/** Index of the step that failed: failed_stage, else the first step with no timing. */
function failedIndex(job: JobLike): number {
  const named = STEPS.findIndex((s) => s.key === job.failed_stage);
  if (named >= 0) return named;
  const unfinished = STEPS.findIndex((s) => job.timings?.[s.timing] === undefined);
  return unfinished >= 0 ? unfinished : STEPS.length - 1;
}

function clampPercent(value: number): number {
  return Math.max(0, Math.min(100, Math.round(Number.isFinite(value) ? value : 0)));
}

/** The four steps with their state, progress and time. */
export function stepsFor(job: JobLike): Step[] {
  const activeAt = STEPS.findIndex((s) => s.status === job.status);
  const failedAt = job.status === "failed" ? failedIndex(job) : -1;
  return STEPS.map((info, i) => {
    const seconds = job.timings?.[info.timing] ?? null;
    let state: StepState;
    if (job.status === "completed") state = "done";
    else if (job.status === "failed") state = i < failedAt ? "done" : i === failedAt ? "failed" : "skipped";
    else if (job.status === "pending") state = "waiting";
    else state = i < activeAt ? "done" : i === activeAt ? "active" : "waiting";
    const progress = state === "done" ? 100 : state === "active" ? clampPercent(job.stage_progress) : 0;
    return { ...info, state, progress, seconds: state === "done" ? seconds : null };
  });
}

/** Progress of the whole job, 0–100: each step counts a quarter. */
export function overallProgress(job: JobLike): number {
  if (job.status === "completed") return 100;
  const steps = stepsFor(job);
  const sum = steps.reduce((total, s) => total + (s.state === "done" ? 100 : s.state === "active" ? s.progress : 0), 0);
  return Math.round(sum / steps.length);
}

/** A short sentence of where the job is. */
export function statusSentence(job: JobLike): string {
  switch (job.status) {
    case "pending":
      return "Waiting for a free worker…";
    case "completed":
      return "Your drum sheet is ready.";
    case "failed": {
      const step = STEPS[failedIndex(job)];
      return `Failed while ${step.label.toLowerCase() === "ingest" ? "ingesting the audio" : step.label.toLowerCase()}.`;
    }
    default: {
      const step = STEPS.find((s) => s.status === job.status);
      return step ? `${step.detail}…` : "Working…";
    }
  }
}

/** The name of a failed stage as the page shows it. */
export function failedStepLabel(job: JobLike): string {
  return STEPS[failedIndex(job)].label;
}

/** A status in words, for badges. */
export function statusLabel(status: JobStatus): string {
  switch (status) {
    case "pending":
      return "Queued";
    case "processing":
      return "Ingesting";
    case "separating_drums":
      return "Separating drums";
    case "predicting":
      return "Predicting hits";
    case "transcribing":
      return "Writing the sheet";
    case "completed":
      return "Done";
    case "failed":
      return "Failed";
  }
}
