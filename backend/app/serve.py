"""`drumscribe serve`: the whole system on one machine, with no PostgreSQL, Redis or Docker.

State lives in SQLite and Celery's broker is kombu's SQLAlchemy transport on SQLite (the settings'
defaults), but the processes are the real ones the compose stack runs: the API under uvicorn, a worker
for each queue and celery-beat. This module only starts, watches and stops them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from app.core.config import Settings
from app.core.logging import get_logger

log = get_logger(__name__)


@dataclass
class ServeOptions:
    """What `drumscribe serve` was asked for."""

    host: str
    port: int
    default_concurrency: int


def process_commands(settings: Settings, options: ServeOptions, run_dir: Path) -> dict[str, list[str]]:
    """The command line of each process, by the compose stack's service names."""
    python = sys.executable
    celery = [python, "-m", "celery", "-A", "app.worker"]
    return {
        "api": [python, "-m", "uvicorn", "app.main:app", "--host", options.host, "--port", str(options.port),
                "--no-access-log"],
        "worker-default": [*celery, "worker", "-Q", "default", "-n", "default@%h",
                           f"--concurrency={options.default_concurrency}", "--loglevel=INFO"],
        "worker-heavy": [*celery, "worker", "-Q", "heavy-compute", "-n", "heavy@%h", "--concurrency=1",
                         "--max-memory-per-child=2048000", "--loglevel=INFO"],
        "celery-beat": [*celery, "beat", "--loglevel=INFO", "-s", str(run_dir / "celerybeat-schedule"),
                        "--pidfile", str(run_dir / "celerybeat.pid")],
    }  # fmt: skip


def serve(settings: Settings, options: ServeOptions) -> int:
    """Migrate the database, start the processes, and stop them all when one dies or on Ctrl-C."""
    from app.db_migrate import upgrade

    data_dirs = [settings.ARTIFACTS_DIR, settings.MODEL_CACHE_DIR]
    for url in (settings.DATABASE_URL, settings.CELERY_BROKER_URL, settings.CELERY_RESULT_BACKEND):
        if "sqlite:///" in url:
            data_dirs.append(Path(url.split("sqlite:///", 1)[1]).parent)
    for folder in data_dirs:
        folder.mkdir(parents=True, exist_ok=True)
    run_dir = settings.ARTIFACTS_DIR.parent / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "celerybeat.pid").unlink(missing_ok=True)  # a stale pid file from a crash would stop beat

    upgrade(settings.DATABASE_URL)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
    children: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def stop(_signum: int = 0, _frame: object = None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for name, command in process_commands(settings, options, run_dir).items():
        children[name] = subprocess.Popen(command, env=env)
    print(
        f"DrumScribe is running at http://{options.host}:{options.port}/ (API docs at /docs); Ctrl-C stops it.",
        file=sys.stderr,
        flush=True,
    )
    exit_code = 0
    try:
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    log.error("process_exited", process=name, returncode=child.returncode)
                    exit_code = 1
                    stopping = True
                    break
            time.sleep(0.5)
    finally:
        _stop_all(children)
    return exit_code


def _stop_all(children: dict[str, subprocess.Popen[bytes]], grace_s: float = 20.0) -> None:
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
