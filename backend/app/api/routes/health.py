"""/api/v1/health: is the API able to serve (database and broker reachable)?"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.core.db import get_engine
from app.schemas import Health

router = APIRouter(prefix="/api/v1", tags=["health"])


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
def health() -> JSONResponse:
    """200 when the database and the broker answer, 503 naming the one that does not."""
    database = _check_database()
    broker = _check_broker()
    ok = database == "ok" and broker == "ok"
    body = Health(status="ok" if ok else "unavailable", database=database, broker=broker)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


def _check_database() -> str:
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        return f"error: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    return "ok"


def _check_broker() -> str:
    from app.worker import celery_app

    try:
        with celery_app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, timeout=3)
    except Exception as exc:
        return f"error: {type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
    return "ok"
