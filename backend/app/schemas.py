"""API schemas: what the JSON of /api/v1 looks like."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, HttpUrl

from app.models import JobStatus


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
    failed_stage: str | None = Field(description="ingest, separation, prediction or transcription")
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


class ErrorOut(BaseModel):
    """Every error response."""

    detail: str
