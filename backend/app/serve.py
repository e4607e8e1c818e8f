"""`drumscribe serve`: the whole system on one machine, with no PostgreSQL, Redis or Docker.

State lives in SQLite and Celery's broker is the embedded SQL transport on SQLite (`app.broker.sql_transport`;
the settings' defaults), but the processes are the real ones the compose stack runs: the API under uvicorn,
a worker for each queue and celery-beat. This module starts them and looks after them:

- A worker or beat that exits is restarted after a back-off; one that dies `max_deaths` times within
  `death_window_s` makes serve give up (exit 1). Only the API's exit stops everything.
- Each process runs in a process group of its own, and the whole group is killed when its leader dies:
  no pool process of a dead worker runs a task beside the replacement (Celery's prefork children also
  get SIGKILL when their parent dies, by PR_SET_PDEATHSIG). On Linux each process also dies with serve,
  so a killed serve leaves nothing running.
- Each queue has exactly one consumer, its worker. When that worker is dead, the messages it took and
  never acknowledged belong to nobody: serve makes them deliverable again before it starts the
  replacement, and those of every queue at start-up, when no consumer exists yet.
- Ctrl-C or SIGTERM: each process gets SIGTERM (Celery's warm shutdown finishes the running task) and
  `SERVE_STOP_GRACE_SECONDS` (300) before SIGKILL; a second Ctrl-C kills at once.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from app.broker.sql_transport import requeue_in_flight
from app.core.config import Settings
from app.core.logging import get_logger

log = get_logger(__name__)

POLL_SECONDS = 0.2
_PR_SET_PDEATHSIG = 1


@dataclass
class ServeOptions:
    """What `drumscribe serve` was asked for."""

    host: str
    port: int
    default_concurrency: int


@dataclass(frozen=True)
class ServedProcess:
    """One process that serve starts and looks after."""

    name: str
    command: list[str]
    # The queue this worker alone consumes: its unacknowledged messages are requeued when it dies.
    queue: str | None = None
    # Its exit stops serve (the API: without it nothing is served).
    essential: bool = False


@dataclass(frozen=True)
class Supervision:
    """How serve restarts processes and how long a stop waits for running stages."""

    stop_grace_s: float
    max_deaths: int = 5
    death_window_s: float = 60.0
    first_backoff_s: float = 1.0
    max_backoff_s: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Supervision:
        """The supervision `drumscribe serve` runs with."""
        return cls(stop_grace_s=settings.SERVE_STOP_GRACE_SECONDS)

    def restart_delay(self, deaths: list[float], now: float) -> float | None:
        """Seconds to wait before restarting a process that died at the times `deaths`; None: give up."""
        recent = sum(1 for moment in deaths if now - moment < self.death_window_s)
        if recent >= self.max_deaths:
            return None
        return float(min(self.max_backoff_s, self.first_backoff_s * 2 ** max(0, recent - 1)))


def served_processes(settings: Settings, options: ServeOptions, run_dir: Path) -> list[ServedProcess]:
    """The processes of the compose stack, by its service names."""
    from app.worker import DEFAULT_QUEUE, HEAVY_QUEUE

    python = sys.executable
    celery = [python, "-m", "celery", "-A", "app.worker"]
    return [
        ServedProcess("api", [python, "-m", "uvicorn", "app.main:app", "--host", options.host,
                              "--port", str(options.port), "--no-access-log"], essential=True),
        ServedProcess("worker-default", [*celery, "worker", "-Q", DEFAULT_QUEUE, "-n", "default@%h",
                                         f"--concurrency={options.default_concurrency}", "--loglevel=INFO"],
                      queue=DEFAULT_QUEUE),
        ServedProcess("worker-heavy", [*celery, "worker", "-Q", HEAVY_QUEUE, "-n", "heavy@%h", "--concurrency=1",
                                       "--max-memory-per-child=2048000", "--loglevel=INFO"], queue=HEAVY_QUEUE),
        ServedProcess("celery-beat", [*celery, "beat", "--loglevel=INFO", "-s", str(run_dir / "celerybeat-schedule"),
                                      "--pidfile", str(run_dir / "celerybeat.pid")]),
    ]  # fmt: skip


def serve(settings: Settings, options: ServeOptions) -> int:
    """Migrate the database, start the processes and look after them until Ctrl-C, SIGTERM or the API's exit."""
    from app.db_migrate import upgrade

    data_dirs = [settings.ARTIFACTS_DIR, settings.MODEL_CACHE_DIR]
    for url in (settings.DATABASE_URL, settings.CELERY_BROKER_URL, settings.CELERY_RESULT_BACKEND):
        if "sqlite:///" in url:
            data_dirs.append(Path(url.split("sqlite:///", 1)[1]).parent)
    for folder in data_dirs:
        folder.mkdir(parents=True, exist_ok=True)
    run_dir = settings.ARTIFACTS_DIR.parent / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    lock = lock_run_dir(run_dir)
    if lock is None:
        print(
            f"drumscribe serve: another `drumscribe serve` is running with {run_dir}; stop it first, "
            "or give this one other folders (XDG_DATA_HOME).",
            file=sys.stderr,
        )
        return 1
    with lock:
        (run_dir / "celerybeat.pid").unlink(missing_ok=True)  # a stale pid file from a crash would stop beat
        upgrade(settings.DATABASE_URL)
        # The embedded broker is this machine's alone: no consumer is running yet, so nobody holds a message.
        requeue_url = settings.CELERY_BROKER_URL if settings.CELERY_BROKER_URL.startswith("sqla+sqlite") else None
        if requeue_url:
            log.info("in_flight_requeued", queue="*", messages=requeue_in_flight(requeue_url))
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
        supervisor = Supervisor(
            served_processes(settings, options, run_dir), Supervision.from_settings(settings), env, requeue_url
        )
        signal.signal(signal.SIGTERM, supervisor.request_stop)
        signal.signal(signal.SIGINT, supervisor.request_stop)
        return supervisor.run(
            f"DrumScribe is running at http://{options.host}:{options.port}/ (API docs at /docs); Ctrl-C stops it."
        )


class Supervisor:
    """Starts the processes, restarts those that die, and stops them all."""

    def __init__(
        self, processes: list[ServedProcess], supervision: Supervision, env: dict[str, str], requeue_url: str | None
    ) -> None:
        self.processes = {process.name: process for process in processes}
        self.supervision = supervision
        self.env = env
        self.requeue_url = requeue_url
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.deaths: dict[str, list[float]] = {name: [] for name in self.processes}
        self.restart_at: dict[str, float] = {}
        self.stop_requests = 0
        self._die_with_serve = _die_with_serve_hook()

    def request_stop(self, _signum: int = 0, _frame: object = None) -> None:
        """Signal handler: the first request stops gracefully, a later one kills at once."""
        self.stop_requests += 1

    def run(self, banner: str) -> int:
        """Start every process and look after them; returns serve's exit status."""
        try:
            for process in self.processes.values():
                self._start(process)
            print(banner, file=sys.stderr, flush=True)
            return self._watch()
        finally:
            self._stop()

    def _watch(self) -> int:
        while not self.stop_requests:
            now = time.monotonic()
            for name, child in list(self.running.items()):
                if child.poll() is None:
                    continue
                del self.running[name]
                if not self._recover(self.processes[name], child, now):
                    return 1
            for name, moment in list(self.restart_at.items()):
                if moment <= now:
                    del self.restart_at[name]
                    self._start(self.processes[name])
            time.sleep(POLL_SECONDS)
        return 0

    def _recover(self, process: ServedProcess, child: subprocess.Popen[bytes], now: float) -> bool:
        """Clean up after a process that exited and schedule its restart; False when serve must stop."""
        log.error("process_exited", process=process.name, returncode=child.returncode)
        _kill_group(child)
        if process.essential:
            return False
        if process.queue and self.requeue_url:
            requeued = requeue_in_flight(self.requeue_url, [process.queue])
            log.warning("in_flight_requeued", queue=process.queue, messages=requeued)
        self.deaths[process.name].append(now)
        delay = self.supervision.restart_delay(self.deaths[process.name], now)
        if delay is None:
            log.error(
                "process_keeps_dying",
                process=process.name,
                deaths=self.supervision.max_deaths,
                window_s=self.supervision.death_window_s,
            )
            return False
        log.warning("process_restarting", process=process.name, delay_s=delay)
        self.restart_at[process.name] = now + delay
        return True

    def _start(self, process: ServedProcess) -> None:
        # A group of its own: a terminal's Ctrl-C reaches serve alone, and a worker dies with its pool.
        child = subprocess.Popen(process.command, env=self.env, process_group=0, preexec_fn=self._die_with_serve)
        self.running[process.name] = child
        log.info("process_started", process=process.name, pid=child.pid)

    def _stop(self) -> None:
        asked = self.stop_requests
        # SIGTERM to each leader only: Celery's pool processes would die of it mid-task.
        for child in self.running.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        if any(child.poll() is None for child in self.running.values()):
            print(
                f"Stopping: running stages get up to {self.supervision.stop_grace_s:.0f} s to finish; "
                "Ctrl-C again kills them now.",
                file=sys.stderr,
                flush=True,
            )
        deadline = time.monotonic() + self.supervision.stop_grace_s
        while (
            any(child.poll() is None for child in self.running.values())
            and time.monotonic() < deadline
            and self.stop_requests <= asked
        ):
            time.sleep(POLL_SECONDS)
        for child in self.running.values():
            _kill_group(child)
            child.wait()


def _kill_group(child: subprocess.Popen[bytes]) -> None:
    """SIGKILL every process left in the group `child` leads (its pool processes, when it is a worker)."""
    with contextlib.suppress(ProcessLookupError):  # the group is empty
        os.killpg(child.pid, signal.SIGKILL)


def _die_with_serve_hook() -> Callable[[], None] | None:
    """On Linux, a function for Popen's preexec_fn that makes the child get SIGKILL when serve dies."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    serve_pid = os.getpid()

    def die_with_serve() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != serve_pid:
            os._exit(1)  # serve died before the request took effect

    return die_with_serve


def lock_run_dir(run_dir: Path) -> IO[str] | None:
    """An open, exclusively locked file in `run_dir`; None when another serve holds it."""
    lock = (run_dir / "serve.lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        return None
    return lock
