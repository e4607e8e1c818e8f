"""The practice player's and the editor's API against the real service: uvicorn, PostgreSQL, Redis and both
celery workers (HPSS separation, the bundled model), as the compose stack runs them.

One song is transcribed once; the tests then listen to its stems, share it, edit it and restore it.
"""

from __future__ import annotations

import io
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psycopg
import pytest
import soundfile as sf

from app.core.errors import UnreachableURLError, too_long_for_musicians
from app.synth.grooves import ROCK_BEAT, groove_from_pattern
from app.synth.kits import SynthKit, render_groove
from tests.conftest import write_wav
from tests.integration.stack import Stack, free_port, stack_on_fresh_state, wait_for
from tests.notation_files import midi_notes, sheet_notes

pytestmark = pytest.mark.integration

MAX_DURATION_SECONDS = 20
PCM16_STEP = 1 / 32768


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    settings = {"SEPARATOR": "hpss", "MAX_DURATION_SECONDS": str(MAX_DURATION_SECONDS), "MODEL_URI": ""}
    with stack_on_fresh_state(tmp_path_factory.mktemp("stack"), **settings) as running:
        running.start_api()
        running.start_worker("worker-default", "default", "default", 2)
        running.start_worker("worker-heavy", "heavy-compute", "heavy", 1)
        yield running


def owner(stack: Stack, token: str) -> httpx.Client:
    return httpx.Client(base_url=stack.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def wait_status(http: httpx.Client, path: str, timeout: float = 240) -> dict[str, Any]:
    state: dict[str, Any] = {}

    def finished() -> bool:
        state.update(http.get(path).json())
        return state["status"] in ("completed", "failed")

    wait_for(finished, timeout, f"{path} to finish")
    return state


@pytest.fixture(scope="module")
def song(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A stereo rock groove over a bass tone, transcribed: its owner's token and the finished job."""
    drums = render_groove(groove_from_pattern(ROCK_BEAT, bpm=120, bars=4, start_s=0.5), SynthKit())
    t = np.arange(drums.size) / 44_100
    bass = 0.15 * np.sin(2 * np.pi * 110 * t)
    mix = np.stack([0.5 * drums + bass, 0.4 * drums + bass], axis=1)
    path = write_wav(tmp_path_factory.mktemp("song") / "Practice Groove.wav", mix)
    token = secrets.token_urlsafe(32)
    with owner(stack, token) as http, path.open("rb") as f:
        created = http.post("/api/v1/jobs", files={"file": (path.name, f, "audio/wav")})
        assert created.status_code == 202, created.text
        job = wait_status(http, f"/api/v1/jobs/{created.json()['id']}")
    assert job["status"] == "completed", (job, stack.processes["worker-heavy"].log()[-3000:])
    return {"token": token, "job": job}


def download(http: httpx.Client, job: dict[str, Any], name: str) -> bytes:
    url = next(a["url"] for a in job["artifacts"] if a["name"] == name)
    answer = http.get(url)
    assert answer.status_code == 200, answer.text
    return answer.content


def test_the_stems_play_together_sample_aligned(stack: Stack, song: dict[str, Any]) -> None:
    with owner(stack, song["token"]) as http:
        stems = {
            name: sf.read(io.BytesIO(download(http, song["job"], name)), dtype="float32")
            for name in ("song.wav", "drums.wav", "band.wav")
        }
        infos = {name: sf.info(io.BytesIO(download(http, song["job"], name))) for name in stems}
    assert {(i.samplerate, i.channels, i.frames, i.subtype) for i in infos.values()} == {
        (44_100, 2, infos["song.wav"].frames, "PCM_16")
    }
    whole, drums, band = (stems[name][0] for name in ("song.wav", "drums.wav", "band.wav"))
    assert np.max(np.abs(drums + band - whole)) < 4 * PCM16_STEP
    assert np.max(np.abs(drums[1:] + band[:-1] - whole[1:])) > 100 * PCM16_STEP, "one sample off would show"
    assert np.abs(band).max() > 0.05 and np.abs(drums).max() > 0.05


def test_a_share_link_opens_the_sheet_in_another_browser_until_revoked(stack: Stack, song: dict[str, Any]) -> None:
    job_id = song["job"]["id"]
    with owner(stack, song["token"]) as http:
        share = http.post(f"/api/v1/jobs/{job_id}/shares")
        assert share.status_code == 201, share.text
        token, share_id = share.json()["token"], share.json()["id"]
    with httpx.Client(base_url=stack.api_url, timeout=30) as browser:  # no token, no cookie
        view = browser.get(f"/api/v1/shared/{token}")
        assert view.status_code == 200 and "set-cookie" not in view.headers
        assert not browser.cookies, "a share link plants no identity"
        shared = view.json()
        assert shared["title"] == "Practice Groove" and "id" not in shared
        pdf = download(browser, shared, "sheet_music.pdf")
        assert pdf.startswith(b"%PDF")
        drums_url = next(a["url"] for a in shared["artifacts"] if a["name"] == "drums.wav")
        part = browser.get(drums_url, headers={"Range": "bytes=0-99"})
        assert part.status_code == 206 and len(part.content) == 100
        assert browser.get("/api/v1/jobs").json()["total"] == 0, "the owner's list stays private"
        assert browser.get(f"/api/v1/jobs/{job_id}").status_code == 404

        with owner(stack, song["token"]) as http:
            assert http.delete(f"/api/v1/jobs/{job_id}/shares/{share_id}").status_code == 204
        gone = browser.get(f"/api/v1/shared/{token}")
        assert gone.status_code == 404 and "stopped sharing" in gone.json()["detail"]
        assert browser.get(drums_url).status_code == 404


def test_the_access_log_keeps_no_share_token(stack: Stack, song: dict[str, Any]) -> None:
    """uvicorn as compose runs it, access log on: a share link's path and page are logged without the token."""
    port = free_port()
    api = stack.start("api-access-log", [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
                                         "--port", str(port)])  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: "Application startup complete" in api.log(), 60, "the second API", api)
        with owner(stack, song["token"]) as http:
            token = http.post(f"/api/v1/jobs/{song['job']['id']}/shares").json()["token"]
        with httpx.Client(base_url=base, timeout=30) as browser:
            assert browser.get(f"/api/v1/shared/{token}").status_code == 200
            browser.get(f"/shared/?token={token}")
        wait_for(lambda: api.log().count("[token]") >= 2, 10, "the access log lines", api)
    finally:
        api.stop()
    assert token not in api.log()
    assert "/api/v1/shared/[token]" in api.log() and "/shared/?token=[token]" in api.log()


def test_one_edited_note_changes_the_sheet_and_the_midi_at_that_note_only(stack: Stack, song: dict[str, Any]) -> None:
    job_id = song["job"]["id"]
    with owner(stack, song["token"]) as http:
        original = {name: download(http, song["job"], name) for name in ("sheet_music.musicxml", "drums.mid")}
        hits = http.get(f"/api/v1/jobs/{job_id}/artifacts/hits.json").json()["hits"]
        snares = [h for h in hits if h["instrument"] == "snare"]
        changed = snares[len(snares) // 2]
        changed["instrument"] = "tom_high"
        created = http.post(f"/api/v1/jobs/{job_id}/revisions", json={"hits": hits, "note": "a tom, not a snare"})
        assert created.status_code == 202, created.text
        assert created.json()["status"] == "pending"
        revision = wait_status(http, f"/api/v1/jobs/{job_id}/revisions/{created.json()['number']}", timeout=120)
        assert revision["status"] == "completed", (revision, stack.processes["worker-default"].log()[-3000:])
        edited = {name: download(http, revision, name) for name in ("sheet_music.musicxml", "drums.mid")}
        assert download(http, revision, "sheet_music.pdf").startswith(b"%PDF")

        before, after = sheet_notes(original["sheet_music.musicxml"]), sheet_notes(edited["sheet_music.musicxml"])
        differences = [(b, a) for b, a in zip(before, after, strict=True) if b != a]
        assert len(before) == len(after) and len(differences) == 1
        assert differences[0][0][:3] == differences[0][1][:3], "the same bar, voice and place"
        assert (differences[0][0][3], differences[0][1][3]) == ("C5", "E5"), "snare to high tom"
        midi_before, midi_after = midi_notes(original["drums.mid"]), midi_notes(edited["drums.mid"])
        removed = [n for n in midi_before if n not in midi_after]
        added = [n for n in midi_after if n not in midi_before]
        assert [(n[1], n[2]) for n in removed] == [(38, changed["velocity"])]
        assert [(n[1], n[2]) for n in added] == [(50, changed["velocity"])]
        assert removed[0][0] == added[0][0]

        restored = http.post(f"/api/v1/jobs/{job_id}/revisions/{revision['number']}/restore").json()
        assert restored["current_revision"] == revision["number"]
        assert download(http, restored, "sheet_music.musicxml") == edited["sheet_music.musicxml"]
        back = http.post(f"/api/v1/jobs/{job_id}/revisions/0/restore").json()
        assert back["current_revision"] == 0
        assert download(http, back, "sheet_music.musicxml") == original["sheet_music.musicxml"]
        listed = http.get(f"/api/v1/jobs/{job_id}/revisions").json()["revisions"]
        assert [(r["number"], r["current"]) for r in listed] == [(0, True), (revision["number"], False)]


def test_failures_read_as_a_musicians_words(stack: Stack, tmp_path: Path) -> None:
    with owner(stack, secrets.token_urlsafe(32)) as http:
        created = http.post("/api/v1/jobs", json={"url": "http://127.0.0.1:9/song.mp3"})
        assert created.status_code == 202
        job = wait_status(http, f"/api/v1/jobs/{created.json()['id']}")
        long_take = write_wav(tmp_path / "Long Take.wav", np.full(44_100 * 25, 0.1, dtype=np.float32))
        with long_take.open("rb") as f:
            refused = http.post("/api/v1/jobs", files={"file": (long_take.name, f, "audio/wav")})
    assert job["status"] == "failed" and job["failed_stage"] == "ingest"
    assert job["error_message"] == UnreachableURLError.musician_message
    assert "error_detail" not in job
    assert refused.status_code == 422
    assert refused.json()["detail"] == too_long_for_musicians(25, MAX_DURATION_SECONDS)
    database_url = stack.env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(database_url) as conn:
        detail = conn.execute("SELECT error_detail FROM jobs WHERE id = %s", (job["id"],)).fetchone()
    assert detail is not None and "127.0.0.1:9" in detail[0], "the operator's detail is kept for operators"
