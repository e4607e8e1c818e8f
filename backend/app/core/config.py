"""The one place where DrumScribe reads its environment.

Every variable of the operations manual is a field here, with the manual's name and default, except
the two storage folders: the manual's `/data/...` defaults suit the containers (the compose file sets
them), while a musician running `drumscribe` on a laptop gets folders under the user's data directory.
"""

from __future__ import annotations

import ipaddress
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

BUNDLED_MODEL_DIR = Path(__file__).resolve().parents[1] / "pipeline" / "models" / "bundled"

BUNDLED_MODEL_PATH = BUNDLED_MODEL_DIR / "drumscribe_frame.onnx"
"""DrumScribe's own frame-level model, shipped in the package (backend/MODEL_CARD.md): the default, no download.
Run by onnxruntime, so no process imports TensorFlow for it."""

BUNDLED_KERAS_MODEL_PATH = BUNDLED_MODEL_DIR / "drumscribe_frame.h5"
"""The same model in Keras' format, as training saves it; MODEL_URI may name it to run it with TensorFlow."""


REDELIVERY_MARGIN_SECONDS = 120
"""Time a re-delivered task may wait for a free worker before the reaper may count its job as stalled."""


def _user_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "drumscribe"


class Settings(BaseSettings):
    """Runtime configuration, read from environment variables (case-sensitive names)."""

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore")

    # Drum-hit model (ModelResolver)
    # The bundled model by default; MODEL_URI naming the AnNOTEator CNN's .h5 selects the manual's CNN.
    MODEL_URI: str = BUNDLED_MODEL_PATH.as_uri()
    MODEL_VERSION: str = "v1.0.0"
    MODEL_CACHE_DIR: Path = Field(default_factory=lambda: _user_data_dir() / "models")
    MODEL_KIND: Literal["auto", "annoteator-cnn", "drumscribe-frame"] = "auto"
    MODEL_DOWNLOAD_TIMEOUT_SECONDS: float = 120.0
    # Threads onnxruntime gives the drum-hit model (an ONNX MODEL_URI, as the bundled model is); 0 means
    # one per physical core. Set it to the worker's CPU share when other processes share the machine.
    MODEL_THREADS: int = Field(default=0, ge=0)

    # Separation. auto: Demucs where its weights are in the weights folder or can be downloaded now,
    # otherwise the drum-hit model hears the mix as it is (app/pipeline/separation/auto.py).
    SEPARATOR: Literal["auto", "demucs", "hpss", "none"] = "auto"
    DEMUCS_MODEL: str = "htdemucs"
    # A folder of pre-seeded Demucs weights in demucs' own local-repo layout; empty means
    # MODEL_CACHE_DIR/demucs.
    DEMUCS_REPO: Path | None = None
    DEMUCS_CHUNK_SECONDS: float = 30.0
    DEMUCS_THREADS: int = 0

    # Notation: the beat grid the sheet is written on. "learned" is the bundled beat model (onnxruntime)
    # with the bar-pointer decoder and the bars counted with the hits (app/pipeline/beats, MODEL_CARD.md);
    # "classic" is rhythm.py's own hand-tuned tracker, from the hits alone (4/4 and 3/4 only).
    BEAT_TRACKER: Literal["classic", "learned"] = "learned"
    # Paper of the PDF sheet: A4 (595 × 842 pt) or US Letter (612 × 792 pt).
    SHEET_PAGE_SIZE: Literal["a4", "letter"] = "a4"
    # A bar that repeats the bar before it note for note is printed as a one-bar repeat sign ("%").
    SHEET_SIMILE: bool = False

    # Input limits
    MAX_DURATION_SECONDS: int = 900
    MAX_UPLOAD_MB: int = 100

    # Artifacts
    ARTIFACTS_DIR: Path = Field(default_factory=lambda: _user_data_dir() / "artifacts")
    STORAGE_BACKEND: Literal["local", "s3"] = "local"
    S3_BUCKET: str = "drumscribe-artifacts"
    S3_PREFIX: str = "jobs/"
    ARTIFACT_TTL_HOURS: int = 24

    # State and broker. The defaults are the embedded mode of `drumscribe serve` (SQLite files and
    # kombu's SQLAlchemy transport); the compose stack points them at PostgreSQL and Redis.
    DATABASE_URL: str = Field(default_factory=lambda: f"sqlite:///{_user_data_dir() / 'drumscribe.sqlite'}")
    CELERY_BROKER_URL: str = Field(default_factory=lambda: f"sqla+sqlite:///{_user_data_dir() / 'broker.sqlite'}")
    CELERY_RESULT_BACKEND: str = Field(
        default_factory=lambda: f"db+sqlite:///{_user_data_dir() / 'celery-results.sqlite'}"
    )
    # Seconds before Redis hands an unacknowledged task to another worker: the re-run of a task whose
    # worker died. Longer than any one stage (Demucs on a 15-minute song takes about 11 minutes on 2 cores).
    BROKER_VISIBILITY_TIMEOUT: int = 1800
    # A job whose stage has not reported for this long is marked failed. Longer than the visibility
    # timeout, so the broker re-runs a crashed job before the reaper gives up on it.
    JOB_STALL_MINUTES: int = 40
    # `drumscribe serve`: seconds a running stage gets to finish on Ctrl-C or SIGTERM before its worker is
    # killed (the compose file's stop_grace_period).
    SERVE_STOP_GRACE_SECONDS: float = 300.0

    # Links: networks whose addresses a pasted link may reach although they are private or local
    # (comma-separated CIDRs, e.g. "10.20.0.0/16,fd00::/8"); empty: public addresses only.
    LINK_ALLOWED_NETWORKS: str = ""

    # API
    MAX_CONCURRENT_JOBS_PER_USER: int = 3
    # Unfinished jobs of all tokens from one client address (an IPv6 client's whole /64), so that a
    # client dropping its cookie does not get a fresh quota each time; 0 turns the check off.
    MAX_CONCURRENT_JOBS_PER_ADDRESS: int = Field(default=10, ge=0)
    API_HOST: str = "127.0.0.1"
    API_PORT: int = 8000
    # The static export of the web UI, served on the API's port when it exists.
    FRONTEND_DIR: Path | None = None
    COOKIE_SECURE: bool = False

    # Operations
    LOG_LEVEL: str = "INFO"
    LOG_JSON: bool = True
    OTEL_EXPORTER_OTLP_ENDPOINT: str | None = None
    OTEL_SERVICE_NAME: str = "drumscribe"

    @field_validator("MODEL_URI", mode="after")
    @classmethod
    def _bundled_when_empty(cls, value: str) -> str:
        # The compose file passes MODEL_URI through as an empty string when the operator sets none.
        return value.strip() or BUNDLED_MODEL_PATH.as_uri()

    @model_validator(mode="after")
    def _reaper_waits_for_redelivery(self) -> Settings:
        needed = self.BROKER_VISIBILITY_TIMEOUT + REDELIVERY_MARGIN_SECONDS
        if needed > self.JOB_STALL_MINUTES * 60:
            raise ValueError(
                f"JOB_STALL_MINUTES={self.JOB_STALL_MINUTES} must be at least {-(-needed // 60)}: the reaper "
                f"would fail a crashed job before the broker re-runs it (BROKER_VISIBILITY_TIMEOUT="
                f"{self.BROKER_VISIBILITY_TIMEOUT} s plus {REDELIVERY_MARGIN_SECONDS} s for a worker to take "
                "it up); raise JOB_STALL_MINUTES or lower BROKER_VISIBILITY_TIMEOUT"
            )
        return self

    @field_validator("LINK_ALLOWED_NETWORKS", mode="after")
    @classmethod
    def _networks_parse(cls, value: str) -> str:
        _parse_networks(value)
        return value

    @property
    def link_allowed_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """LINK_ALLOWED_NETWORKS as networks."""
        return _parse_networks(self.LINK_ALLOWED_NETWORKS)

    @property
    def embedded(self) -> bool:
        """True when state and broker are local SQLite files (the single-machine mode)."""
        return self.DATABASE_URL.startswith("sqlite") and self.CELERY_BROKER_URL.startswith("sqla+sqlite")

    @property
    def demucs_repo(self) -> Path:
        """Folder holding pre-seeded Demucs weights."""
        return self.DEMUCS_REPO or self.MODEL_CACHE_DIR / "demucs"


def _parse_networks(text: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ValueError(
                f"LINK_ALLOWED_NETWORKS: {item!r} is not a network; write CIDRs separated by commas, "
                "e.g. 10.20.0.0/16,fd00::/8"
            ) from exc
    return tuple(networks)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
