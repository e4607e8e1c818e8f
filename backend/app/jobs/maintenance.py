"""Periodic housekeeping run by celery-beat: expired artifacts, and jobs and revisions no worker holds any more."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.core.config import Settings
from app.core.db import session_scope
from app.core.job_status import RevisionStatus
from app.core.logging import get_logger
from app.jobs.execution import mark_failed
from app.models import ACTIVE_STATUSES, RUNNING_STATUSES, Job, JobRevision, JobStatus, utcnow
from app.pipeline.stage_table import STAGE_BY_STATUS, STAGES
from app.storage import Storage

log = get_logger(__name__)


def cleanup_old_artifacts(*, settings: Settings, storage: Storage) -> int:
    """Delete finished jobs (rows and files) older than ARTIFACT_TTL_HOURS, and deleted jobs' leftovers."""
    now = utcnow()
    cutoff = now - timedelta(hours=settings.ARTIFACT_TTL_HOURS)
    removed = 0
    with session_scope() as session:
        finished = session.scalars(
            select(Job).where(
                ((Job.status.in_([JobStatus.completed.value, JobStatus.failed.value])) & (Job.updated_at < cutoff))
                # A deleted job whose worker never came back to clean up after it.
                | (Job.cancelled.is_(True) & (Job.updated_at < now - timedelta(minutes=settings.JOB_STALL_MINUTES)))
            )
        ).all()
        for job in finished:
            storage.delete_job(job.id)
            session.delete(job)
            removed += 1
        known = set(session.scalars(select(Job.id)).all())
    # Files with no job row at all (a crash between upload and commit, or rows removed by hand).
    for job_id in storage.job_ids_older_than(cutoff):
        if job_id not in known:
            storage.delete_job(job_id)
            removed += 1
    log.info("cleanup_old_artifacts", removed=removed, ttl_hours=settings.ARTIFACT_TTL_HOURS)
    return removed


WORKER_LOST = "The server stopped working on this song before it was done. Please try again."
NEVER_STARTED = "The server was too busy to start on this song. Please try again."
REVISION_LOST = "The server didn't finish writing this version of the sheet. Please save it again."
"""What musicians read about a job, or a revision, the reaper failed."""


def reap_stalled_jobs(*, settings: Settings) -> int:
    """Mark failed the jobs that no worker holds any more.

    A running stage refreshes its job's heartbeat every few seconds; a job in a running state whose
    heartbeat is older than JOB_STALL_MINUTES has lost its worker (and the broker did not hand the task
    to another). A job that waited in the queue for longer than ARTIFACT_TTL_HOURS was never picked up.
    """
    now = utcnow()
    stalled_before = now - timedelta(minutes=settings.JOB_STALL_MINUTES)
    queued_before = now - timedelta(hours=settings.ARTIFACT_TTL_HOURS)
    reaped = 0
    with session_scope() as session:
        candidates = session.scalars(
            select(Job).where(Job.status.in_([s.value for s in ACTIVE_STATUSES]), Job.cancelled.is_(False))
        ).all()
        for job in candidates:
            updated = _aware(job.updated_at)
            running = job.status in {s.value for s in RUNNING_STATUSES} and job.worker is not None
            if running and updated < stalled_before:
                message = WORKER_LOST
                detail = (
                    f"the worker {job.worker} stopped responding while {job.status.replace('_', ' ')} "
                    f"(no heartbeat for JOB_STALL_MINUTES={settings.JOB_STALL_MINUTES})"
                )
            elif updated < queued_before:
                message = NEVER_STARTED
                detail = f"no worker picked the job up within ARTIFACT_TTL_HOURS={settings.ARTIFACT_TTL_HOURS}"
            else:
                continue
            # A job still queued never started: it failed where it would have started.
            stage = STAGE_BY_STATUS.get(job.status, STAGES[0])
            mark_failed(session, job, stage.failure_label, message, detail)
            log.warning("job_reaped", job_id=job.id, status="failed", error=detail)
            reaped += 1
    return reaped


def reap_stalled_revisions(*, settings: Settings) -> int:
    """Mark failed the revisions that waited for, or stayed in, the notation stage for JOB_STALL_MINUTES: their
    task was lost (rendering one takes seconds)."""
    stalled_before = utcnow() - timedelta(minutes=settings.JOB_STALL_MINUTES)
    unfinished = (RevisionStatus.pending.value, RevisionStatus.processing.value)
    reaped = 0
    with session_scope() as session:
        for revision in session.scalars(select(JobRevision).where(JobRevision.status.in_(unfinished))).all():
            if _aware(revision.updated_at) >= stalled_before:
                continue
            revision.status = RevisionStatus.failed.value
            revision.error_message = REVISION_LOST
            revision.error_detail = (
                f"no worker finished its render task within JOB_STALL_MINUTES={settings.JOB_STALL_MINUTES}"
            )
            revision.finished_at = utcnow()
            log.warning("revision_reaped", job_id=revision.job_id, revision=revision.number, status="failed")
            reaped += 1
    return reaped


UNSENT_GRACE = timedelta(minutes=2)
"""A pending job the API has not marked as sent after this long was never sent: the API died in between."""


def resend_unsent_jobs(*, enqueue: Callable[[str], object]) -> int:
    """Send the chain of pending jobs that never reached the broker, so none waits forever."""
    sent = 0
    with session_scope() as session:
        unsent = session.scalars(
            select(Job).where(
                Job.status == JobStatus.pending.value,
                Job.queued_at.is_(None),
                Job.cancelled.is_(False),
                Job.created_at < utcnow() - UNSENT_GRACE,
            )
        ).all()
        for job in unsent:
            enqueue(job.id)
            job.queued_at = utcnow()
            log.warning("job_resent", job_id=job.id)
            sent += 1
    return sent


def _aware(stamp: datetime) -> datetime:
    # SQLite hands back naive datetimes even for timezone-aware columns.
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
