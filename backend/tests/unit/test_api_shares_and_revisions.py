"""Share links and revisions through the real API, in process, on SQLite: who may do what, and what each sees.

The render task is run in process by its real function (app.jobs.revision_rendering); only handing it to
the broker is replaced by a list. tests/integration/test_practice_api.py runs the same with real workers.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.api import deps
from app.api.auth import COOKIE_NAME
from app.core import config, db
from app.db_migrate import upgrade
from app.jobs import revisions
from app.jobs.revision_rendering import render_revision
from app.jobs.service import owner_of
from app.models import Job, JobRevision, JobShare
from app.pipeline.beats.decode import BeatTrack
from app.pipeline.hits import Hit, HitsDocument
from app.pipeline.stages import write_notation
from app.storage import LocalStorage
from app.synth.grooves import ROCK_BEAT, Pattern, groove_from_pattern

SONG_S = 6.0

SIX_EIGHT: Pattern = {
    "kick": [(0.0, 110)],
    "snare": [(1.0, 105)],
    "hihat_closed": [(b + e / 3, 85) for b in range(2) for e in range(3)],
}
"""6/8 counted in dotted quarters: two beats a bar, the hi-hat on every eighth."""


@dataclass
class Api:
    """The API, an owner's client, the storage, and the render tasks the API sent."""

    owner: TestClient
    stranger: TestClient
    anonymous: TestClient
    storage: LocalStorage
    sent: list[str]
    owner_token: str


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    import app.worker
    from app.main import create_app

    url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    sent: list[str] = []
    monkeypatch.setattr(app.worker, "enqueue_revision", sent.append)
    caches = (config.get_settings, db.get_engine, deps._storage)
    for cache in caches:
        cache.cache_clear()
    upgrade(url)
    token = secrets.token_urlsafe(32)
    web = create_app()
    try:
        with (
            TestClient(web, headers={"Authorization": f"Bearer {token}"}) as owner,
            TestClient(web, headers={"Authorization": f"Bearer {secrets.token_urlsafe(32)}"}) as stranger,
            TestClient(web) as anonymous,
        ):
            yield Api(owner, stranger, anonymous, LocalStorage(tmp_path / "artifacts"), sent, token)
    finally:
        for cache in caches:
            cache.cache_clear()


def finished_job(api: Api, status: str = "completed", *, compound: bool = False) -> str:
    """A job of the owner's as the pipeline leaves it: the song, its stems and the transcription's files
    (with `compound`, a 6/8 groove as the learned beat tracker finds it)."""
    with db.session_scope() as session:
        job = Job(owner=owner_of(api.owner_token), source_kind="upload", source="Groove.wav", status=status,
                  title="Groove", duration_s=SONG_S, timings={})  # fmt: skip
        session.add(job)
        session.flush()
        job_id = job.id
    folder = api.storage.job_dir(job_id)
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in ("song.wav", "drums.wav", "band.wav"):
        sf.write(folder / name, rng.uniform(-0.1, 0.1, (int(SONG_S * 44_100), 2)), 44_100, subtype="PCM_16")
    (folder / "source.json").write_text(json.dumps({"title": "Groove"}))
    beats = None
    if compound:
        events = groove_from_pattern(SIX_EIGHT, bpm=60, bars=2, beats_per_bar=2, start_s=0.5).events
        beats = BeatTrack(0.5 + np.arange(6.0), np.array([1, 2] * 3), ("6/8",) * 6)
    else:
        events = groove_from_pattern(ROCK_BEAT, bpm=120, bars=2, start_s=0.5).events
    hits = [Hit(e.time, e.instrument, e.velocity, 0.9) for e in events]
    result = write_notation(HitsDocument(SONG_S, "hpss", "test", hits), folder, title="Groove", beats=beats)
    with db.session_scope() as session:
        job = session.get(Job, job_id)
        assert job is not None
        job.tempo_bpm, job.time_signature, job.hit_count = result.tempo_bpm, result.time_signature, len(hits)
    return job_id


def edited_hits(api: Api, job_id: str) -> list[dict[str, object]]:
    """The transcription's hits as the editor gets them, the first snare turned into a high tom."""
    hits = api.owner.get(f"/api/v1/jobs/{job_id}/artifacts/hits.json").json()["hits"]
    first_snare = next(h for h in hits if h["instrument"] == "snare")
    first_snare["instrument"] = "tom_high"
    return hits


def save(api: Api, job_id: str, **body: object) -> dict[str, object]:
    """Save a revision and render it as the worker would; the revision afterwards."""
    created = api.owner.post(f"/api/v1/jobs/{job_id}/revisions", json={"hits": edited_hits(api, job_id), **body})
    assert created.status_code == 202, created.text
    assert render_revision(api.sent[-1], storage=api.storage)
    number = created.json()["number"]
    return api.owner.get(f"/api/v1/jobs/{job_id}/revisions/{number}").json()


def test_a_share_link_shows_the_job_to_anyone_read_only(api: Api) -> None:
    job_id = finished_job(api)
    created = api.owner.post(f"/api/v1/jobs/{job_id}/shares")
    assert created.status_code == 201, created.text
    share = created.json()
    token = share["token"]
    assert len(token) >= 32 and share["url"] == f"/shared/?token={token}"
    listed = api.owner.get(f"/api/v1/jobs/{job_id}/shares").json()["shares"]
    assert listed == [{"id": share["id"], "token_prefix": token[:6], "created_at": share["created_at"]}]

    # A browser without any identity, and one with another owner's cookie: neither is given or uses one.
    api.anonymous.cookies.set(COOKIE_NAME, secrets.token_urlsafe(32))
    for reader in (TestClient(api.anonymous.app), api.anonymous):
        view = reader.get(f"/api/v1/shared/{token}")
        assert view.status_code == 200, view.text
        assert "set-cookie" not in view.headers
        assert view.headers["referrer-policy"] == "no-referrer"
    body = view.json()
    assert body["title"] == "Groove" and body["status"] == "completed"
    assert not {"id", "source", "error_message", "timings", "current_revision"} & set(body)
    files = {a["name"]: a["url"] for a in body["artifacts"]}
    assert set(files) >= {"song.wav", "drums.wav", "band.wav", "sheet_music.pdf", "hits.json"}
    assert all(url == f"/api/v1/shared/{token}/artifacts/{name}" for name, url in files.items())
    whole = api.anonymous.get(files["band.wav"])
    part = api.anonymous.get(files["band.wav"], headers={"Range": "bytes=44-143"})
    assert part.status_code == 206 and part.content == whole.content[44:144]
    assert whole.headers["cache-control"] == "no-store" and "set-cookie" not in whole.headers
    # The link opens that job and nothing else: not the owner's list, the job itself, or edits.
    assert api.anonymous.get("/api/v1/jobs").json()["total"] == 0
    assert api.anonymous.get(f"/api/v1/jobs/{job_id}").status_code == 404
    assert api.anonymous.post(f"/api/v1/jobs/{job_id}/shares").status_code == 404
    one_hit = {"hits": [{"time": 1.0, "instrument": "kick", "velocity": 90}]}
    assert api.anonymous.post(f"/api/v1/jobs/{job_id}/revisions", json=one_hit).status_code == 404
    assert api.anonymous.get(f"/api/v1/shared/{token}/artifacts/input.wav").status_code == 404


def test_a_revoked_link_is_gone_at_once(api: Api) -> None:
    job_id = finished_job(api)
    share = api.owner.post(f"/api/v1/jobs/{job_id}/shares").json()
    kept = api.owner.post(f"/api/v1/jobs/{job_id}/shares").json()
    assert api.stranger.delete(f"/api/v1/jobs/{job_id}/shares/{share['id']}").status_code == 404
    assert api.owner.delete(f"/api/v1/jobs/{job_id}/shares/{share['id']}").status_code == 204
    gone = api.anonymous.get(f"/api/v1/shared/{share['token']}")
    assert gone.status_code == 404 and "stopped sharing" in gone.json()["detail"]
    assert api.anonymous.get(f"/api/v1/shared/{share['token']}/artifacts/song.wav").status_code == 404
    assert api.anonymous.get(f"/api/v1/shared/{kept['token']}").status_code == 200
    assert api.anonymous.get(f"/api/v1/shared/{'x' * 43}").status_code == 404
    assert api.anonymous.get("/api/v1/shared/not-a-token").status_code == 404


def test_only_the_owner_shares_and_only_a_finished_job(api: Api) -> None:
    job_id = finished_job(api)
    running = finished_job(api, status="predicting")
    assert api.stranger.post(f"/api/v1/jobs/{job_id}/shares").status_code == 404
    assert api.stranger.get(f"/api/v1/jobs/{job_id}/shares").status_code == 404
    refused = api.owner.post(f"/api/v1/jobs/{running}/shares")
    assert refused.status_code == 409 and "isn't finished" in refused.json()["detail"]


def test_links_are_stored_hashed_and_deleted_with_their_job(api: Api) -> None:
    job_id = finished_job(api)
    token = api.owner.post(f"/api/v1/jobs/{job_id}/shares").json()["token"]
    with db.session_scope() as session:
        row = session.scalars(select(JobShare)).one()
        assert token not in (row.token_hash, row.id) and row.token_prefix == token[:6]
    save(api, job_id)
    assert api.owner.delete(f"/api/v1/jobs/{job_id}").status_code == 204
    assert api.anonymous.get(f"/api/v1/shared/{token}").status_code == 404
    with db.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(JobShare)) == 0
        assert session.scalar(select(func.count()).select_from(JobRevision)) == 0
    assert not api.storage.job_dir(job_id).exists()


def test_a_revision_is_rendered_listed_downloaded_and_restored(api: Api) -> None:
    job_id = finished_job(api)
    revision = save(api, job_id, note="first snare on the high tom")
    assert revision["status"] == "completed", revision
    assert (revision["number"], revision["base_revision"], revision["current"]) == (1, 0, False)
    files = {a["name"]: a["url"] for a in revision["artifacts"]}
    assert sorted(files) == ["drums.mid", "hits.json", "sheet_music.musicxml", "sheet_music.pdf"]
    original = api.owner.get(f"/api/v1/jobs/{job_id}/artifacts/sheet_music.musicxml").content
    edited = api.owner.get(files["sheet_music.musicxml"]).content
    assert edited != original and b"High Tom" in edited
    assert api.storage.job_dir(job_id).joinpath("sheet_music.musicxml").read_bytes() == original

    listed = api.owner.get(f"/api/v1/jobs/{job_id}/revisions").json()
    assert [(r["number"], r["status"], r["current"]) for r in listed["revisions"]] == [
        (0, "completed", True),
        (1, "completed", False),
    ]
    restored = api.owner.post(f"/api/v1/jobs/{job_id}/revisions/1/restore")
    assert restored.status_code == 200 and restored.json()["current_revision"] == 1
    urls = {a["name"]: a["url"] for a in restored.json()["artifacts"]}
    assert urls["sheet_music.musicxml"] == f"/api/v1/jobs/{job_id}/revisions/1/artifacts/sheet_music.musicxml"
    assert urls["song.wav"] == f"/api/v1/jobs/{job_id}/artifacts/song.wav"
    token = api.owner.post(f"/api/v1/jobs/{job_id}/shares").json()["token"]
    shared = api.anonymous.get(f"/api/v1/shared/{token}/artifacts/sheet_music.musicxml").content
    assert shared == edited, "a share link shows the current revision"

    back = api.owner.post(f"/api/v1/jobs/{job_id}/revisions/0/restore").json()
    assert back["current_revision"] == 0
    assert (
        api.owner.get(next(a["url"] for a in back["artifacts"] if a["name"] == "sheet_music.musicxml")).content
        == original
    )


def test_a_compound_sheet_stays_compound_unless_the_editor_fixes_another_metre(api: Api) -> None:
    job_id = finished_job(api, compound=True)
    kept = save(api, job_id)
    assert (kept["status"], kept["fixed_time_signature"], kept["time_signature"]) == ("completed", None, "6/8")
    files = {a["name"]: a["url"] for a in kept["artifacts"]}
    sheet = api.owner.get(files["sheet_music.musicxml"]).content
    assert b"<beats>6</beats>" in sheet and b"<beat-type>8</beat-type>" in sheet
    assert b"<beat-type>4</beat-type>" not in sheet
    assert api.owner.get(files["hits.json"]).json()["time_signature"] == "6/8"

    regrouped = save(api, job_id, time_signature="12/8")
    assert (regrouped["status"], regrouped["time_signature"]) == ("completed", "12/8")
    simple = save(api, job_id, time_signature="3/4")
    assert (simple["status"], simple["time_signature"]) == ("completed", "3/4")


def test_edits_outside_the_vocabulary_or_the_song_are_refused(api: Api) -> None:
    job_id = finished_job(api)
    hits = edited_hits(api, job_id)
    cases = [
        ({"hits": [{**hits[0], "instrument": "cowbell"}]}, 422),
        ({"hits": [{**hits[0], "time": SONG_S + 1}]}, 422),
        ({"hits": [{**hits[0], "velocity": 0}]}, 422),
        ({"hits": []}, 422),
        ({"hits": hits, "time_signature": "9/8"}, 422),
        ({"hits": hits, "tempo_bpm": 500}, 422),
        ({"hits": hits, "first_downbeat_s": SONG_S + 1}, 422),
        ({"hits": hits, "base_revision": 4}, 422),
    ]
    for body, expected in cases:
        answer = api.owner.post(f"/api/v1/jobs/{job_id}/revisions", json=body)
        assert answer.status_code == expected, (body, answer.text)
    assert api.stranger.post(f"/api/v1/jobs/{job_id}/revisions", json={"hits": hits}).status_code == 404
    running = finished_job(api, status="transcribing")
    assert api.owner.post(f"/api/v1/jobs/{running}/revisions", json={"hits": hits}).status_code == 409
    assert api.owner.get(f"/api/v1/jobs/{running}/revisions").status_code == 409
    assert api.sent == []


def test_a_job_keeps_a_bounded_number_of_revisions(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(revisions, "MAX_REVISIONS_PER_JOB", 4)
    job_id = finished_job(api)
    body = {"hits": edited_hits(api, job_id)}
    for _ in range(revisions.MAX_UNFINISHED_REVISIONS):
        assert api.owner.post(f"/api/v1/jobs/{job_id}/revisions", json=body).status_code == 202
    busy = api.owner.post(f"/api/v1/jobs/{job_id}/revisions", json=body)
    assert busy.status_code == 429 and "retry-after" in busy.headers
    for revision_id in api.sent:
        render_revision(revision_id, storage=api.storage)
    assert api.owner.post(f"/api/v1/jobs/{job_id}/revisions", json=body).status_code == 202
    full = api.owner.post(f"/api/v1/jobs/{job_id}/revisions", json=body)
    assert full.status_code == 409 and "4 saved versions" in full.json()["detail"]
    assert api.owner.post(f"/api/v1/jobs/{job_id}/revisions/5/restore").status_code == 404
    assert api.owner.post(f"/api/v1/jobs/{job_id}/revisions/4/restore").status_code == 409, "not rendered yet"


def test_a_revision_that_cannot_be_written_fails_in_a_musicians_words(api: Api) -> None:
    job_id = finished_job(api)
    (api.storage.job_dir(job_id) / "hits.json").write_text("{}")  # the edited sheet's grid is unreadable
    created = api.owner.post(
        f"/api/v1/jobs/{job_id}/revisions", json={"hits": [{"time": 1.0, "instrument": "kick", "velocity": 90}]}
    )
    assert created.status_code == 202
    assert not render_revision(api.sent[-1], storage=api.storage)
    failed = api.owner.get(f"/api/v1/jobs/{job_id}/revisions/1").json()
    assert failed["status"] == "failed" and failed["artifacts"] == []
    assert failed["error_message"].startswith("Writing the sheet music failed.")
    assert "error_detail" not in failed
    with db.session_scope() as session:
        assert "KeyError" in str(session.scalars(select(JobRevision.error_detail)).one())
