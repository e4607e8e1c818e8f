"""How the real API answers odd requests: media types, misnamed uploads, out-of-range paging."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from app.api.routes.jobs import _check_audio
from app.core import config, db
from app.core.errors import NotAudioError, too_long_for_musicians
from tests.conftest import understated_wav


@pytest.fixture
def http(sqlite_url: str) -> Iterator[TestClient]:
    from app.main import create_app

    with TestClient(create_app()) as client:
        yield client
    db.get_engine.cache_clear()
    config.get_settings.cache_clear()


def test_media_types_are_matched_exactly_and_case_insensitively(http: TestClient) -> None:
    shouting = http.post("/api/v1/jobs", content=b"{}", headers={"Content-Type": "APPLICATION/JSON; charset=UTF-8"})
    assert shouting.status_code == 422 and shouting.json()["detail"].startswith("send a link as")
    lookalike = http.post("/api/v1/jobs", content=b"{}", headers={"Content-Type": "application/jsonx"})
    assert lookalike.status_code == 415


def test_an_upload_that_is_no_audio_gets_a_musicians_answer_and_the_log_names_it(http: TestClient) -> None:
    with capture_logs() as logs:
        answer = http.post("/api/v1/jobs", files={"file": ("notes", b"shopping list: milk, eggs\n" * 20, "text/plain")})
    assert answer.status_code == 415
    assert answer.json()["detail"] == NotAudioError.musician_message
    refused = next(entry for entry in logs if entry["event"] == "upload_refused")
    assert refused["file"] == "notes"
    assert refused["error"].startswith("notes is not an audio or video file DrumScribe can read")


@pytest.mark.parametrize("offset", ["99999999999999999999", "1000001", "-1"])
def test_paging_beyond_any_history_is_a_clear_422(http: TestClient, offset: str) -> None:
    answer = http.get(f"/api/v1/jobs?offset={offset}")
    assert answer.status_code == 422
    assert http.get("/api/v1/jobs?offset=1000000").json() == {"jobs": [], "total": 0}


def test_the_upload_check_measures_a_wav_past_its_understated_header(tmp_path: Path) -> None:
    take = understated_wav(tmp_path / "take.wav", seconds_declared=1)
    with pytest.raises(HTTPException) as refused:
        _check_audio(take, "take.wav", config.Settings(MAX_DURATION_SECONDS=4))
    assert refused.value.status_code == 422
    assert refused.value.detail == too_long_for_musicians(7, 4)
    assert "0:07 long; this server accepts songs up to 0:04" in refused.value.detail
