"""The service end to end: real PostgreSQL, real Redis, real uvicorn and `celery worker` on both queues."""

from __future__ import annotations

import http.server
import json
import os
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import httpx
import numpy as np
import pytest

from app.core.errors import NotAudioError, UnreachableURLError, upload_too_large
from app.synth.grooves import FUNK_SIXTEENTHS, ROCK_BEAT, groove_from_pattern
from app.synth.kits import SynthKit, default_sample_kit, render_groove
from tests.conftest import ANNOTEATOR_H5, ffmpeg_convert, write_wav
from tests.integration.stack import Stack, stack_on_fresh_state, wait_for

pytestmark = pytest.mark.integration

MAX_UPLOAD_MB = 2
STAGE_TASKS = ("ingest_audio", "separate_drums", "predict_hits", "transcribe_and_export")


class _Collector(http.server.BaseHTTPRequestHandler):
    """A minimal OTLP/HTTP trace receiver: decodes the protobuf export requests and keeps the spans."""

    spans: ClassVar[list[dict[str, str]]] = []

    def do_POST(self) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        request = ExportTraceServiceRequest()
        request.ParseFromString(self.rfile.read(int(self.headers["Content-Length"])))
        for resource_spans in request.resource_spans:
            service = next(a.value.string_value for a in resource_spans.resource.attributes if a.key == "service.name")
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    self.spans.append({"service": service, "name": span.name, "trace": span.trace_id.hex()})
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def collector() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, collector: str) -> Iterator[Stack]:
    if not ANNOTEATOR_H5.is_file():
        pytest.skip(f"the reference CNN is not at {ANNOTEATOR_H5}")
    settings = {
        "MODEL_URI": ANNOTEATOR_H5.as_uri(),
        "SEPARATOR": "hpss",
        "MAX_UPLOAD_MB": str(MAX_UPLOAD_MB),
        "MAX_CONCURRENT_JOBS_PER_USER": "3",
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector,
    }
    with stack_on_fresh_state(tmp_path_factory.mktemp("stack"), **settings) as running:
        running.start_api()
        running.start_worker("worker-default", "default", "default", 2)
        running.start_worker("worker-heavy", "heavy-compute", "heavy", 1)
        yield running


@pytest.fixture(scope="module")
def songs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("songs")
    rock = render_groove(groove_from_pattern(ROCK_BEAT, bpm=120, bars=4, start_s=0.5), default_sample_kit())
    funk = render_groove(groove_from_pattern(FUNK_SIXTEENTHS, bpm=100, bars=16), SynthKit())
    return {
        "rock": ffmpeg_convert(write_wav(folder / "rock.wav", rock), folder / "Rock Song.mp3"),
        "long": ffmpeg_convert(write_wav(folder / "funk.wav", funk), folder / "Long Funk.mp3"),
    }


def client(stack: Stack, token: str | None = None) -> httpx.Client:
    """A browser-like client (keeps the cookie), or a script with a bearer token."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=stack.api_url, headers=headers, timeout=30)


def upload(http: httpx.Client, path: Path) -> httpx.Response:
    with path.open("rb") as f:
        return http.post("/api/v1/jobs", files={"file": (path.name, f, "audio/mpeg")})


def wait_finished(http: httpx.Client, job_id: str, stack: Stack, timeout: float = 240) -> dict[str, object]:
    state: dict[str, object] = {}

    def finished() -> bool:
        state.update(http.get(f"/api/v1/jobs/{job_id}").json())
        return state["status"] in ("completed", "failed")

    wait_for(finished, timeout, f"job {job_id} to finish")
    return state


def test_upload_completes_and_artifacts_download(stack: Stack, songs: dict[str, Path]) -> None:
    with client(stack) as http:
        created = upload(http, songs["rock"])
        assert created.status_code == 202, created.text
        assert "drumscribe_token" in created.cookies, "the first request receives an anonymous token cookie"
        assert "httponly" in created.headers["set-cookie"].lower()
        job = wait_finished(http, created.json()["id"], stack)
        assert job["status"] == "completed", job
        assert job["title"] == "Rock Song"
        assert job["tempo_bpm"] == pytest.approx(120, abs=1)
        assert job["time_signature"] == "4/4"
        assert job["separator"] == "hpss" and job["model"] == "annoteator-cnn"
        assert set(job["timings"]) == {"ingest_audio", "separate_drums", "predict_hits", "transcribe_and_export"}
        artifacts = {a["name"]: a for a in job["artifacts"]}
        assert set(artifacts) == {
            "song.wav", "drums.wav", "band.wav", "hits.json", "sheet_music.musicxml", "sheet_music.pdf", "drums.mid"
        }  # fmt: skip

        pdf = http.get(artifacts["sheet_music.pdf"]["url"])
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")
        hits = http.get(artifacts["hits.json"]["url"]).json()
        assert hits["tempo_bpm"] == job["tempo_bpm"] and len(hits["hits"]) == job["hit_count"]
        assert http.get(artifacts["drums.mid"]["url"]).headers["content-type"] == "audio/midi"
        xml = http.get(artifacts["sheet_music.musicxml"]["url"])
        assert b"<score-partwise" in xml.content

        whole = http.get(artifacts["drums.wav"]["url"])
        assert whole.headers["accept-ranges"] == "bytes" and whole.headers["content-type"] == "audio/wav"
        part = http.get(artifacts["drums.wav"]["url"], headers={"Range": "bytes=100-199"})
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes 100-199/{len(whole.content)}"
        assert part.content == whole.content[100:200]
        assert http.get(artifacts["drums.wav"]["url"], headers={"Range": "bytes=99999999-"}).status_code == 416

        listed = http.get("/api/v1/jobs").json()
        assert [j["id"] for j in listed["jobs"]] == [job["id"]]


def test_another_token_cannot_see_the_job(stack: Stack, songs: dict[str, Path]) -> None:
    owner = secrets.token_urlsafe(32)
    with client(stack, owner) as http:
        job_id = upload(http, songs["rock"]).json()["id"]
        wait_finished(http, job_id, stack)
    with client(stack, secrets.token_urlsafe(32)) as stranger:
        assert stranger.get(f"/api/v1/jobs/{job_id}").status_code == 404
        assert stranger.get(f"/api/v1/jobs/{job_id}/artifacts/hits.json").status_code == 404
        assert stranger.delete(f"/api/v1/jobs/{job_id}").status_code == 404
        assert stranger.get("/api/v1/jobs").json() == {"jobs": [], "total": 0}
    with client(stack, owner) as http:
        assert http.get(f"/api/v1/jobs/{job_id}").status_code == 200


def test_fourth_concurrent_job_gets_429(stack: Stack, songs: dict[str, Path]) -> None:
    with client(stack, secrets.token_urlsafe(32)) as http:
        ids = [upload(http, songs["long"]).json()["id"] for _ in range(3)]
        fourth = upload(http, songs["rock"])
        assert fourth.status_code == 429
        assert int(fourth.headers["retry-after"]) > 0
        assert "limit is 3" in fourth.json()["detail"]
        for job_id in ids:  # tidy up: deleting running jobs frees the quota
            assert http.delete(f"/api/v1/jobs/{job_id}").status_code == 204
        assert upload(http, songs["rock"]).status_code == 202


def test_killed_heavy_worker_requeues_the_job_and_it_completes(stack: Stack, songs: dict[str, Path]) -> None:
    heavy = stack.processes["worker-heavy"]
    with client(stack, secrets.token_urlsafe(32)) as http:
        job_id = upload(http, songs["long"]).json()["id"]
        wait_for(lambda: http.get(f"/api/v1/jobs/{job_id}").json()["status"] == "separating_drums", 120,
                 "separation to start", heavy)  # fmt: skip
        time.sleep(0.5)
        victims = heavy.children()
        assert victims, "the heavy worker runs its task in a pool process"
        for pid in victims:
            os.kill(pid, 9)
        job = wait_finished(http, job_id, stack, timeout=300)
    assert job["status"] == "completed", job
    log = heavy.log()
    assert "signal 9 (SIGKILL)" in log
    starts = [line for line in log.splitlines() if '"stage_start"' in line and job_id in line and "separate" in line]
    assert len(starts) >= 2, "the separation ran again after the kill"


def test_bad_uploads_get_clear_4xx(stack: Stack, tmp_path: Path) -> None:
    notes = tmp_path / "lyrics.txt"
    notes.write_text("la la la\n" * 100)
    big = tmp_path / "huge.wav"
    write_wav(big, np.random.default_rng(0).uniform(-0.5, 0.5, 44_100 * 30).astype(np.float32))  # ~2.6 MB
    with client(stack) as http:
        not_audio = upload(http, notes)
        assert not_audio.status_code == 415
        assert not_audio.json()["detail"] == NotAudioError.musician_message
        too_big = upload(http, big)
        assert too_big.status_code == 413
        assert too_big.json()["detail"] == upload_too_large(MAX_UPLOAD_MB)
        no_file = http.post("/api/v1/jobs", files={"other": ("a.mp3", b"x")})
        assert no_file.status_code == 422
        bad_url = http.post("/api/v1/jobs", json={"url": "not a link"})
        assert bad_url.status_code == 422
        assert http.get("/api/v1/jobs").json()["total"] == 0, "refused uploads leave no job behind"


def test_link_that_fails_reports_the_stage(stack: Stack) -> None:
    with client(stack) as http:
        created = http.post("/api/v1/jobs", json={"url": "http://127.0.0.1:9/song.mp3"})
        assert created.status_code == 202
        job = wait_finished(http, created.json()["id"], stack)
    assert job["status"] == "failed" and job["failed_stage"] == "ingest"
    assert job["error_message"] == UnreachableURLError.musician_message
    assert "error_detail" not in job, "the operator's detail stays in the database and the logs"


def test_delete_removes_a_finished_job_and_its_files(stack: Stack, songs: dict[str, Path]) -> None:
    with client(stack) as http:
        job_id = upload(http, songs["rock"]).json()["id"]
        wait_finished(http, job_id, stack)
        folder = Path(stack.env["ARTIFACTS_DIR"]) / job_id
        assert (folder / "sheet_music.pdf").is_file()
        assert http.delete(f"/api/v1/jobs/{job_id}").status_code == 204
        assert http.get(f"/api/v1/jobs/{job_id}").status_code == 404
        assert not folder.exists()


def test_metrics_count_the_whole_system(stack: Stack, songs: dict[str, Path]) -> None:
    with client(stack) as http:
        job_id = upload(http, songs["rock"]).json()["id"]
        wait_finished(http, job_id, stack)
        text = http.get("/metrics").text
    families = {tuple(line.split()[2:4]) for line in text.splitlines() if line.startswith("# TYPE ")}
    assert families == {
        ("drumscribe_jobs_total", "counter"),
        ("drumscribe_jobs_failed_total", "counter"),
        ("drumscribe_active_jobs", "gauge"),
        ("drumscribe_inference_latency_seconds", "histogram"),
        # prometheus-client writes a counter as NAME_total, as Prometheus' conventions ask.
        ("drumscribe_audio_duration_processed_seconds_total", "counter"),
    }, "exactly the manual's metrics"
    completed = _sample(text, 'drumscribe_jobs_total{status="completed"}')
    assert completed >= 1, "completions happen in the workers, and the API's /metrics sees them"
    assert _sample(text, 'drumscribe_inference_latency_seconds_count{stage="separation"}') >= 1
    assert _sample(text, "drumscribe_audio_duration_processed_seconds_total") > 0
    assert _sample(text, 'drumscribe_jobs_failed_total{stage="ingest"}') >= 0


def test_logs_are_json_with_the_job_id(stack: Stack) -> None:
    lines = [json.loads(line) for line in stack.processes["worker-heavy"].log().splitlines() if line.startswith("{")]
    stage_lines = [entry for entry in lines if entry.get("event") in ("stage_start", "stage_done")]
    assert stage_lines and all(entry.get("job_id") for entry in stage_lines)


def test_one_trace_spans_the_request_and_every_task(stack: Stack, songs: dict[str, Path]) -> None:
    with client(stack) as http:
        job_id = upload(http, songs["rock"]).json()["id"]
        wait_finished(http, job_id, stack)

    def traced() -> bool:
        posts = [s for s in _Collector.spans if s["service"] == "drumscribe-api" and s["name"].startswith("POST")]
        for post in posts:
            names = {
                s["name"]
                for s in _Collector.spans
                if s["trace"] == post["trace"] and s["service"] == "drumscribe-worker"
            }
            if {f"run/app.worker.{stage}" for stage in STAGE_TASKS} <= names:
                return True
        return False

    # Span processors export in batches every few seconds.
    wait_for(traced, 60, "the API request and the four tasks in one trace")


def _sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")
