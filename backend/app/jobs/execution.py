"""Running one pipeline stage for one job inside a worker.

A task hands in a job id; this module loads the job, runs the stage function in the job's storage
workspace, reports progress and a heartbeat to the database, and records the outcome (status, timings,
metrics). Running a stage twice is harmless: the stage functions overwrite their files atomically.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import structlog
from sqlalchemy.exc import InterfaceError, OperationalError

from app.core.config import Settings
from app.core.db import session_scope
from app.core.errors import DrumScribeError, for_musicians
from app.core.logging import get_logger
from app.models import Job, JobStatus, utcnow
from app.observability import metrics
from app.pipeline.stage_table import STAGE_BY_NAME, STAGES, Song, StageRun, StageSpec
from app.storage import Storage

log = get_logger(__name__)

DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
"""What a lost database connection raises: the worker retries the stage's task (app.worker), and the job
is not failed for it, since the stage itself did nothing wrong."""

HEARTBEAT_SECONDS = 15.0
PROGRESS_INTERVAL_SECONDS = 1.0


class JobCancelled(Exception):
    """The owner deleted the job while it ran."""


def run_stage(name: str, job_id: str, *, settings: Settings, storage: Storage, worker: str) -> bool:
    """Run stage `name` for `job_id`; True when the chain should go on to the next stage."""
    stage = STAGE_BY_NAME[name]
    structlog.contextvars.bind_contextvars(job_id=job_id, stage=name)
    try:
        song = _start(job_id, stage, worker)
        if song is None:
            return False
        log.info("stage_start")
        started = time.perf_counter()
        reporter = _ProgressReporter(job_id)
        heartbeat = _Heartbeat(job_id, reporter)
        heartbeat.start()
        try:
            with storage.workspace(job_id, stage.inputs(song)) as folder:
                outcome = stage.run(StageRun(folder, song, settings, reporter))
        # Log events are the manual's: separation_failed, prediction_failed (and ingest_, transcription_).
        except JobCancelled:
            log.info("job_cancelled")
            _forget(job_id, storage)
            return False
        except DATABASE_UNAVAILABLE:
            raise
        except DrumScribeError as exc:
            _fail(job_id, exc.stage, exc.musician_message, str(exc))
            log.warning(f"{stage.failure_label}_failed", status="failed", error=str(exc))
            return False
        except Exception as exc:
            status = stage.job_status.value.replace("_", " ")
            detail = f"internal error while {status}: {type(exc).__name__}: {exc}"
            _fail(job_id, stage.failure_label, for_musicians(exc, stage.failure_label), detail)
            log.exception(f"{stage.failure_label}_failed", status="failed", error=detail)
            return False
        finally:
            heartbeat.stop()
        elapsed = time.perf_counter() - started
        _finish(job_id, stage, elapsed, outcome)
        log.info("stage_done", seconds=round(elapsed, 3))
        return stage is not STAGES[-1]
    finally:
        structlog.contextvars.unbind_contextvars("job_id", "stage")


def _start(job_id: str, stage: StageSpec[Any], worker: str) -> Song | None:
    with session_scope() as session:
        job = session.get(Job, job_id)
        if job is None or job.cancelled:
            log.info("job_skipped", reason="deleted")
            return None
        if job.status in (JobStatus.completed, JobStatus.failed):
            log.info("job_skipped", reason=job.status)
            return None
        job.status = stage.job_status.value
        job.stage_progress = 0
        job.worker = worker
        job.started_at = job.started_at or utcnow()
        return Song.of_job(job.source_kind, job.source)


def _finish(job_id: str, stage: StageSpec[Any], elapsed: float, outcome: Any) -> None:
    with session_scope() as session:
        job = session.get(Job, job_id)
        if job is None:
            return
        job.timings = {**(job.timings or {}), stage.name: round(elapsed, 3)}
        job.stage_progress = 100
        job.worker = None
        metrics.observe_stage_latency(session, stage.failure_label, elapsed)
        for column, value in stage.record(outcome).items():
            setattr(job, column, value)
        if stage is STAGES[-1]:
            job.status = JobStatus.completed.value
            job.finished_at = utcnow()
            metrics.record_job_finished(session, JobStatus.completed.value)
            metrics.record_audio_processed(session, job.duration_s or 0.0)


def _fail(job_id: str, label: str, message: str, detail: str) -> None:
    with session_scope() as session:
        job = session.get(Job, job_id)
        if job is None:
            return
        mark_failed(session, job, label, message, detail)


def mark_failed(session: Any, job: Job, label: str, message: str, detail: str | None = None) -> None:
    """Record a failure of `job` in stage `label`, with its metrics (used by the reaper too).

    `message` is for the musician (the job's error_message, which the API returns); `detail` for operators
    (error_detail: paths, settings, the exception; never returned by the API), `message` when not given.
    """
    job.status = JobStatus.failed.value
    job.failed_stage = label
    job.error_message = message
    job.error_detail = detail or message
    job.worker = None
    job.finished_at = utcnow()
    metrics.record_job_finished(session, JobStatus.failed.value)
    metrics.record_stage_failure(session, label)


def _forget(job_id: str, storage: Storage) -> None:
    storage.delete_job(job_id)
    with session_scope() as session:
        job = session.get(Job, job_id)
        if job is not None:
            session.delete(job)


class _ProgressReporter:
    """Writes the stage's progress at most once a second and stops the stage if the job was deleted."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        self.cancelled = threading.Event()
        self._last = 0.0

    def __call__(self, fraction: float) -> None:
        if self.cancelled.is_set():
            raise JobCancelled(self.job_id)
        now = time.monotonic()
        if now - self._last < PROGRESS_INTERVAL_SECONDS and fraction < 1.0:
            return
        self._last = now
        try:
            self.touch(round(max(0.0, min(1.0, fraction)) * 100))
        except DATABASE_UNAVAILABLE as exc:  # progress can wait; the stage's own work goes on
            log.warning("progress_update_failed", error=str(exc).splitlines()[0])
        if self.cancelled.is_set():
            raise JobCancelled(self.job_id)

    def touch(self, percent: int | None = None) -> None:
        """Refresh the heartbeat (and the progress), and notice a deletion."""
        with session_scope() as session:
            job = session.get(Job, self.job_id)
            if job is None or job.cancelled:
                self.cancelled.set()
                return
            if percent is not None:
                job.stage_progress = percent
            job.updated_at = utcnow()


class _Heartbeat:
    """Keeps updated_at fresh while a long step (a Demucs chunk) reports no progress, for the reaper."""

    def __init__(self, job_id: str, reporter: _ProgressReporter) -> None:
        self.reporter = reporter
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job_id[:8]}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                self.reporter.touch()
            except Exception as exc:  # a database hiccup must not kill the stage
                log.warning("heartbeat_failed", error=str(exc))
