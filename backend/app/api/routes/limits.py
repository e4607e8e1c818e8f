"""/api/v1/limits: what this deployment accepts, so clients can check a song before uploading it."""

from __future__ import annotations

from fastapi import APIRouter

from app.core.config import get_settings
from app.jobs.revisions import MAX_REVISIONS_PER_JOB
from app.schemas import MAX_REVISION_HITS, Limits

router = APIRouter(prefix="/api/v1", tags=["limits"])


@router.get("/limits", response_model=Limits)
def limits() -> Limits:
    """The operator's limits (MAX_UPLOAD_MB, MAX_DURATION_SECONDS, MAX_CONCURRENT_JOBS_PER_USER,
    ARTIFACT_TTL_HOURS) and the editor's."""
    settings = get_settings()
    return Limits(
        max_upload_mb=settings.MAX_UPLOAD_MB,
        max_duration_seconds=settings.MAX_DURATION_SECONDS,
        max_concurrent_jobs_per_user=settings.MAX_CONCURRENT_JOBS_PER_USER,
        artifact_ttl_hours=settings.ARTIFACT_TTL_HOURS,
        max_revisions_per_job=MAX_REVISIONS_PER_JOB,
        max_revision_hits=MAX_REVISION_HITS,
    )
