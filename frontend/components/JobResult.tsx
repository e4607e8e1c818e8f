import type { ReactNode } from "react";

import type { Artifact, ArtifactSource, Job, SharedJob } from "@/lib/api/client";
import { formatBytes, formatClock, formatTempo } from "@/lib/format";
import { usePipeline } from "@/lib/hooks/usePipeline";

import { ScoreView, type Editing } from "./ScoreView";
import { SeparationNote } from "./SeparationNote";

type ResultFacts = Pick<Job | SharedJob, "tempo_bpm" | "time_signature" | "duration_s" | "hit_count" | "artifacts">;

/**
 * A finished job: tempo and metre, downloads (the pipeline's artifacts it has), how the drums were separated
 * (the owner's view only), the owner's tools (`children`: sharing, versions), and the sheet with its
 * player (and, with `editing`, its editor: the owner's only). The files are read from `source`: the
 * owner's job or a share link.
 */
export function JobResult({
  job,
  source,
  separation,
  editing,
  children,
}: {
  job: ResultFacts;
  source: ArtifactSource;
  separation?: Pick<Job, "separator" | "separator_reason">;
  editing?: Editing;
  children?: ReactNode;
}) {
  const { artifacts } = usePipeline();
  const byName = new Map<string, Artifact>(job.artifacts.map((a) => [a.name, a]));
  const downloads = artifacts.filter((d) => byName.has(d.name));
  return (
    <div className="result">
      <div className="result__top">
        <dl className="facts">
          <div className="fact">
            <dt>Tempo</dt>
            <dd>{formatTempo(job.tempo_bpm)}</dd>
          </div>
          <div className="fact">
            <dt>Time signature</dt>
            <dd>{job.time_signature ?? "–"}</dd>
          </div>
          <div className="fact">
            <dt>Length</dt>
            <dd>{job.duration_s != null ? formatClock(job.duration_s) : "–"}</dd>
          </div>
          <div className="fact">
            <dt>Hits</dt>
            <dd>{job.hit_count ?? "–"}</dd>
          </div>
        </dl>
        <section className="downloads" aria-labelledby="downloads-title">
          <h2 id="downloads-title" className="section-title">
            Downloads
          </h2>
          {downloads.length ? (
            <ul className="downloads__list">
              {downloads.map((d) => {
                const artifact = byName.get(d.name)!;
                return (
                  <li key={d.name}>
                    <a className="download" href={artifact.url} download>
                      <span className="download__label">{d.label}</span>
                      <span className="download__kind">
                        <span className="download__what">{d.description} · </span>
                        {formatBytes(artifact.size_bytes)}
                      </span>
                    </a>
                  </li>
                );
              })}
            </ul>
          ) : (
            <p className="hint">The files of this job are no longer available.</p>
          )}
        </section>
      </div>
      {separation && <SeparationNote job={separation} />}
      {children}
      <ScoreView artifacts={job.artifacts} timeSignature={job.time_signature} source={source} editing={editing} />
    </div>
  );
}
