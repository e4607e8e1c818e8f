"""`drumscribe serve` on a machine with no PostgreSQL, Redis or Docker: SQLite and the embedded broker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from app.synth.grooves import ROCK_BEAT, groove_from_pattern
from app.synth.kits import default_sample_kit, render_groove
from tests.conftest import ANNOTEATOR_H5, write_wav
from tests.integration.stack import BACKEND, free_port, wait_for

pytestmark = pytest.mark.integration


def test_serve_runs_the_whole_pipeline_on_sqlite(tmp_path: Path) -> None:
    if not ANNOTEATOR_H5.is_file():
        pytest.skip(f"the reference CNN is not at {ANNOTEATOR_H5}")
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "ARTIFACTS_DIR", "MODEL_CACHE_DIR")
    }
    env.update(XDG_DATA_HOME=str(tmp_path / "data"), SEPARATOR="none", MODEL_URI=ANNOTEATOR_H5.as_uri())
    log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        cwd=BACKEND, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    song = write_wav(
        tmp_path / "Embedded Groove.wav",
        render_groove(groove_from_pattern(ROCK_BEAT, bpm=120, bars=2, start_s=0.5), default_sample_kit()),
    )
    try:
        wait_for(lambda: _health(base) == 200, 90, "drumscribe serve to answer")
        with httpx.Client(base_url=base, timeout=30) as http, song.open("rb") as f:
            job_id = http.post("/api/v1/jobs", files={"file": (song.name, f, "audio/wav")}).json()["id"]
            wait_for(
                lambda: http.get(f"/api/v1/jobs/{job_id}").json()["status"] in ("completed", "failed"),
                240,
                "the job to finish",
            )
            job = http.get(f"/api/v1/jobs/{job_id}").json()
            assert job["status"] == "completed", (job, (tmp_path / "serve.log").read_text()[-3000:])
            pdf = http.get(f"/api/v1/jobs/{job_id}/artifacts/sheet_music.pdf")
            assert pdf.content.startswith(b"%PDF")
        assert (tmp_path / "data" / "drumscribe" / "drumscribe.sqlite").is_file()
        assert (tmp_path / "data" / "drumscribe" / "artifacts" / job_id / "drums.mid").is_file()
    finally:
        children = subprocess.run(["pgrep", "-P", str(serve.pid)], capture_output=True, text=True, check=False)
        serve.send_signal(signal.SIGTERM)
        code = serve.wait(timeout=60)
    assert code == 0
    assert len(children.stdout.split()) == 4, "api, worker-default, worker-heavy and celery-beat"
    alive = [pid for pid in children.stdout.split() if Path(f"/proc/{pid}").exists()]
    assert not alive, "serve stops every process it started"


def _health(base: str) -> int:
    try:
        return httpx.get(f"{base}/api/v1/health", timeout=5).status_code
    except httpx.HTTPError:
        return 0
