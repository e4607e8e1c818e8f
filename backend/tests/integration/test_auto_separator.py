"""SEPARATOR=auto through a worker's stages: Demucs when its weights are seeded, the mix as it is otherwise.

The job runs as a worker runs it (jobs.execution.run_stage on a real SQLite database and local storage),
so what is checked is what a musician gets: the job's row and hits.json say which separator ran and why.
Nothing here leaves the machine: the weights are a small local HTDemucs, and the one test that lets auto
look for a download server points it at servers on loopback.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from app.core import db
from app.core.config import Settings
from app.jobs.execution import run_stage
from app.models import Job, JobStatus
from app.pipeline import constants as c
from app.pipeline.separation import demucs_weights, preload_separator
from app.pipeline.separation.auto import PROBE_TIMEOUT_S, SeparatorChoice, choose_separator
from app.pipeline.stage_table import upload_name
from app.storage import LocalStorage
from app.synth.grooves import ROCK_BEAT, groove_from_pattern
from app.synth.kits import SynthKit, render_groove
from tests.integration.tiny_demucs import save_tiny_model

pytestmark = pytest.mark.integration

SONG = "drums only.wav"


@pytest.fixture(scope="module")
def tiny_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("demucs")
    save_tiny_model(repo, "tiny", "0a1b2c3d")
    return repo


@pytest.fixture(scope="module")
def song(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four seconds of a rock beat, drums only."""
    audio = render_groove(groove_from_pattern(ROCK_BEAT, bpm=120, bars=2), SynthKit())[: 4 * 44_100]
    path = tmp_path_factory.mktemp("song") / SONG
    sf.write(path, audio, 44_100, subtype="PCM_16")
    return path


def auto_settings(tmp_path: Path, sqlite_url: str, repo: Path) -> Settings:
    return Settings(
        SEPARATOR="auto",
        DEMUCS_MODEL="tiny",
        DEMUCS_REPO=repo,
        DEMUCS_CHUNK_SECONDS=2.5,
        DATABASE_URL=sqlite_url,
        ARTIFACTS_DIR=tmp_path / "artifacts",
        MODEL_CACHE_DIR=tmp_path / "models",
    )


def run_until_hits(settings: Settings, song: Path) -> tuple[Job, dict[str, object], LocalStorage, str]:
    """Upload `song` as a job and run its first three stages as the workers do."""
    storage = LocalStorage(settings.ARTIFACTS_DIR)
    with db.session_scope() as session:
        job = Job(owner="o", source_kind="upload", source=SONG, status=JobStatus.pending.value, timings={})
        session.add(job)
        session.flush()
        job_id = job.id
    storage.put_file(job_id, upload_name(SONG), song)
    for stage in ("ingest_audio", "separate_drums", "predict_hits"):
        assert run_stage(stage, job_id, settings=settings, storage=storage, worker="heavy@test"), stage
    with db.session_scope() as session:
        row = session.get(Job, job_id)
        assert row is not None
    hits = json.loads((storage.job_dir(job_id) / c.HITS_JSON).read_text())
    return row, hits, storage, job_id


def test_auto_separates_with_demucs_when_its_weights_are_seeded(
    tmp_path: Path, sqlite_url: str, tiny_repo: Path, song: Path
) -> None:
    row, hits, storage, job_id = run_until_hits(auto_settings(tmp_path, sqlite_url, tiny_repo), song)

    assert (row.status, row.separator, row.separator_reason) == ("predicting", "demucs", "demucs weights present")
    assert (hits["separator"], hits["separator_reason"]) == ("demucs", "demucs weights present")
    # The drums are the network's output, not the song passed through.
    folder = storage.job_dir(job_id)
    drums, mix = sf.read(folder / c.DRUMS_AUDIO)[0], sf.read(folder / c.INPUT_AUDIO)[0]
    assert np.abs(drums - mix).max() > 0.01


def test_offline_without_weights_auto_transcribes_the_mix_at_once(tmp_path: Path, sqlite_url: str, song: Path) -> None:
    # HF_HUB_OFFLINE=1 (tests/conftest.py): the switch of an air-gapped host.
    row, hits, storage, job_id = run_until_hits(auto_settings(tmp_path, sqlite_url, tmp_path / "no-weights"), song)

    assert (row.status, row.error_message) == ("predicting", None)
    assert (row.separator, row.separator_reason) == ("none", "demucs weights unavailable offline")
    assert (hits["separator"], hits["separator_reason"]) == ("none", "demucs weights unavailable offline")
    assert row.timings["separate_drums"] < 5
    folder = storage.job_dir(job_id)
    assert np.array_equal(sf.read(folder / c.DRUMS_AUDIO)[0], sf.read(folder / c.INPUT_AUDIO)[0])
    assert row.hit_count and row.hit_count > 0


def test_when_no_download_server_answers_auto_gives_up_quickly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE")
    silent = socket.create_server(("127.0.0.1", 0))  # accepts, never answers: a firewall dropping packets
    closed = socket.create_server(("127.0.0.1", 0))
    ports = [silent.getsockname()[1], closed.getsockname()[1]]
    closed.close()  # nobody listens there any more: connections are refused
    urls = [f"http://127.0.0.1:{port}/tiny.yaml" for port in ports]
    monkeypatch.setattr(demucs_weights, "download_urls", lambda name: urls)
    settings = Settings(SEPARATOR="auto", DEMUCS_MODEL="tiny", DEMUCS_REPO=tmp_path / "empty")
    started = time.monotonic()
    try:
        choice = choose_separator(settings)
    finally:
        silent.close()
    assert choice == SeparatorChoice("none", "demucs weights unavailable offline")
    assert time.monotonic() - started < PROBE_TIMEOUT_S + 1
    assert not (tmp_path / "empty").exists()  # nothing was downloaded


def test_weights_that_do_not_load_fall_back_to_the_mix(tmp_path: Path) -> None:
    repo = tmp_path / "broken"
    save_tiny_model(repo, "tiny", "0a1b2c3d")
    (repo / "0a1b2c3d.th").write_bytes(b"not a checkpoint")
    choice = choose_separator(Settings(SEPARATOR="auto", DEMUCS_MODEL="tiny", DEMUCS_REPO=repo))
    assert choice == SeparatorChoice("none", "demucs weights could not be loaded")


def test_worker_start_loads_demucs_for_auto_only_when_weights_are_there(
    tmp_path: Path, tiny_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demucs_weights, "_models", {})  # as in a fresh worker process
    seeded = Settings(SEPARATOR="auto", DEMUCS_MODEL="tiny", DEMUCS_REPO=tiny_repo)
    preload_separator(seeded)
    assert ("tiny", tiny_repo) in demucs_weights._models

    empty = tmp_path / "empty"
    preload_separator(Settings(SEPARATOR="auto", DEMUCS_MODEL="htdemucs", DEMUCS_REPO=empty))
    assert ("htdemucs", empty) not in demucs_weights._models
