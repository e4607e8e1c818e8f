"""The API in PostgreSQL mode when one user sends many jobs at once: quick 429s, never a frozen server.

No workers run here, so every accepted job stays pending and holds its place in the owner's quota.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import psycopg
import pytest
import redis

from app.pipeline.constants import SAMPLE_RATE
from tests.conftest import write_wav
from tests.integration.stack import Stack, free_port, fresh_database, require_postgres, require_redis

pytestmark = pytest.mark.integration

QUOTA = 3


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Stack]:
    redis_base = require_redis()
    broker_db = 2 + secrets.randbelow(12)
    with fresh_database() as database_url:
        from app.db_migrate import upgrade

        upgrade(database_url)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": f"{redis_base}/{broker_db}",
            "CELERY_RESULT_BACKEND": f"{redis_base}/{broker_db + 1}",
            "ARTIFACTS_DIR": str(tmp_path / "artifacts"),
            "MODEL_CACHE_DIR": str(tmp_path / "models"),
            "MAX_CONCURRENT_JOBS_PER_USER": str(QUOTA),
            "LINK_ALLOWED_NETWORKS": "127.0.0.0/8",
            "TMPDIR": str(tmp_path),
        }
        running = Stack(env=env, folder=tmp_path)
        try:
            running.start_api()
            yield running
        finally:
            running.stop()
            redis.Redis.from_url(f"{redis_base}/{broker_db}").flushdb()


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
