"""Database tables: jobs, their share links and revisions, and the system-wide metric counters."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.core.job_status import JobStatus, RevisionStatus


def utcnow() -> datetime:
    """Timezone-aware now, the only clock the tables use."""
    return datetime.now(UTC)


def _new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    """Declarative base of every table (Alembic reads its metadata)."""


ACTIVE_STATUSES = frozenset(JobStatus) - {JobStatus.completed, JobStatus.failed}
"""States of a job that still holds a place in its owner's quota: queued, or in one of the pipeline's stages."""

RUNNING_STATUSES = ACTIVE_STATUSES - {JobStatus.pending}
"""States in which a worker has started on the job."""


class Job(Base):
    """One transcription: who owns it, where it stands, and what it produced."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_new_id)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    # Hash of the client's address (jobs.service.address_of), for the per-address quota; None when unknown.
    client_address: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    status: Mapped[str] = mapped_column(String(32), index=True, default=JobStatus.pending.value)
    stage_progress: Mapped[int] = mapped_column(Integer, default=0)
    # What the musician reads (in the API's JobOut), and what the operator needs (paths, settings, the
    # exception; never in the API): app.core.errors.
    error_message: Mapped[str | None] = mapped_column(Text, default=None)
    error_detail: Mapped[str | None] = mapped_column(Text, default=None)
    failed_stage: Mapped[str | None] = mapped_column(String(32), default=None)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False, index=True)

    source_kind: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text, default=None)
    separator: Mapped[str | None] = mapped_column(String(16), default=None)
    # Why that separator ran (app.pipeline.separation.auto.SeparatorReason), for the result page.
    separator_reason: Mapped[str | None] = mapped_column(String(48), default=None)
    model: Mapped[str | None] = mapped_column(String(64), default=None)
    duration_s: Mapped[float | None] = mapped_column(Float, default=None)
    tempo_bpm: Mapped[float | None] = mapped_column(Float, default=None)
    time_signature: Mapped[str | None] = mapped_column(String(8), default=None)
    hit_count: Mapped[int | None] = mapped_column(Integer, default=None)
    timings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    worker: Mapped[str | None] = mapped_column(String(255), default=None)
    # The revision whose sheet the job shows (0: the transcription itself); see JobRevision.
    current_revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    # When the chain was handed to the broker; a pending job without it was never sent (the API died first).
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class JobShare(Base):
    """A read-only link to a finished job: whoever holds its token sees the sheet, plays and downloads.

    Only the token's SHA-256 is stored, as for owners' tokens; the first characters tell the owner's links
    apart. Deleting the job deletes its shares (the foreign key cascades).
    """

    __tablename__ = "job_shares"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_new_id)
    job_id: Mapped[str] = mapped_column(String(36), ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_prefix: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class JobRevision(Base):
    """An edited sheet of a job: the editor's hits (in storage, rev-N.input.json) and overrides, rendered by the
    notation stage into rev-N.* files. Revision 0, the transcription itself, has no row."""

    __tablename__ = "job_revisions"
    __table_args__ = (UniqueConstraint("job_id", "number", name="uq_job_revisions_job_number"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_new_id)
    job_id: Mapped[str] = mapped_column(String(36), ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    base_revision: Mapped[int] = mapped_column(Integer)
    """The revision the editor started from: its grid is kept where no override replaces it."""
    status: Mapped[str] = mapped_column(String(16), default=RevisionStatus.pending.value)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    fixed_tempo_bpm: Mapped[float | None] = mapped_column(Float, default=None)
    fixed_time_signature: Mapped[str | None] = mapped_column(String(8), default=None)
    first_downbeat_s: Mapped[float | None] = mapped_column(Float, default=None)
    # What the notation stage wrote.
    tempo_bpm: Mapped[float | None] = mapped_column(Float, default=None)
    time_signature: Mapped[str | None] = mapped_column(String(8), default=None)
    hit_count: Mapped[int | None] = mapped_column(Integer, default=None)
    error_message: Mapped[str | None] = mapped_column(Text, default=None)
    error_detail: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class MetricCounter(Base):
    """A monotonic counter shared by every process, so /metrics speaks for the whole system."""

    __tablename__ = "metric_counters"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    labels: Mapped[str] = mapped_column(String(256), primary_key=True, default="")
    value: Mapped[float] = mapped_column(Float, default=0.0)
