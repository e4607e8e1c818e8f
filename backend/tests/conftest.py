"""Fixtures shared by the unit and integration tests."""

from __future__ import annotations

import os
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from httpx import Headers

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# SEPARATOR=auto, the default, would ask the internet for Demucs weights: no test may, so every test and
# every process it starts is offline unless it says otherwise (and then talks to loopback servers only).
os.environ["HF_HUB_OFFLINE"] = "1"

from app.core import config, db
from app.core.config import Settings
from app.db_migrate import upgrade
from app.pipeline.constants import SAMPLE_RATE
from app.synth.grooves import ROCK_BEAT, groove_from_pattern
from app.synth.kits import SynthKit, render_groove

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = REPO_ROOT.parent / "shared"
ANNOTEATOR_H5 = SHARED / "models" / "annoteator" / "complete_network.h5"
MDB_DEV = SHARED / "data" / "mdb-dev"


@pytest.fixture
def annoteator_uri() -> str:
    """file:// URI of the manual's CNN in ../shared; the test skips where it is absent."""
    if not ANNOTEATOR_H5.is_file():
        pytest.skip(f"the reference CNN is not at {ANNOTEATOR_H5} (../shared/models/annoteator)")
    return ANNOTEATOR_H5.as_uri()


@pytest.fixture
def sqlite_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated SQLite database in tmp_path, with artifacts beside it, set in the environment for this test.

    The settings and the engine are cached per process: both caches are cleared on the way in and out.
    """
    url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    config.get_settings.cache_clear()
    db.get_engine.cache_clear()
    upgrade(url)
    yield url
    db.get_engine.cache_clear()
    config.get_settings.cache_clear()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with every folder inside the test's tmp_path and no separation."""
    return Settings(
        MODEL_CACHE_DIR=tmp_path / "models",
        ARTIFACTS_DIR=tmp_path / "artifacts",
        SEPARATOR="none",
    )


def write_wav(path: Path, audio: np.ndarray, sr: int = SAMPLE_RATE) -> Path:
    """Write float audio as a 16-bit WAV."""
    sf.write(path, audio, sr, subtype="PCM_16")
    return path


def ffmpeg_convert(src: Path, dest: Path, *extra: str) -> Path:
    """Encode `src` into `dest`'s format with ffmpeg."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(src), *extra, str(dest)], check=True)
    return dest


def understated_wav(path: Path, *, seconds_declared: float) -> Path:
    """A WAV of three bars of drums (7 s) whose header declares only `seconds_declared` of audio, as a
    recorder leaves it when it never went back to write the final sizes."""
    audio = render_groove(groove_from_pattern(ROCK_BEAT, bpm=120, bars=3), SynthKit())
    data = bytearray(write_wav(path, audio).read_bytes())
    declared = int(seconds_declared * 44_100) * 2  # 16-bit mono
    at = data.index(b"data")
    data[at + 4 : at + 8] = struct.pack("<I", declared)
    data[4:8] = struct.pack("<I", at + 8 + declared - 8)
    path.write_bytes(bytes(data))
    return path


BOOT_SCRIPT = "self.__boot=(self.__boot||[]).concat([0])"
PAGE_SCRIPT = 'self.__page="history"'


def fake_build(folder: Path) -> Path:
    """A static export in miniature: pages with an external and an inline script each."""
    (folder / "history").mkdir(parents=True)
    (folder / "index.html").write_text(
        f'<!DOCTYPE html><html><head><script src="/app.js" async=""></script><script>{BOOT_SCRIPT}</script>'
        "</head><body><h1>Home</h1></body></html>"
    )
    (folder / "history" / "index.html").write_text(
        f"<!DOCTYPE html><html><head><script>{BOOT_SCRIPT}</script><script>{PAGE_SCRIPT}</script></head></html>"
    )
    (folder / "404.html").write_text("<!DOCTYPE html><html><body>Page not found</body></html>")
    (folder / "app.js").write_text("console.log('app')\n")
    return folder


def assert_common_headers(headers: Headers) -> None:
    """The headers every response of the API and of the UI carries (app/api/security_headers.py)."""
    assert headers.get("x-content-type-options") == "nosniff"
    assert headers.get("x-frame-options") == "DENY"
    assert headers.get("referrer-policy") == "no-referrer"
