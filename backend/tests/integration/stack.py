"""Real DrumScribe processes for the service tests: uvicorn and `celery worker`s, as the compose stack runs them."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import redis

BACKEND = Path(__file__).resolve().parents[2]
POSTGRES_ADMIN = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")


def require_postgres() -> str:
    """The admin URL of a reachable PostgreSQL; fails (never skips) when there is none."""
    try:
        with psycopg.connect(POSTGRES_ADMIN, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        raise RuntimeError(
            f"PostgreSQL is not reachable at {POSTGRES_ADMIN} ({exc}); scripts/test.sh starts one, "
            "or set TEST_POSTGRES_URL"
        ) from exc
    return POSTGRES_ADMIN


def require_redis() -> str:
    """The URL of a reachable Redis; fails (never skips) when there is none."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=5).ping()
    except redis.RedisError as exc:
        raise RuntimeError(
            f"Redis is not reachable at {REDIS_URL} ({exc}); scripts/test.sh starts one, or set TEST_REDIS_URL"
        ) from exc
    return REDIS_URL


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test module; dropped afterwards."""
    admin = require_postgres()
    name = f"drumscribe_test_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin.rsplit("/", 1)[0]
    try:
        yield f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def stack_on_fresh_state(folder: Path, **settings: str) -> Iterator[Stack]:
    """A Stack (nothing started yet) on a new PostgreSQL database and a Redis database of its own.

    Its environment points DATABASE_URL, the broker, the results and the job and model folders at them,
    allows links to loopback (the tests' servers are there), and adds `settings`; a setting given as ""
    is removed (e.g. MODEL_URI="" for the bundled model). Every process is stopped and the Redis
    database emptied on exit.
    """
    redis_base = require_redis()
    broker_db = 2 + secrets.randbelow(12)
    with fresh_database() as database_url:
        from app.db_migrate import upgrade

        upgrade(database_url)
        redis.Redis.from_url(f"{redis_base}/{broker_db}").flushdb()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": f"{redis_base}/{broker_db}",
            "CELERY_RESULT_BACKEND": f"{redis_base}/{broker_db + 1}",
            "ARTIFACTS_DIR": str(folder / "artifacts"),
            "MODEL_CACHE_DIR": str(folder / "models"),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "LINK_ALLOWED_NETWORKS": "127.0.0.0/8",
            **settings,
        }
        running = Stack(env={k: v for k, v in env.items() if v != ""}, folder=folder)
        try:
            yield running
        finally:
            running.stop()
            redis.Redis.from_url(f"{redis_base}/{broker_db}").flushdb()


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Process:
    """A child process with its output in a log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        """Everything the process printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def children(self) -> list[int]:
        """PIDs of its direct children (a celery worker's pool processes)."""
        out = subprocess.run(["pgrep", "-P", str(self.popen.pid)], capture_output=True, text=True, check=False)
        return [int(p) for p in out.stdout.split()]

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM, then SIGKILL after `timeout`."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


@dataclass
class Stack:
    """The API and the two worker pools against one database and one broker."""

    env: dict[str, str]
    folder: Path
    api_url: str = ""
    processes: dict[str, Process] = field(default_factory=dict)

    def start(self, name: str, command: list[str]) -> Process:
        """Start one service's command line in the backend folder."""
        log_path = self.folder / f"{name}.log"
        sink = log_path.open("wb")
        popen = subprocess.Popen(command, cwd=BACKEND, env=self.env, stdout=sink, stderr=subprocess.STDOUT)
        self.processes[name] = Process(name, popen, log_path)
        return self.processes[name]

    def start_api(self) -> None:
        """uvicorn on a free loopback port; waits until /api/v1/health answers 200."""
        port = free_port()
        self.api_url = f"http://127.0.0.1:{port}"
        self.start("api", [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port",
                           str(port), "--no-access-log"])  # fmt: skip
        wait_for(lambda: _healthy(self.api_url), 60, "the API to become healthy", self.processes["api"])

    def start_worker(self, name: str, queue: str, node: str, concurrency: int) -> Process:
        """A real `celery worker` for one queue; waits until it reports ready."""
        process = self.start(
            name,
            [sys.executable, "-m", "celery", "-A", "app.worker", "worker", "-Q", queue, "-n", f"{node}@%h",
             f"--concurrency={concurrency}", "--loglevel=INFO", "--without-gossip", "--without-mingle"],
        )  # fmt: skip
        wait_for(lambda: " ready." in process.log(), 120, f"{name} to be ready", process)
        return process

    def stop(self) -> None:
        """Stop every process."""
        for process in self.processes.values():
            process.stop()


def wait_for(check, timeout: float, what: str, process: Process | None = None) -> None:  # type: ignore[no-untyped-def]
    """Poll `check` until true; fail with the process's log when it never is."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if process is not None and process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited while waiting for {what}:\n{process.log()[-4000:]}")
        time.sleep(0.2)
    tail = process.log()[-4000:] if process else ""
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}\n{tail}")


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/v1/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False
