import { formatSeconds } from "@/lib/format";
import type { Step } from "@/lib/steps";

const STATE_WORDS: Record<Step["state"], string> = {
  waiting: "waiting",
  active: "in progress",
  done: "done",
  failed: "failed",
  skipped: "not run",
};

function Marker({ step, index }: { step: Step; index: number }) {
  if (step.state === "done") {
    return (
      <svg viewBox="0 0 20 20" aria-hidden="true" focusable="false">
        <path d="M5 10.5l3.2 3.2L15 7" />
      </svg>
    );
  }
  if (step.state === "failed") {
    return (
      <svg viewBox="0 0 20 20" aria-hidden="true" focusable="false">
        <path d="M6.5 6.5l7 7m0-7l-7 7" />
      </svg>
    );
  }
  return <span aria-hidden="true">{index + 1}</span>;
}

/** The pipeline's steps, as an ordered list a screen reader reads in full. */
export function StepList({ steps }: { steps: Step[] }) {
  return (
    <ol className="steps">
      {steps.map((step, i) => (
        <li key={step.name} className={`step step--${step.state}`} aria-current={step.state === "active" ? "step" : undefined}>
          <span className="step__marker">
            <Marker step={step} index={i} />
          </span>
          <div className="step__body">
            <p className="step__label">
              {step.label}
              <span className="visually-hidden">: {STATE_WORDS[step.state]}</span>
            </p>
            <p className="step__detail">{step.detail}</p>
            {step.state === "active" && (
              <progress
                className="progress progress--small"
                max={100}
                value={step.progress}
                aria-label={`${step.label} progress`}
                aria-valuetext={`${step.progress}%`}
              />
            )}
          </div>
          <span className="step__meta" aria-hidden={step.state === "waiting" || step.state === "skipped"}>
            {step.state === "done" && step.seconds !== null && formatSeconds(step.seconds)}
            {step.state === "active" && `${step.progress}%`}
            {step.state === "failed" && "failed"}
            {step.state === "skipped" && "–"}
          </span>
        </li>
      ))}
    </ol>
  );
}
