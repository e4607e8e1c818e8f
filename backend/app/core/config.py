"""The one place where DrumScribe reads its environment.

Every variable of the operations manual is a field here, with the manual's name and default, except
the two storage folders: the manual's `/data/...` defaults suit the containers (the compose file sets
them), while a musician running `drumscribe` on a laptop gets folders under the user's data directory.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ANNOTEATOR_PUBLIC_URI = (
    "https://github.com/cb-42/AnNOTEator/raw/main/inference/pretrained_models/annoteators/complete_network.h5"
)


def _user_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "drumscribe"


class Settings(BaseSettings):
    """Runtime configuration, read from environment variables (case-sensitive names)."""

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore")

    # Drum-hit model (ModelResolver)
    MODEL_URI: str = ANNOTEATOR_PUBLIC_URI
    MODEL_VERSION: str = "v1.0.0"
    MODEL_CACHE_DIR: Path = Field(default_factory=lambda: _user_data_dir() / "models")
    MODEL_KIND: Literal["auto", "annoteator-cnn"] = "auto"
    MODEL_DOWNLOAD_TIMEOUT_SECONDS: float = 120.0

    # Separation
    SEPARATOR: Literal["demucs", "hpss", "none"] = "demucs"
    DEMUCS_MODEL: str = "htdemucs"
    # A folder of pre-seeded Demucs weights in demucs' own local-repo layout; empty means
    # MODEL_CACHE_DIR/demucs.
    DEMUCS_REPO: Path | None = None
    DEMUCS_CHUNK_SECONDS: float = 30.0
    DEMUCS_THREADS: int = 0

    # Input limits
    MAX_DURATION_SECONDS: int = 900
    MAX_UPLOAD_MB: int = 100

    # Artifacts and service
    ARTIFACTS_DIR: Path = Field(default_factory=lambda: _user_data_dir() / "artifacts")
    STORAGE_BACKEND: Literal["local", "s3"] = "local"
    ARTIFACT_TTL_HOURS: int = 24
    MAX_CONCURRENT_JOBS_PER_USER: int = 3
    LOG_LEVEL: str = "INFO"
    OTEL_EXPORTER_OTLP_ENDPOINT: str | None = None

    @property
    def demucs_repo(self) -> Path:
        """Folder holding pre-seeded Demucs weights."""
        return self.DEMUCS_REPO or self.MODEL_CACHE_DIR / "demucs"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
