"""The API in PostgreSQL mode when one user sends many jobs at once: quick 429s, never a frozen server.

No workers run here, so every accepted job stays pending and holds its place in the owner's quota and
in its address's quota.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import psycopg
import pytest

from app.pipeline.constants import SAMPLE_RATE
from tests.conftest import write_wav
from tests.integration.stack import (
    Stack,
    free_port,
    fresh_database,
    require_postgres,
    stack_on_fresh_state,
)

pytestmark = pytest.mark.integration

QUOTA = 3
ADDRESS_QUOTA = 5


@contextmanager
def _api(tmp_path: Path, **extra_env: str) -> Iterator[Stack]:
    """uvicorn against a fresh PostgreSQL database and a Redis database, with no workers."""
    settings = {
        "MAX_CONCURRENT_JOBS_PER_USER": str(QUOTA),
        "MAX_CONCURRENT_JOBS_PER_ADDRESS": str(ADDRESS_QUOTA),
        "TMPDIR": str(tmp_path),
        **extra_env,
    }
    with stack_on_fresh_state(tmp_path, **settings) as running:
        running.start_api()
        yield running


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Stack]:
    with _api(tmp_path) as running:
        yield running


def _song(folder: Path) -> Path:
    clicks = np.zeros(SAMPLE_RATE * 2, dtype=np.float32)
    clicks[:: SAMPLE_RATE // 2] = 0.8
    return write_wav(folder / "clicks.wav", clicks)


def test_many_requests_over_the_quota_get_429_and_the_api_stays_responsive(api: Stack, tmp_path: Path) -> None:
    headers = {"Authorization": f"Bearer {secrets.token_urlsafe(32)}"}
    song = _song(tmp_path)
    with httpx.Client(base_url=api.api_url, headers=headers, timeout=20) as http:
        for _ in range(QUOTA):
            with song.open("rb") as f:
                assert http.post("/api/v1/jobs", files={"file": ("clicks.wav", f, "audio/wav")}).status_code == 202

        def submit_link(_: int) -> int:
            return http.post("/api/v1/jobs", json={"url": "http://127.0.0.1:9/song.wav"}).status_code

        with ThreadPoolExecutor(max_workers=10) as pool:
            codes = list(pool.map(submit_link, range(10)))
        assert codes == [429] * 10

        started = time.monotonic()
        assert http.get("/api/v1/health").status_code == 200
        assert time.monotonic() - started < 5
        assert http.get("/api/v1/jobs").json()["total"] == QUOTA

    # No transaction may stay open (holding the owner's lock) after the requests are answered.
    database = api.env["DATABASE_URL"].rsplit("/", 1)[1]
    with psycopg.connect(require_postgres()) as conn:
        idle = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND state LIKE 'idle in transaction%%'",
            (database,),
        ).fetchone()
    assert idle == (0,)

    # The upload's temporary folders are gone, and SIGTERM still stops the server promptly.
    assert not list(tmp_path.glob("drumscribe-upload-*"))
    process = api.processes["api"].popen
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=15)


def _upload_as_a_new_browser(api: Stack, song: Path, forwarded_for: str) -> httpx.Response:
    """One upload from a client without a cookie, seen through a proxy that reports `forwarded_for`."""
    with httpx.Client(base_url=api.api_url, timeout=30) as fresh, song.open("rb") as f:
        return fresh.post(
            "/api/v1/jobs",
            files={"file": ("clicks.wav", f, "audio/wav")},
            headers={"X-Forwarded-For": forwarded_for},
        )


def test_dropping_the_cookie_does_not_multiply_the_quota_of_an_address(api: Stack, tmp_path: Path) -> None:
    # The API runs behind a proxy on loopback (uvicorn trusts 127.0.0.1 by default), which reports the
    # client's address in X-Forwarded-For, as the compose frontend does. These are documentation
    # addresses, never connected to.
    song = _song(tmp_path)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: _upload_as_a_new_browser(api, song, "203.0.113.7"), range(8)))
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [202] * ADDRESS_QUOTA + [429] * (8 - ADDRESS_QUOTA), [a.text for a in answers]
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert f"the limit is {ADDRESS_QUOTA} per address" in refused.json()["detail"]
    assert int(refused.headers["retry-after"]) > 0
    # Another client is not held back by it.
    assert _upload_as_a_new_browser(api, song, "203.0.113.8").status_code == 202
    # An IPv6 client's whole /64 is one address.
    for host in range(ADDRESS_QUOTA):
        assert _upload_as_a_new_browser(api, song, f"2001:db8:1:2::{host + 1}").status_code == 202
    assert _upload_as_a_new_browser(api, song, "2001:db8:1:2:ffff::1").status_code == 429


def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(tmp_path: Path) -> None:
    # Only 192.0.2.1 may report client addresses here, so each claimed address below is ignored and
    # every upload counts against the real peer, 127.0.0.1.
    with _api(tmp_path, FORWARDED_ALLOW_IPS="192.0.2.1") as api:
        song = _song(tmp_path)
        codes = [_upload_as_a_new_browser(api, song, f"203.0.113.{n}").status_code for n in range(ADDRESS_QUOTA + 1)]
    assert codes == [202] * ADDRESS_QUOTA + [429]


def test_a_job_the_broker_cannot_take_is_failed_at_once_and_frees_the_quota(tmp_path: Path) -> None:
    port = free_port()
    broker = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        with fresh_database() as database_url:
            from app.db_migrate import upgrade

            upgrade(database_url)
            env = {
                **os.environ,
                "DATABASE_URL": database_url,
                "CELERY_BROKER_URL": f"redis://127.0.0.1:{port}/0",
                "CELERY_RESULT_BACKEND": f"redis://127.0.0.1:{port}/1",
                "ARTIFACTS_DIR": str(tmp_path / "artifacts"),
                "MAX_CONCURRENT_JOBS_PER_USER": "1",
                "LINK_ALLOWED_NETWORKS": "127.0.0.0/8",
            }
            api = Stack(env=env, folder=tmp_path)
            try:
                api.start_api()
                broker.terminate()
                broker.wait(timeout=10)
                headers = {"Authorization": f"Bearer {secrets.token_urlsafe(32)}"}
                with httpx.Client(base_url=api.api_url, headers=headers, timeout=60) as http:
                    for _ in range(2):  # the first failure must not hold the only place in the quota
                        refused = http.post("/api/v1/jobs", json={"url": "http://127.0.0.1:9/song.wav"})
                        assert refused.status_code == 503, refused.text
                        assert "try again in a minute" in refused.json()["detail"]
                    jobs = http.get("/api/v1/jobs").json()["jobs"]
                assert [job["status"] for job in jobs] == ["failed", "failed"]
            finally:
                api.stop()
    finally:
        broker.kill()
