/** How a job's status reads as the pipeline's steps (the stages of GET /api/v1/pipeline, in order). */
import type { Job, JobStatus, PipelineStage } from "./api/client";

export type StepState = "waiting" | "active" | "done" | "failed" | "skipped";

export type Step = PipelineStage & {
  state: StepState;
  /** 0–100 for the active step, 100 for a done one, else 0. */
  progress: number;
  /** Seconds the step took, once done. */
  seconds: number | null;
};

type JobLike = Pick<Job, "status" | "stage_progress" | "failed_stage" | "timings">;
type Stages = readonly PipelineStage[];

export function isFinished(status: JobStatus): boolean {
  return status === "completed" || status === "failed";
}

/** Queued or in one of the stages. */
export function isActive(status: JobStatus): boolean {
  return !isFinished(status);
}

/** Index of the step that failed: the one failed_stage names, else the first step with no timing. */
function failedIndex(job: JobLike, stages: Stages): number {
  const named = stages.findIndex((s) => s.failure_label === job.failed_stage);
  if (named >= 0) return named;
  const unfinished = stages.findIndex((s) => job.timings?.[s.name] === undefined);
  return unfinished >= 0 ? unfinished : stages.length - 1;
}

function clampPercent(value: number): number {
  return Math.max(0, Math.min(100, Math.round(Number.isFinite(value) ? value : 0)));
}

/** The steps with their state, progress and time. */
export function stepsFor(job: JobLike, stages: Stages): Step[] {
  const activeAt = stages.findIndex((s) => s.job_status === job.status);
  const failedAt = job.status === "failed" ? failedIndex(job, stages) : -1;
  return stages.map((stage, i) => {
    const seconds = job.timings?.[stage.name] ?? null;
    let state: StepState;
    if (job.status === "completed") state = "done";
    else if (job.status === "failed") state = i < failedAt ? "done" : i === failedAt ? "failed" : "skipped";
    else if (job.status === "pending") state = "waiting";
    else state = i < activeAt ? "done" : i === activeAt ? "active" : "waiting";
    const progress = state === "done" ? 100 : state === "active" ? clampPercent(job.stage_progress) : 0;
    return { ...stage, state, progress, seconds: state === "done" ? seconds : null };
  });
}

/** Progress of the whole job, 0–100: each step counts the same. */
export function overallProgress(job: JobLike, stages: Stages): number {
  if (job.status === "completed") return 100;
  const steps = stepsFor(job, stages);
  const sum = steps.reduce((total, s) => total + (s.state === "done" ? 100 : s.state === "active" ? s.progress : 0), 0);
  return steps.length ? Math.round(sum / steps.length) : 0;
}

/** A short sentence of where the job is. */
export function statusSentence(job: JobLike, stages: Stages): string {
  switch (job.status) {
    case "pending":
      return "Waiting for a free worker…";
    case "completed":
      return "Your drum sheet is ready.";
    case "failed": {
      const step = stages[failedIndex(job, stages)];
      return step ? `Failed while ${step.label.toLowerCase()}.` : "Failed.";
    }
    default: {
      const step = stages.find((s) => s.job_status === job.status);
      return step ? `${step.detail}…` : "Working…";
    }
  }
}

/** The name of a failed stage as the page shows it. */
export function failedStepLabel(job: JobLike, stages: Stages): string {
  return stages[failedIndex(job, stages)]?.label ?? job.failed_stage ?? "unknown step";
}

/** A status in words, for badges: a running job shows its stage's label. */
export function statusLabel(status: JobStatus, stages: Stages): string {
  switch (status) {
    case "pending":
      return "Queued";
    case "completed":
      return "Done";
    case "failed":
      return "Failed";
    default:
      return stages.find((s) => s.job_status === status)?.label ?? status;
  }
}
