"""The manual's Prometheus metrics, true for the whole system.

Workers run in other processes (and other containers), so they do not keep metrics in memory: they add
to counters in the database, and the API's /metrics reads those counters when it is scraped. The
active-jobs gauge counts the jobs in a running state in the jobs table.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from app.models import RUNNING_STATUSES, Job, MetricCounter
from app.pipeline.stage_table import FAILURE_LABELS

LATENCY_BUCKETS: tuple[float, ...] = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, math.inf)
"""Seconds; a stage of a 15-minute song on a slow CPU may take tens of minutes."""

JOBS_TOTAL = "drumscribe_jobs_total"
JOBS_FAILED_TOTAL = "drumscribe_jobs_failed_total"
ACTIVE_JOBS = "drumscribe_active_jobs"
LATENCY = "drumscribe_inference_latency_seconds"
AUDIO_SECONDS = "drumscribe_audio_duration_processed_seconds"


def increment(session: Session, name: str, labels: str = "", amount: float = 1.0) -> None:
    """Add `amount` to a counter row, creating it if needed, in the caller's transaction."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(MetricCounter).values(name=name, labels=labels, value=amount)
    statement = statement.on_conflict_do_update(
        index_elements=["name", "labels"], set_={"value": MetricCounter.value + amount}
    )
    session.execute(statement)


def record_job_finished(session: Session, status: str) -> None:
    """A job reached completed or failed."""
    increment(session, JOBS_TOTAL, f"status={status}")


def record_stage_failure(session: Session, stage: str) -> None:
    """A job failed in the stage whose failure label is `stage` (ingest, separation, …)."""
    increment(session, JOBS_FAILED_TOTAL, f"stage={stage}")


def observe_stage_latency(session: Session, stage: str, seconds: float) -> None:
    """One observation of a stage's duration, stored as cumulative histogram buckets."""
    for bound in LATENCY_BUCKETS:
        if seconds <= bound:
            increment(session, LATENCY, f"stage={stage},le={_le(bound)}")
    increment(session, LATENCY, f"stage={stage},sum", seconds)


def record_audio_processed(session: Session, seconds: float) -> None:
    """Seconds of audio that went through the whole pipeline."""
    increment(session, AUDIO_SECONDS, "", seconds)


class SystemMetricsCollector(Collector):
    """Reads the shared counters at scrape time."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def collect(self) -> Iterator[Metric]:
        """Yield the five metric families of the operations manual."""
        with self.sessions() as session:
            rows = session.execute(select(MetricCounter.name, MetricCounter.labels, MetricCounter.value)).all()
            active = session.scalar(
                select(func.count())
                .select_from(Job)
                .where(Job.status.in_([s.value for s in RUNNING_STATUSES]), Job.cancelled.is_(False))
            )
        counters = {(name, labels): value for name, labels, value in rows}

        jobs = CounterMetricFamily(JOBS_TOTAL, "Jobs by final status", labels=["status"])
        for status in ("completed", "failed"):
            jobs.add_metric([status], counters.get((JOBS_TOTAL, f"status={status}"), 0.0))
        yield jobs

        failed = CounterMetricFamily(JOBS_FAILED_TOTAL, "Job failures by pipeline stage", labels=["stage"])
        for stage in FAILURE_LABELS:
            failed.add_metric([stage], counters.get((JOBS_FAILED_TOTAL, f"stage={stage}"), 0.0))
        yield failed

        yield GaugeMetricFamily(ACTIVE_JOBS, "Jobs a worker is processing now", value=float(active or 0))

        latency = HistogramMetricFamily(LATENCY, "Latency per pipeline stage", labels=["stage"])
        for stage in FAILURE_LABELS:
            buckets = [(_le(b), counters.get((LATENCY, f"stage={stage},le={_le(b)}"), 0.0)) for b in LATENCY_BUCKETS]
            latency.add_metric([stage], buckets, sum_value=counters.get((LATENCY, f"stage={stage},sum"), 0.0))
        yield latency

        yield CounterMetricFamily(
            AUDIO_SECONDS, "Total audio seconds processed", value=counters.get((AUDIO_SECONDS, ""), 0.0)
        )


def _le(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else repr(float(bound))
