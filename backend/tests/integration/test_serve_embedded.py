"""`drumscribe serve` on a machine with no PostgreSQL, Redis or Docker: SQLite and the embedded broker."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from app.synth.grooves import FUNK_SIXTEENTHS, ROCK_BEAT, groove_from_pattern
from app.synth.kits import SynthKit, default_sample_kit, render_groove
from tests.conftest import ANNOTEATOR_H5, write_wav
from tests.integration.stack import BACKEND, free_port, wait_for

pytestmark = pytest.mark.integration

HEAVY_STATUSES = ("separating_drums", "predicting")


def start_serve(tmp_path: Path, separator: str) -> tuple[subprocess.Popen[bytes], str]:
    """`drumscribe serve` with every file under tmp_path and its output in tmp_path/serve.log; and its URL."""
    if not ANNOTEATOR_H5.is_file():
        pytest.skip(f"the reference CNN is not at {ANNOTEATOR_H5}")
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "ARTIFACTS_DIR", "MODEL_CACHE_DIR")
    }
    env.update(XDG_DATA_HOME=str(tmp_path / "data"), SEPARATOR=separator, MODEL_URI=ANNOTEATOR_H5.as_uri())
    log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        cwd=BACKEND, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    return serve, f"http://127.0.0.1:{port}"


def test_serve_runs_the_whole_pipeline_on_sqlite(tmp_path: Path) -> None:
    serve, base = start_serve(tmp_path, "none")
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
            _edit_and_share(http, base, job_id)
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


def _edit_and_share(http: httpx.Client, base: str, job_id: str) -> None:
    """An edited sheet goes through the embedded broker to the default worker; a share link opens it."""
    hits = http.get(f"/api/v1/jobs/{job_id}/artifacts/hits.json").json()["hits"]
    hits[0]["accent"] = True
    number = http.post(f"/api/v1/jobs/{job_id}/revisions", json={"hits": hits}).json()["number"]
    wait_for(
        lambda: http.get(f"/api/v1/jobs/{job_id}/revisions/{number}").json()["status"] in ("completed", "failed"),
        60,
        "the revision to be rendered",
    )
    assert http.get(f"/api/v1/jobs/{job_id}/revisions/{number}").json()["status"] == "completed"
    assert http.post(f"/api/v1/jobs/{job_id}/revisions/{number}/restore").status_code == 200
    token = http.post(f"/api/v1/jobs/{job_id}/shares").json()["token"]
    with httpx.Client(base_url=base, timeout=30) as browser:
        sheet = browser.get(f"/api/v1/shared/{token}/artifacts/sheet_music.musicxml")
    assert sheet.status_code == 200 and b"<accent" in sheet.content


def _health(base: str) -> int:
    try:
        return httpx.get(f"{base}/api/v1/health", timeout=5).status_code
    except httpx.HTTPError:
        return 0


def test_a_killed_heavy_worker_is_restarted_and_its_job_re_run(tmp_path: Path) -> None:
    serve, base = start_serve(tmp_path, "hpss")
    song = write_wav(
        tmp_path / "Long Funk.wav", render_groove(groove_from_pattern(FUNK_SIXTEENTHS, bpm=100, bars=16), SynthKit())
    )
    serve_log = tmp_path / "serve.log"
    try:
        wait_for(lambda: _health(base) == 200, 90, "drumscribe serve to answer")
        heavy = _heavy_worker(serve.pid)
        assert heavy is not None, "serve runs a worker for the heavy queue"
        with httpx.Client(base_url=base, timeout=30) as http, song.open("rb") as f:
            job_id = http.post("/api/v1/jobs", files={"file": (song.name, f, "audio/wav")}).json()["id"]
            wait_for(
                lambda: http.get(f"/api/v1/jobs/{job_id}").json()["status"] in HEAVY_STATUSES, 120, "a heavy stage"
            )
            pool = _children(heavy)
            assert pool, "the heavy worker runs its task in a pool process"
            killed_at = len(serve_log.read_bytes())
            os.kill(heavy, signal.SIGKILL)
            wait_for(lambda: not any(_alive(pid) for pid in pool), 10, "the dead worker's pool process to go")
            wait_for(lambda: _heavy_worker(serve.pid) not in (None, heavy), 30, "a new heavy worker")
            assert serve.poll() is None and _health(base) == 200, "the API stays up"
            wait_for(
                lambda: http.get(f"/api/v1/jobs/{job_id}").json()["status"] in ("completed", "failed"),
                150,
                "the job to finish",
            )
            job = http.get(f"/api/v1/jobs/{job_id}").json()
            after_kill = serve_log.read_bytes()[killed_at:].decode(errors="replace")
            assert job["status"] == "completed", (job, after_kill[-3000:])
        reruns = [
            line for line in after_kill.splitlines()
            if '"stage_start"' in line and job_id in line and ("separate_drums" in line or "predict_hits" in line)
        ]  # fmt: skip
        assert reruns, "the killed heavy stage ran again"
        broker = tmp_path / "data" / "drumscribe" / "broker.sqlite"
        wait_for(lambda: _messages(broker) == 0, 20, "the broker's table to empty")
    finally:
        serve.send_signal(signal.SIGTERM)
        code = serve.wait(timeout=60)
    assert code == 0


def _heavy_worker(serve_pid: int) -> int | None:
    for pid in _children(serve_pid):
        try:
            if b"heavy-compute" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return pid
        except FileNotFoundError:
            continue
    return None


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(child) for child in out.stdout.split()]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def _messages(broker: Path) -> int:
    with sqlite3.connect(broker) as db:
        return int(db.execute("SELECT count(*) FROM kombu_message").fetchone()[0])
