"""Benchmark the API on loopback with wrk: requests/s and p99 for GET /api/v1/jobs/{id} and a small upload.

Runs uvicorn (2 worker processes, as the api service's 2 CPUs allow) against a fresh PostgreSQL database
and a Redis database of its own, then removes both. No Celery worker runs: uploads are enqueued only.

    .venv/bin/python scripts/bench_api.py [--seconds 15] [--connections 16]
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg
import redis

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_ADMIN = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")

UPLOAD_LUA = """
local f = io.open("{path}", "rb")
local audio = f:read("*all")
f:close()
local boundary = "drumscribebench"
wrk.method = "POST"
wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary
wrk.body = "--" .. boundary .. "\\r\\n"
  .. 'Content-Disposition: form-data; name="file"; filename="beat.mp3"\\r\\n'
  .. "Content-Type: audio/mpeg\\r\\n\\r\\n" .. audio .. "\\r\\n--" .. boundary .. "--\\r\\n"
"""


def main() -> int:
    """Run both benchmarks and print one line each."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    name = f"drumscribe_bench_{secrets.token_hex(4)}"
    broker_db = 15
    work = Path(tempfile.mkdtemp(prefix="drumscribe-bench-"))
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database_url = f"{POSTGRES_ADMIN.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+psycopg://')}/{name}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": f"{REDIS_URL}/{broker_db}",
        "CELERY_RESULT_BACKEND": f"{REDIS_URL}/{broker_db}",
        "ARTIFACTS_DIR": str(work / "artifacts"),
        "MAX_CONCURRENT_JOBS_PER_USER": "1000000",
        "LOG_LEVEL": "WARNING",
    }
    api = None
    try:
        from app.db_migrate import upgrade

        upgrade(database_url)
        audio = work / "beat.mp3"
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=110:duration=2", "-b:a", "64k",
                        str(audio)], check=True)  # fmt: skip
        port = _free_port()
        api = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port), "--workers", "2", "--no-access-log",
             "--log-level", "warning"],
            cwd=ROOT / "backend", env=env,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        _wait(base)
        token = secrets.token_urlsafe(32)
        headers = {"Authorization": f"Bearer {token}"}
        with audio.open("rb") as f:
            job_id = httpx.post(f"{base}/api/v1/jobs", files={"file": ("beat.mp3", f)}, headers=headers).json()["id"]
        lua = work / "upload.lua"
        lua.write_text(UPLOAD_LUA.format(path=audio))
        common = ["wrk", "-t2", f"-c{args.connections}", f"-d{args.seconds}s", "--latency", "-H",
                  f"Authorization: Bearer {token}"]  # fmt: skip
        print(
            f"wrk: {args.connections} connections, {args.seconds} s, 2 threads; uvicorn --workers 2; PostgreSQL, Redis"
        )
        get = subprocess.run([*common, f"{base}/api/v1/jobs/{job_id}"], capture_output=True, text=True, check=True)
        print("GET /api/v1/jobs/{id}: " + _summary(get.stdout))
        post = subprocess.run(
            [*common, "-s", str(lua), f"{base}/api/v1/jobs"], capture_output=True, text=True, check=True
        )
        print(f"POST /api/v1/jobs ({audio.stat().st_size // 1024} KB mp3): " + _summary(post.stdout))
    finally:
        if api is not None:
            api.terminate()
            api.wait(timeout=30)
        redis.Redis.from_url(f"{REDIS_URL}/{broker_db}").flushdb()
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(base: str) -> None:
    for _ in range(100):
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    sys.exit("the API did not become healthy")


def _summary(output: str) -> str:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"50%\s+([\d.]+\w+)", output)
    p99 = re.search(r"99%\s+([\d.]+\w+)", output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return (
        f"{float(rps.group(1)) if rps else 0:.0f} req/s, p50 {p50.group(1) if p50 else '?'}, "
        f"p99 {p99.group(1) if p99 else '?'}, non-2xx {errors.group(1) if errors else 0}"
    )


if __name__ == "__main__":
    sys.exit(main())
