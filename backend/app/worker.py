"""The Celery application: the four stage tasks, routed to two queues, and beat's housekeeping.

celery -A app.worker worker -Q default -n default@%h --concurrency=4
celery -A app.worker worker -Q heavy-compute -n heavy@%h --concurrency=1 --max-memory-per-child=2048000
celery -A app.worker beat
"""

from __future__ import annotations

import os
import socket
from functools import lru_cache

from celery import Celery, chain, signals
from celery.exceptions import Ignore
from celery.schedules import crontab

from app.broker.sql_transport import use_for_sqla_urls
from app.core.config import get_settings
from app.core.logging import configure_logging, get_logger
from app.jobs import maintenance
from app.jobs.execution import run_stage
from app.observability.tracing import instrument_celery_process
from app.storage import Storage, get_storage

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
settings = get_settings()
log = get_logger(__name__)

DEFAULT_QUEUE = "default"
HEAVY_QUEUE = "heavy-compute"
PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0.0, "interval_step": 0.5, "interval_max": 1.0}

# The embedded broker (sqla+ URLs) deletes acknowledged messages; see app.broker.sql_transport.
use_for_sqla_urls()
celery_app = Celery("drumscribe", broker=settings.CELERY_BROKER_URL, backend=settings.CELERY_RESULT_BACKEND)
celery_app.conf.update(
    task_routes={
        "app.worker.ingest_audio": {"queue": DEFAULT_QUEUE},
        "app.worker.separate_drums": {"queue": HEAVY_QUEUE},
        "app.worker.predict_hits": {"queue": HEAVY_QUEUE},
        "app.worker.transcribe_and_export": {"queue": DEFAULT_QUEUE},
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
    # A heavy pool process loads TensorFlow and the models before it reports ready (worker_process_init);
    # Celery's 4 s default would kill it mid-load, again and again, on a busy machine.
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


def _stage_task(stage: str, job_id: str) -> str:
    if not run_stage(stage, job_id, settings=settings, storage=_storage(), worker=_worker_name()):
        raise Ignore()  # the job failed, finished or was deleted: the rest of the chain must not run
    return job_id


@celery_app.task(name="app.worker.ingest_audio")
def ingest_audio(job_id: str) -> str:
    """Stage 1 (queue default): decode the upload or download the link."""
    return _stage_task("ingest_audio", job_id)


@celery_app.task(name="app.worker.separate_drums")
def separate_drums(job_id: str) -> str:
    """Stage 2 (queue heavy-compute): isolate the drums."""
    return _stage_task("separate_drums", job_id)


@celery_app.task(name="app.worker.predict_hits")
def predict_hits(job_id: str) -> str:
    """Stage 3 (queue heavy-compute): find the drum hits."""
    return _stage_task("predict_hits", job_id)


@celery_app.task(name="app.worker.transcribe_and_export")
def transcribe_and_export(job_id: str) -> str:
    """Stage 4 (queue default): write the sheet, the MIDI and hits.json."""
    return _stage_task("transcribe_and_export", job_id)


@celery_app.task(name="app.worker.cleanup_old_artifacts")
def cleanup_old_artifacts() -> int:
    """Hourly (beat): delete artifacts older than ARTIFACT_TTL_HOURS."""
    return maintenance.cleanup_old_artifacts(settings=settings, storage=_storage())


@celery_app.task(name="app.worker.reap_stalled_jobs")
def reap_stalled_jobs() -> int:
    """Every minute (beat): fail the jobs that no worker holds any more, send those never sent."""
    return maintenance.reap_stalled_jobs(settings=settings) + maintenance.resend_unsent_jobs(enqueue=enqueue_pipeline)


def enqueue_pipeline(job_id: str) -> str:
    """Send the chain ingest_audio → separate_drums → predict_hits → transcribe_and_export; returns its last id."""
    result = chain(
        ingest_audio.si(job_id), separate_drums.si(job_id), predict_hits.si(job_id), transcribe_and_export.si(job_id)
    ).apply_async()
    return str(result.id)


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
        if settings.SEPARATOR == "demucs":
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
