"""/metrics: the manual's Prometheus metrics, for the whole system."""

from __future__ import annotations

from functools import lru_cache

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from app.core.db import get_sessionmaker
from app.observability.metrics import SystemMetricsCollector

router = APIRouter(tags=["metrics"])


@lru_cache(maxsize=1)
def _registry() -> CollectorRegistry:
    # A registry of our own: exactly the manual's metric names, no process or Python collectors.
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SystemMetricsCollector(get_sessionmaker()))
    return registry


@router.get("/metrics", include_in_schema=False)
def metrics() -> Response:
    """Prometheus text exposition."""
    return Response(generate_latest(_registry()), media_type=CONTENT_TYPE_LATEST)
