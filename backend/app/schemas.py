"""API schemas: what the JSON of /api/v1 looks like."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, HttpUrl

from app.models import JobStatus
from app.pipeline.stage_table import FailureLabel


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
    separator: str | None
    model: str | None
    hit_count: int | None
    timings: dict[str, float] = Field(description="Seconds per finished stage")
    created_at: UtcDatetime
    updated_at: UtcDatetime
    started_at: UtcDatetime | None
    finished_at: UtcDatetime | None
    artifacts: list[Artifact]


class JobList(BaseModel):
    """The caller's jobs, newest first."""

    jobs: list[JobOut]
    total: int


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
