"""The Celery application: a task per stage of the stage table, routed to its queue, the rendering of an edited
sheet (app.worker.render_revision, on the notation stage's queue), and beat's housekeeping.

celery -A app.worker worker -Q default -n default@%h --concurrency=4
celery -A app.worker worker -Q heavy-compute -n heavy@%h --concurrency=1 --max-memory-per-child=2048000
celery -A app.worker beat
"""

from __future__ import annotations

import os
import socket
from functools import lru_cache
from typing import Any

from celery import Celery, chain, signals
from celery.exceptions import Ignore
from celery.schedules import crontab

from app.broker.sql_transport import use_for_sqla_urls
from app.core.config import get_settings
from app.core.logging import configure_logging, get_logger
from app.jobs import maintenance, revision_rendering
from app.jobs.execution import DATABASE_UNAVAILABLE, run_stage
from app.observability.tracing import instrument_celery_process
from app.pipeline.stage_table import DEFAULT_QUEUE, HEAVY_QUEUE, REVISION_STAGE, STAGES, StageSpec
from app.storage import Storage, get_storage

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
settings = get_settings()
log = get_logger(__name__)

RENDER_REVISION = "app.worker.render_revision"

PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0.0, "interval_step": 0.5, "interval_max": 1.0}


def task_name(stage: StageSpec[Any]) -> str:
    """The Celery task that runs `stage` (the manual's names: app.worker.ingest_audio, ...)."""
    return f"app.worker.{stage.name}"


# The embedded broker (sqla+ URLs) deletes acknowledged messages; see app.broker.sql_transport.
use_for_sqla_urls()
celery_app = Celery("drumscribe", broker=settings.CELERY_BROKER_URL, backend=settings.CELERY_RESULT_BACKEND)
celery_app.conf.update(
    task_routes={
        **{task_name(stage): {"queue": stage.queue} for stage in STAGES},
        RENDER_REVISION: {"queue": REVISION_STAGE.queue},
        "app.worker.cleanup_old_artifacts": {"queue": DEFAULT_QUEUE},
        "app.worker.reap_stalled_jobs": {"queue": DEFAULT_QUEUE},
    },
    task_default_queue=DEFAULT_QUEUE,
    # A task is acknowledged only when it is done, and a worker killed mid-task hands it back:
    # with prefetch 1 no worker hoards jobs it cannot start.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_track_started=True,
    # A heavy pool process loads the models (TensorFlow too for an .h5 model) before it reports ready
    # (worker_process_init); Celery's 4 s default would kill it mid-load, again and again, on a busy machine.
    worker_proc_alive_timeout=180.0,
    result_expires=3600,
    broker_connection_retry_on_startup=True,
    broker_transport_options={"visibility_timeout": settings.BROKER_VISIBILITY_TIMEOUT},
    # The API sends a job while a user waits: with the broker down it answers 503 within seconds
    # rather than retrying for half a minute.
    task_publish_retry_policy=PUBLISH_RETRY_POLICY,
    result_backend_transport_options={"retry_policy": PUBLISH_RETRY_POLICY},
    worker_hijack_root_logger=False,
    timezone="UTC",
    beat_schedule={
        "cleanup-old-artifacts": {"task": "app.worker.cleanup_old_artifacts", "schedule": crontab(minute=0)},
        "reap-stalled-jobs": {"task": "app.worker.reap_stalled_jobs", "schedule": 60.0},
    },
)
if settings.CELERY_BROKER_URL.startswith("sqla+sqlite"):
    # SQLite serialises writers; wait for the lock rather than fail a publish.
    celery_app.conf.broker_transport_options = {"connect_args": {"timeout": 30}}


def _worker_name() -> str:
    return socket.gethostname()


@lru_cache(maxsize=1)
def _storage() -> Storage:
    # One storage (and so one boto3 client) per process, not one per task.
    return get_storage(settings)


def _stage_task(stage: StageSpec[Any]) -> Any:
    """The task of `stage`: it runs the stage, and stops the chain when the job failed, finished or was deleted."""

    def run(job_id: str) -> str:
        if not run_stage(stage.name, job_id, settings=settings, storage=_storage(), worker=_worker_name()):
            raise Ignore()  # the rest of the chain must not run
        return job_id

    run.__name__ = run.__qualname__ = stage.name
    run.__doc__ = f"{stage.label} (queue {stage.queue})."
    # A database outage must not drop the chain: the stage is tried again, backing off to once a minute,
    # until the database is back (crash test: scripts/bench_crash.py --scenario db-restart).
    return celery_app.task(
        name=task_name(stage),
        autoretry_for=DATABASE_UNAVAILABLE,
        retry_backoff=2,
        retry_backoff_max=60,
        max_retries=None,
    )(run)


STAGE_TASKS: dict[str, Any] = {stage.name: _stage_task(stage) for stage in STAGES}


@celery_app.task(
    name=RENDER_REVISION, autoretry_for=DATABASE_UNAVAILABLE, retry_backoff=2, retry_backoff_max=60, max_retries=None
)
def render_revision(revision_id: str) -> bool:
    """Render an edited sheet: the notation stage again, on the editor's hits (queue of the notation stage)."""
    return revision_rendering.render_revision(revision_id, storage=_storage())


def enqueue_revision(revision_id: str) -> str:
    """Send the render task of a revision; returns its id."""
    return str(render_revision.apply_async((revision_id,)).id)


@celery_app.task(name="app.worker.cleanup_old_artifacts")
def cleanup_old_artifacts() -> int:
    """Hourly (beat): delete artifacts older than ARTIFACT_TTL_HOURS."""
    return maintenance.cleanup_old_artifacts(settings=settings, storage=_storage())


@celery_app.task(name="app.worker.reap_stalled_jobs")
def reap_stalled_jobs() -> int:
    """Every minute (beat): fail the jobs and revisions that no worker holds any more, send jobs never sent."""
    return (
        maintenance.reap_stalled_jobs(settings=settings)
        + maintenance.reap_stalled_revisions(settings=settings)
        + maintenance.resend_unsent_jobs(enqueue=enqueue_pipeline)
    )


def pipeline_chain(job_id: str) -> Any:
    """The chain of the stages' tasks for `job_id`, in the stage table's order."""
    return chain(*(STAGE_TASKS[stage.name].si(job_id) for stage in STAGES))


def enqueue_pipeline(job_id: str) -> str:
    """Send the job's chain of tasks; returns the id of its last task."""
    return str(pipeline_chain(job_id).apply_async().id)


def preload_models() -> None:
    """Fetch the drum-hit model into MODEL_CACHE_DIR before the first job (worker_init, in the parent).

    Only files are fetched here: TensorFlow and PyTorch are not fork-safe once running, so each pool
    process loads the models into memory itself (worker_process_init).
    """
    from app.pipeline.models.resolver import get_model_resolver

    try:
        get_model_resolver(settings).get_model_path()
    except Exception as exc:
        # The worker stays up: jobs fail with the same clear error, and the health check stays green.
        log.error("model_preload_failed", error=str(exc))


def load_models() -> None:
    """Load the separator and the drum-hit model into this process."""
    from app.pipeline.prediction.factory import load_predictor
    from app.pipeline.separation import preload_separator

    try:
        preload_separator(settings)
        load_predictor(settings)
    except Exception as exc:
        log.error("model_preload_failed", error=str(exc))


def _consumes_heavy_queue(worker: object) -> bool:
    app = getattr(worker, "app", None)
    return app is not None and HEAVY_QUEUE in app.amqp.queues.consume_from


_heavy_worker = False


@signals.setup_logging.connect
def _setup_logging(**_kwargs: object) -> None:
    configure_logging(settings.LOG_LEVEL, json=settings.LOG_JSON)


@signals.worker_init.connect
def _on_worker_init(sender: object = None, **_kwargs: object) -> None:
    global _heavy_worker
    _heavy_worker = _consumes_heavy_queue(sender)
    if _heavy_worker:
        preload_models()


@signals.worker_process_init.connect
def _on_worker_process_init(**_kwargs: object) -> None:
    instrument_celery_process(settings)
    if _heavy_worker:
        load_models()
