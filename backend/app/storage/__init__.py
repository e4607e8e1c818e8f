"""Where job files live: ARTIFACTS_DIR/{job_id}/ on a shared volume, or an S3 bucket."""

from __future__ import annotations

from app.core.config import Settings
from app.storage.base import ArtifactNotFound, Storage
from app.storage.local import LocalStorage
from app.storage.s3 import S3Storage

__all__ = ["ArtifactNotFound", "LocalStorage", "S3Storage", "Storage", "get_storage"]


def get_storage(settings: Settings) -> Storage:
    """The backend STORAGE_BACKEND names."""
    if settings.STORAGE_BACKEND == "s3":
        return S3Storage(bucket=settings.S3_BUCKET, prefix=settings.S3_PREFIX)
    return LocalStorage(settings.ARTIFACTS_DIR)
