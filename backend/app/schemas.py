"""API schemas: what the JSON of /api/v1 looks like."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, HttpUrl

from app.core.job_status import RevisionStatus
from app.models import JobStatus
from app.pipeline.hits import MAX_BPM, MIN_BPM, Instrument, TimeSignature
from app.pipeline.separation.auto import SeparatorReason
from app.pipeline.stage_table import FailureLabel

MAX_REVISION_HITS = 50_000
"""The most hits an edited sheet may hold: far more than a 15-minute song at 16ths on four drums."""


def _as_utc(value: datetime) -> datetime:
    # SQLite returns naive datetimes; every stamp DrumScribe stores is UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]


class JobFromUrl(BaseModel):
    """Body of POST /api/v1/jobs when transcribing a link."""

    url: HttpUrl = Field(description="A YouTube link, or another page yt-dlp supports, or a direct audio link")


class Artifact(BaseModel):
    """One downloadable result."""

    name: str
    url: str
    content_type: str
    size_bytes: int


class JobOut(BaseModel):
    """A job as its owner sees it."""

    id: str
    status: JobStatus
    stage_progress: int = Field(ge=0, le=100, description="Progress of the current stage, 0–100")
    error_message: str | None
    failed_stage: str | None = Field(description="The failure_label of the stage that failed (GET /api/v1/pipeline)")
    source_kind: str = Field(description="upload or url")
    source: str = Field(description="The uploaded file's name or the link")
    title: str | None
    duration_s: float | None
    tempo_bpm: float | None
    time_signature: str | None
    separator: str | None = Field(description="The separator that ran: demucs, hpss or none (what auto chose)")
    separator_reason: SeparatorReason | None = Field(
        description="Why that separator ran: chosen explicitly (SEPARATOR), or what SEPARATOR=auto found"
    )
    model: str | None
    hit_count: int | None
    timings: dict[str, float] = Field(description="Seconds per finished stage")
    created_at: UtcDatetime
    updated_at: UtcDatetime
    started_at: UtcDatetime | None
    finished_at: UtcDatetime | None
    current_revision: int = Field(
        description="The revision of the sheet the job shows (0: the transcription itself); tempo_bpm, "
        "time_signature, hit_count and the sheet's artifacts are that revision's"
    )
    artifacts: list[Artifact]


class JobList(BaseModel):
    """The caller's jobs, newest first."""

    jobs: list[JobOut]
    total: int


class ShareCreated(BaseModel):
    """A new share link. The token is shown this once: DrumScribe keeps only its hash."""

    id: str = Field(description="Revokes the link: DELETE /api/v1/jobs/{job_id}/shares/{id}")
    token: str = Field(description="The secret that opens the shared job")
    url: str = Field(description="The web UI's page for the link, relative to the site: /shared/?token=...")
    token_prefix: str = Field(description="The token's first characters, as the list of links shows them")
    created_at: UtcDatetime


class ShareOut(BaseModel):
    """One of a job's active share links, without its secret."""

    id: str
    token_prefix: str = Field(description="The token's first characters, to tell the links apart")
    created_at: UtcDatetime


class ShareList(BaseModel):
    """A job's active share links, oldest first."""

    shares: list[ShareOut]


class SharedJobOut(BaseModel):
    """A finished job as a share link shows it: the sheet's facts and files, nothing about its owner."""

    title: str | None
    status: JobStatus
    duration_s: float | None
    tempo_bpm: float | None
    time_signature: str | None
    separator: str | None
    model: str | None
    hit_count: int | None
    created_at: UtcDatetime
    finished_at: UtcDatetime | None
    artifacts: list[Artifact] = Field(description="Under /api/v1/shared/{token}/artifacts/{name}")


class RevisionHit(BaseModel):
    """One stroke of an edited sheet (other keys of a hits.json hit, such as confidence, are ignored)."""

    time: float = Field(ge=0, description="Seconds from the start of the song, within its length")
    instrument: Instrument
    velocity: int = Field(ge=1, le=127, description="MIDI velocity")
    accent: bool = False
    ghost: bool = Field(default=False, description="A ghost note: written in parentheses, played softly")


class RevisionIn(BaseModel):
    """An edited sheet: every hit, and what to fix for the whole piece (the rest is kept from base_revision)."""

    hits: list[RevisionHit] = Field(min_length=1, max_length=MAX_REVISION_HITS)
    tempo_bpm: float | None = Field(
        default=None,
        ge=MIN_BPM,
        le=MAX_BPM,
        description="A fixed tempo (counted beats a minute: halves in 2/2): an even beat grid from the first downbeat",
    )
    time_signature: TimeSignature | None = Field(
        default=None,
        description="A fixed metre: the same beats, regrouped (in 2/2, cut time, two of them make a half-note beat)",
    )
    first_downbeat_s: float | None = Field(
        default=None, ge=0, description="Where bar 1 starts (on the nearest beat, unless tempo_bpm is given too)"
    )
    base_revision: int | None = Field(
        default=None,
        ge=0,
        le=1_000_000,
        description="The revision edited (its grid is kept); default: the job's current one",
    )
    note: str | None = Field(default=None, max_length=500, description="What changed, in the editor's words")


class RevisionOut(BaseModel):
    """One revision of a job's sheet; revision 0 is the transcription and is always there."""

    number: int
    status: RevisionStatus
    base_revision: int | None = Field(description="The revision it was edited from (none for revision 0)")
    note: str | None
    fixed_tempo_bpm: float | None
    fixed_time_signature: str | None
    first_downbeat_s: float | None
    tempo_bpm: float | None
    time_signature: str | None
    hit_count: int | None
    error_message: str | None
    current: bool = Field(description="The job shows this revision")
    created_at: UtcDatetime
    finished_at: UtcDatetime | None
    artifacts: list[Artifact] = Field(description="When completed: its sheet_music.*, drums.mid and hits.json")


class RevisionList(BaseModel):
    """A job's revisions, revision 0 first."""

    current_revision: int
    max_revisions: int = Field(description="The most revisions a job may have, revision 0 aside")
    revisions: list[RevisionOut]


class Health(BaseModel):
    """Health of the API's dependencies."""

    status: str = Field(description="ok or unavailable")
    database: str
    broker: str


class Limits(BaseModel):
    """What this deployment accepts; the API enforces each limit again on every request."""

    max_upload_mb: int = Field(description="Largest upload in MB (MAX_UPLOAD_MB)")
    max_duration_seconds: int = Field(description="Longest song in seconds (MAX_DURATION_SECONDS)")
    max_concurrent_jobs_per_user: int = Field(
        description="Unfinished jobs one user may have at a time (MAX_CONCURRENT_JOBS_PER_USER)"
    )
    artifact_ttl_hours: int = Field(description="Hours a finished job's results are kept (ARTIFACT_TTL_HOURS)")
    max_revisions_per_job: int = Field(description="Edited revisions a job may have, the transcription aside")
    max_revision_hits: int = Field(description="Hits an edited sheet may hold")


class PipelineStage(BaseModel):
    """One stage of the pipeline."""

    name: str = Field(description="The stage's name, its key in a job's `timings`")
    job_status: JobStatus = Field(description="A job's status while this stage runs")
    label: str = Field(description="The stage in a few words")
    detail: str = Field(description="What the stage does, in a sentence")
    failure_label: FailureLabel = Field(description="A job's `failed_stage` when this stage fails")


class PipelineArtifact(BaseModel):
    """A file a finished job hands back (when the job produced it)."""

    name: str = Field(description="The file's name in a job's `artifacts` and download URL")
    content_type: str
    label: str = Field(description="The file in a word or two")
    description: str = Field(description="What the file is for")
    optional: bool = Field(description="Only some jobs have it (band.wav: not when the separator is `none`)")


class Pipeline(BaseModel):
    """What every job goes through and hands back."""

    stages: list[PipelineStage] = Field(description="In the order a job goes through them")
    artifacts: list[PipelineArtifact]


class ErrorOut(BaseModel):
    """Every error response."""

    detail: str
