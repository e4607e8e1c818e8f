"""Beat's housekeeping on a real (SQLite) database: the reaper and the artifact cleanup."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.core import db
from app.core.config import Settings
from app.jobs.maintenance import (
    NEVER_STARTED,
    REVISION_LOST,
    WORKER_LOST,
    cleanup_old_artifacts,
    reap_stalled_jobs,
    reap_stalled_revisions,
    resend_unsent_jobs,
)
from app.models import Job, JobRevision, JobStatus, MetricCounter, utcnow
from app.storage import LocalStorage


@pytest.fixture
def database(tmp_path: Path, sqlite_url: str) -> Settings:
    return Settings(
        DATABASE_URL=sqlite_url, ARTIFACTS_DIR=tmp_path / "artifacts", JOB_STALL_MINUTES=40, ARTIFACT_TTL_HOURS=24
    )


def add_job(
    status: JobStatus, *, age: timedelta, worker: str | None = None, cancelled: bool = False, sent: bool = True
) -> str:
    stamp = utcnow() - age
    with db.session_scope() as session:
        job = Job(owner="o", source_kind="upload", source="a.mp3", status=status.value, timings={}, worker=worker,
                  cancelled=cancelled, created_at=stamp, updated_at=stamp,
                  queued_at=stamp if sent else None)  # fmt: skip
        session.add(job)
        session.flush()
        return job.id


def status_of(job_id: str) -> tuple[str, str | None, str | None] | None:
    with db.session_scope() as session:
        job = session.get(Job, job_id)
        return None if job is None else (job.status, job.failed_stage, job.error_message)


def detail_of(job_id: str) -> str | None:
    with db.session_scope() as session:
        job = session.get(Job, job_id)
        return None if job is None else job.error_detail


def test_reaper_fails_jobs_whose_worker_went_silent(database: Settings) -> None:
    lost = add_job(JobStatus.separating_drums, age=timedelta(minutes=45), worker="heavy@host")
    busy = add_job(JobStatus.separating_drums, age=timedelta(minutes=1), worker="heavy@host")
    queued = add_job(JobStatus.processing, age=timedelta(hours=2))  # between stages, waiting in a queue
    forgotten = add_job(JobStatus.pending, age=timedelta(hours=30))
    done = add_job(JobStatus.completed, age=timedelta(hours=2))
    assert reap_stalled_jobs(settings=database) == 2
    lost_state = status_of(lost)
    assert lost_state is not None and lost_state[:2] == ("failed", "separation")
    assert lost_state[2] == WORKER_LOST
    assert "worker heavy@host stopped responding while separating drums" in str(detail_of(lost))
    assert status_of(busy) == ("separating_drums", None, None)
    assert status_of(queued) == ("processing", None, None)
    assert status_of(forgotten) == ("failed", "ingest", NEVER_STARTED)
    assert "no worker picked the job up" in str(detail_of(forgotten))
    assert status_of(done) == ("completed", None, None)
    with db.session_scope() as session:
        counters = {(c.name, c.labels): c.value for c in session.query(MetricCounter)}
    assert counters[("drumscribe_jobs_total", "status=failed")] == 2
    assert counters[("drumscribe_jobs_failed_total", "stage=separation")] == 1


def test_cleanup_removes_expired_jobs_and_orphaned_files(database: Settings) -> None:
    storage = LocalStorage(database.ARTIFACTS_DIR)
    old = add_job(JobStatus.completed, age=timedelta(hours=25))
    fresh = add_job(JobStatus.completed, age=timedelta(hours=1))
    running = add_job(JobStatus.predicting, age=timedelta(hours=25), worker="heavy@host")
    abandoned = add_job(JobStatus.predicting, age=timedelta(hours=1), cancelled=True)
    for job_id in (old, fresh, running, abandoned, "0rphan-files"):
        folder = storage.job_dir(job_id)
        folder.mkdir(parents=True)
        (folder / "hits.json").write_text("{}")
    stale = (utcnow() - timedelta(hours=30)).timestamp()
    os.utime(storage.job_dir("0rphan-files") / "hits.json", (stale, stale))
    assert cleanup_old_artifacts(settings=database, storage=storage) == 3
    assert status_of(old) is None and not storage.job_dir(old).exists()
    assert status_of(abandoned) is None and not storage.job_dir(abandoned).exists()
    assert not storage.job_dir("0rphan-files").exists()
    assert status_of(fresh) is not None and storage.job_dir(fresh).exists()
    assert status_of(running) is not None, "a running job is the reaper's business, not cleanup's"


def test_pending_jobs_the_api_never_sent_are_sent_once(database: Settings) -> None:
    unsent = add_job(JobStatus.pending, age=timedelta(minutes=5), sent=False)
    just_created = add_job(JobStatus.pending, age=timedelta(seconds=10), sent=False)
    waiting = add_job(JobStatus.pending, age=timedelta(minutes=5))
    deleted = add_job(JobStatus.pending, age=timedelta(minutes=5), sent=False, cancelled=True)
    sent: list[str] = []
    assert resend_unsent_jobs(enqueue=sent.append) == 1
    assert sent == [unsent]
    assert resend_unsent_jobs(enqueue=sent.append) == 0, "a resent job is marked as sent"
    assert {just_created, waiting, deleted}.isdisjoint(sent)


def test_the_reaper_waits_longer_than_the_broker_takes_to_redeliver() -> None:
    defaults = Settings()
    assert defaults.JOB_STALL_MINUTES * 60 > defaults.BROKER_VISIBILITY_TIMEOUT
    with pytest.raises(ValueError, match="JOB_STALL_MINUTES=30 must be at least 122"):
        Settings(JOB_STALL_MINUTES=30, BROKER_VISIBILITY_TIMEOUT=7200)
    assert Settings(JOB_STALL_MINUTES=3, BROKER_VISIBILITY_TIMEOUT=20).JOB_STALL_MINUTES == 3


def test_reaper_fails_revisions_whose_render_task_was_lost(database: Settings) -> None:
    job_id = add_job(JobStatus.completed, age=timedelta(hours=1))
    lost_at, fresh_at = utcnow() - timedelta(minutes=45), utcnow() - timedelta(minutes=1)
    with db.session_scope() as session:
        for number, (status, stamp) in enumerate(
            (("pending", lost_at), ("processing", lost_at), ("processing", fresh_at), ("completed", lost_at)), start=1
        ):
            session.add(JobRevision(job_id=job_id, number=number, base_revision=0, status=status,
                                    created_at=stamp, updated_at=stamp))  # fmt: skip
    assert reap_stalled_revisions(settings=database) == 2
    with db.session_scope() as session:
        rows = session.scalars(select(JobRevision).order_by(JobRevision.number)).all()
        assert [r.status for r in rows] == ["failed", "failed", "processing", "completed"]
        assert rows[0].error_message == REVISION_LOST and "JOB_STALL_MINUTES=40" in str(rows[0].error_detail)
