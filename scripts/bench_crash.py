"""Crash tests: N jobs through the real services while a process or a server is killed or restarted.

Every scenario starts from a fresh database and broker and runs the processes the compose stack runs
(uvicorn, a `celery worker` for each queue, celery beat) against a PostgreSQL and a Redis that this
script starts itself on free loopback ports, so that it may restart them; the machine's own servers are
never touched. The `serve-kill` scenario runs `drumscribe serve` instead (SQLite, embedded broker).
Songs are rendered grooves, the separator is HPSS and the drum-hit model the bundled one: nothing is
downloaded.

The jobs are submitted through the API; the fault is injected while a job is in separate_drums. Then
the script waits until every job is completed or failed (at most --timeout seconds, or --idle seconds in
which no job changes) and counts per scenario: completed; re-run (a stage of the job started more than
once, from the workers' `stage_start` log events); failed (each with its error message); lost (neither
completed nor failed when the wait ends). Lost jobs are then handed to the reaper
(app.jobs.maintenance.reap_stalled_jobs with JOB_STALL_MINUTES=3): the table says how many only the
reaper ended, which in production happens JOB_STALL_MINUTES (40) after the crash, and how many it
leaves pending forever. Exits 1 when a job was lost or a scenario could not run.

    .venv/bin/python scripts/bench_crash.py [--jobs 6] [--scenario baseline pool-child ...] [--keep]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import redis

ROOT = Path(__file__).resolve().parents[1]
BACKEND = ROOT / "backend"

FAULT_STAGE = "separate_drums"
FINISHED = ("completed", "failed")
# Redis hands an unacknowledged task to another worker after this many seconds. The default (1800)
# is longer than a run, so a task held by a killed worker could never come back within it.
VISIBILITY_TIMEOUT_S = 20
# The shortest the settings allow with that visibility timeout (20 s + 120 s for a worker to take it up).
REAPER_STALL_MINUTES = 3

SCENARIOS: dict[str, str] = {
    "baseline": "no fault",
    "pool-child": f"kill -9 of the heavy worker's pool process during {FAULT_STAGE}",
    "worker-main": f"kill -9 of the heavy worker's main process during {FAULT_STAGE}, then the worker restarted",
    "broker-restart": f"Redis stopped (SIGTERM) during {FAULT_STAGE}, then started again",
    "db-restart": f"PostgreSQL stopped (pg_ctl -m fast) during {FAULT_STAGE}, then started again",
    "serve-kill": f"kill -9 of `drumscribe serve` and its processes during {FAULT_STAGE}, then serve started again",
}

# What ends one scenario (reported as "could not run") without ending the others.
SCENARIO_ERRORS = (
    RuntimeError,
    TimeoutError,
    OSError,
    subprocess.SubprocessError,
    httpx.HTTPError,
    psycopg.Error,
    redis.RedisError,
    sqlite3.Error,
)


def main() -> int:
    """Run the chosen scenarios, print one table, and exit 1 when a job was lost."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=6, help="jobs per scenario (default 6)")
    parser.add_argument("--scenario", nargs="+", choices=list(SCENARIOS), default=list(SCENARIOS))
    parser.add_argument("--song-seconds", type=float, default=30.0, help="length of each song (default 30)")
    parser.add_argument("--downtime", type=float, default=10.0, help="seconds a killed part stays down (default 10)")
    parser.add_argument("--timeout", type=float, default=300.0, help="longest wait after the fault (default 300)")
    parser.add_argument("--idle", type=float, default=150.0, help="stop waiting when no job changed for this long")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs) and say where")
    args = parser.parse_args()
    for tool in ("redis-server", "ffmpeg"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed: apt-get install {tool}")
    # This tree's backend, in this process and in every process it starts, whatever is installed.
    sys.path.insert(0, str(BACKEND))

    work = Path(tempfile.mkdtemp(prefix="drumscribe-crash-"))
    cleanup = Cleanup()
    signal.signal(signal.SIGTERM, _raise_interrupt)
    results: list[Result] = []
    try:
        songs = render_songs(args.jobs, args.song_seconds, work / "songs")
        postgres, broker = None, None
        if any(name != "serve-kill" for name in args.scenario):
            # Registered before they start, so that an interrupted start is cleaned up too.
            postgres = cleanup.add_postgres(Postgres(Path(tempfile.mkdtemp(prefix="drumscribe-crash-pg-"))))
            postgres.create()
            broker = cleanup.add_redis(RedisServer(work / "redis"))
            broker.start()
        for name in args.scenario:
            _progress(name, f"{SCENARIOS[name]}; {args.jobs} jobs")
            scenario = Scenario(name, work / name, songs, args, cleanup, postgres, broker)
            try:
                results.append(scenario.run())
            except SCENARIO_ERRORS as exc:
                results.append(Result(name, args.jobs, error=f"{type(exc).__name__}: {exc}"))
                _progress(name, f"could not run: {str(exc).splitlines()[0]}")
            finally:
                cleanup.stop_services()
    except KeyboardInterrupt:
        print("bench_crash: interrupted; stopping everything it started", file=sys.stderr)
        return 130
    finally:
        cleanup.everything()
        if args.keep:
            print(f"logs kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print_report(results, args)
    return 1 if any(r.error or r.lost for r in results) else 0


def _raise_interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _progress(scenario: str, message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {scenario}: {message}", file=sys.stderr, flush=True)


# --- servers of our own -------------------------------------------------------------------------------


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Postgres:
    """A PostgreSQL cluster in a temporary folder, from Debian's packages, on a free loopback port."""

    def __init__(self, folder: Path) -> None:
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
        if not versions:
            raise RuntimeError("PostgreSQL is not installed under /usr/lib/postgresql: apt-get install postgresql")
        self.bin = versions[-1]
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        # initdb refuses to run as root; the compose stack's postgres does not run as root either.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def create(self) -> None:
        """initdb and start."""
        if self.as_user:
            shutil.chown(self.folder, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()

    def _run(self, program: str, *args: str) -> None:
        subprocess.run([*self.as_user, str(self.bin / program), *args], cwd=self.folder, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)  # fmt: skip

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "server.log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """pg_ctl stop: `fast` is what the postgres image does on `docker stop` (SIGINT)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        """libpq URL of `database`."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def fresh_database(self) -> str:
        """Create an empty database; returns its SQLAlchemy URL."""
        name = f"crash_{secrets.token_hex(4)}"
        with psycopg.connect(self.url(), autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name).replace("postgresql://", "postgresql+psycopg://", 1)


class RedisServer:
    """A redis-server on a free loopback port, appending to its AOF as the compose stack's does."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True)
        self.folder = folder
        self.port = free_port()
        self.popen: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL, without a database number."""
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the server (with whatever it saved before) and wait for PONG."""
        self.popen = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.folder),
             "--appendonly", "yes", "--save", "", "--logfile", str(self.folder / "redis.log")],
            stdout=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url, socket_timeout=2)
        wait_for(lambda: _answers(client.ping), 30, "Redis to answer")

    def stop(self) -> None:
        """SIGTERM, as `docker stop` sends: Redis flushes its AOF and exits."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            self.popen.wait(timeout=30)

    def flush(self) -> None:
        """Empty every database: a fresh broker."""
        redis.Redis.from_url(self.url, socket_timeout=5).flushall()


def _answers(call: Callable[[], object]) -> bool:
    try:
        call()
    except Exception:
        return False
    return True


# --- DrumScribe processes ------------------------------------------------------------------------------


@dataclass
class Service:
    """One DrumScribe process in its own process group, appending its output to a log file."""

    name: str
    command: list[str]
    env: dict[str, str]
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start (or start again) the command in the backend folder."""
        with self.log_path.open("ab") as sink:
            self.popen = subprocess.Popen(self.command, cwd=BACKEND, env=self.env, stdout=sink,
                                          stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip

    @property
    def pid(self) -> int:
        """PID of the process started last."""
        assert self.popen is not None
        return self.popen.pid

    def log(self) -> str:
        """Everything every incarnation printed."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def children(self) -> list[int]:
        """PIDs of its direct children (a celery worker's pool processes)."""
        out = subprocess.run(["pgrep", "-P", str(self.pid)], capture_output=True, text=True, check=False)
        return [int(p) for p in out.stdout.split()]

    def signal_group(self, signum: int) -> None:
        """Send `signum` to the process and everything it started."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signum)

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM to the group, SIGKILL after `grace` seconds."""
        if self.popen is None:
            return
        self.signal_group(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=grace)
        self.signal_group(signal.SIGKILL)
        self.popen.wait()


@dataclass
class Cleanup:
    """Everything this script started, so that it is stopped even on Ctrl-C or an error."""

    services: list[Service] = field(default_factory=list)
    postgres: Postgres | None = None
    redis: RedisServer | None = None

    def add_postgres(self, server: Postgres) -> Postgres:
        self.postgres = server
        return server

    def add_redis(self, server: RedisServer) -> RedisServer:
        self.redis = server
        return server

    def stop_services(self) -> None:
        """Stop the DrumScribe processes of a scenario."""
        while self.services:
            self.services.pop().stop()

    def everything(self) -> None:
        """Stop the processes and both servers, and remove PostgreSQL's folder."""
        self.stop_services()
        if self.redis is not None and self.redis.popen is not None:
            self.redis.popen.kill()
            self.redis.popen.wait()
        if self.postgres is not None:
            with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
                self.postgres.stop("immediate")
            shutil.rmtree(self.postgres.folder, ignore_errors=True)


def wait_for(check: Callable[[], bool], timeout: float, what: str, service: Service | None = None) -> None:
    """Poll `check` until true; a TimeoutError (with the service's last log lines) when it never is."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if service is not None and service.popen is not None and service.popen.poll() is not None:
            raise RuntimeError(f"{service.name} exited while waiting for {what}:\n{service.log()[-3000:]}")
        time.sleep(0.25)
    tail = service.log()[-3000:] if service else ""
    raise TimeoutError(f"waited {timeout:.0f} s for {what}\n{tail}")


def _running(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/api/v1/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


# --- songs, logs and job states ------------------------------------------------------------------------


def render_songs(count: int, seconds: float, folder: Path) -> list[Path]:
    """`count` grooves at different tempi, `seconds` long, as wav files."""
    import soundfile as sf

    from app.pipeline.constants import SAMPLE_RATE
    from app.synth.grooves import FUNK_SIXTEENTHS, ROCK_BEAT, groove_from_pattern
    from app.synth.kits import default_sample_kit, render_groove

    folder.mkdir(parents=True)
    kit = default_sample_kit()
    songs = []
    for i in range(count):
        bpm = 90.0 + 7 * i
        bars = int(seconds * bpm / 240) + 1
        pattern = FUNK_SIXTEENTHS if i % 2 else ROCK_BEAT
        audio = render_groove(groove_from_pattern(pattern, bpm=bpm, bars=bars, start_s=0.3), kit)
        path = folder / f"groove-{i + 1}.wav"
        sf.write(path, audio[: int(seconds * SAMPLE_RATE)], SAMPLE_RATE)
        songs.append(path)
    return songs


def log_events(text: str) -> list[dict[str, Any]]:
    """The JSON log lines (structlog's) of a log, in order."""
    events = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return events


def open_stages(text: str, stage: str) -> list[str]:
    """Job ids whose `stage` started in this log and has not yet ended (done, failed, skipped or cancelled)."""
    running: dict[str, None] = {}
    for event in log_events(text):
        if event.get("stage") != stage or "job_id" not in event:
            continue
        name = str(event.get("event"))
        if name == "stage_start":
            running[event["job_id"]] = None
        elif name in ("stage_done", "job_cancelled", "job_skipped") or name.endswith("_failed"):
            running.pop(event["job_id"], None)
    return list(running)


def stage_starts(text: str) -> Counter[tuple[str, str]]:
    """How often each (job id, stage) started."""
    return Counter(
        (e["job_id"], e["stage"]) for e in log_events(text) if e.get("event") == "stage_start" and "job_id" in e
    )


JobRows = dict[str, dict[str, Any]]
JOB_COLUMNS = ("id", "status", "stage_progress", "updated_at", "error_detail", "failed_stage", "worker")
"""error_detail: the operator's words for a failure (error_message is the musician's)."""
SELECT_JOBS = f"SELECT {', '.join(JOB_COLUMNS)} FROM jobs"


def read_postgres(url: str) -> Callable[[], JobRows]:
    """A reader of the jobs table in PostgreSQL."""
    libpq = url.replace("postgresql+psycopg://", "postgresql://", 1)

    def read() -> JobRows:
        with psycopg.connect(libpq, connect_timeout=3) as conn:
            cursor = conn.execute(SELECT_JOBS)
            return _rows(cursor.fetchall())

    return read


def read_sqlite(path: Path) -> Callable[[], JobRows]:
    """A reader of the jobs table in `drumscribe serve`'s SQLite file."""

    def read() -> JobRows:
        conn = sqlite3.connect(path, timeout=5)
        try:
            cursor = conn.execute(SELECT_JOBS)
            return _rows(cursor.fetchall())
        finally:
            conn.close()

    return read


def _rows(rows: list[Any]) -> JobRows:
    return {row[0]: dict(zip(JOB_COLUMNS, row, strict=True)) for row in rows}


# --- one scenario --------------------------------------------------------------------------------------


@dataclass
class Result:
    """What became of a scenario's jobs."""

    name: str
    jobs: int
    completed: int = 0
    rerun: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    reaped: int = 0
    fault: str = ""
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""


class Scenario:
    """One scenario: start the services, submit the jobs, inject the fault, wait, count."""

    def __init__(
        self,
        name: str,
        folder: Path,
        songs: list[Path],
        args: argparse.Namespace,
        cleanup: Cleanup,
        postgres: Postgres | None,
        broker: RedisServer | None,
    ) -> None:
        self.name = name
        self.folder = folder
        self.songs = songs
        self.args = args
        self.cleanup = cleanup
        self.postgres = postgres
        self.broker = broker
        self.services: dict[str, Service] = {}
        self.api_url = ""
        self.read_jobs: Callable[[], JobRows] = dict
        self.env: dict[str, str] = {}
        self.tokens: dict[str, dict[str, str]] = {}
        folder.mkdir(parents=True)

    def run(self) -> Result:
        """Run the scenario from start to count."""
        if self.name == "serve-kill":
            self._start_serve()
        else:
            self._start_stack()
        jobs = self._submit()
        started = time.monotonic()
        result = Result(self.name, len(jobs))
        if self.name != "baseline":
            result.fault = self._inject_fault()
            _progress(self.name, result.fault)
        rows, last_change = self._wait(set(jobs))
        unfinished = [job_id for job_id in jobs if rows.get(job_id, {}).get("status") not in FINISHED]
        result.seconds = time.monotonic() - started
        if unfinished:
            rows, result.reaped = self._reap(unfinished, last_change, rows)
        self._count(jobs, rows, unfinished, result)
        result.notes += self._api_answers(jobs)
        return result

    # services

    def _base_env(self) -> dict[str, str]:
        from app.core.config import Settings

        # None of the caller's DrumScribe settings: each scenario says what it runs with.
        env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
        env.update(
            PYTHONPATH=str(BACKEND),
            SEPARATOR="hpss",
            LOG_LEVEL="INFO",
            LOG_JSON="true",
            TF_CPP_MIN_LOG_LEVEL="2",
        )
        return env

    def _service(self, name: str, command: list[str]) -> Service:
        service = Service(name, command, self.env, self.folder / f"{name}.log")
        self.cleanup.services.append(service)
        self.services[name] = service
        service.start()
        return service

    def _start_stack(self) -> None:
        from app.db_migrate import upgrade

        assert self.postgres is not None and self.broker is not None
        database_url = self.postgres.fresh_database()
        self.broker.flush()
        upgrade(database_url)  # the api service runs `alembic upgrade head` before uvicorn
        self.env = {
            **self._base_env(),
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": f"{self.broker.url}/0",
            "CELERY_RESULT_BACKEND": f"{self.broker.url}/1",
            "ARTIFACTS_DIR": str(self.folder / "artifacts"),
            "MODEL_CACHE_DIR": str(self.folder / "models"),
            "BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT_S),
        }
        self.read_jobs = read_postgres(database_url)
        port = free_port()
        self.api_url = f"http://127.0.0.1:{port}"
        python = sys.executable
        celery = [python, "-m", "celery", "-A", "app.worker"]
        # docker-compose.yml's command lines; the default queue gets 2 processes, not 4, on a small machine.
        api = self._service("api", [python, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port",
                                    str(port), "--proxy-headers"])  # fmt: skip
        default = self._service("worker-default", [*celery, "worker", "-Q", "default", "-n", "default@%h",
                                "--concurrency=2", "--max-memory-per-child=512000", "--loglevel=INFO"])  # fmt: skip
        heavy = self._service("worker-heavy", [*celery, "worker", "-Q", "heavy-compute", "-n", "heavy@%h",
                              "--concurrency=1", "--max-memory-per-child=2048000", "--loglevel=INFO"])  # fmt: skip
        self._service("celery-beat", [*celery, "beat", "--loglevel=INFO", f"--pidfile={self.folder / 'beat.pid'}",
                                      f"--schedule={self.folder / 'beat-schedule'}"])  # fmt: skip
        wait_for(lambda: _healthy(self.api_url), 120, "the API to become healthy", api)
        for worker in (default, heavy):
            wait_for(lambda w=worker: " ready." in w.log(), 240, f"{worker.name} to be ready", worker)  # type: ignore[misc]

    def _start_serve(self) -> None:
        data = self.folder / "data"
        self.env = {**self._base_env(), "XDG_DATA_HOME": str(data)}
        self.read_jobs = read_sqlite(data / "drumscribe" / "drumscribe.sqlite")
        port = free_port()
        self.api_url = f"http://127.0.0.1:{port}"
        serve = self._service("serve", [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port",
                                        str(port)])  # fmt: skip
        self._wait_serve_ready(serve, 1)

    def _wait_serve_ready(self, serve: Service, incarnation: int) -> None:
        wait_for(lambda: _healthy(self.api_url), 120, "drumscribe serve to answer", serve)
        # Two workers report ready per start of serve.
        wait_for(lambda: serve.log().count(" ready.") >= 2 * incarnation, 240, "serve's workers to be ready", serve)

    def _heavy_log(self) -> Service:
        return self.services["serve" if self.name == "serve-kill" else "worker-heavy"]

    # jobs

    def _submit(self) -> list[str]:
        ids = []
        for song in self.songs:
            # One user per job: the per-user quota is not what is tested here.
            headers = {"Authorization": f"Bearer {secrets.token_urlsafe(24)}"}
            with song.open("rb") as f:
                response = httpx.post(f"{self.api_url}/api/v1/jobs", files={"file": (song.name, f, "audio/wav")},
                                      headers=headers, timeout=60)  # fmt: skip
            if response.status_code != 202:
                raise RuntimeError(f"POST /api/v1/jobs answered {response.status_code}: {response.text[:300]}")
            ids.append(response.json()["id"])
            self.tokens[ids[-1]] = headers
        _progress(self.name, f"{len(ids)} jobs submitted")
        return ids

    def _wait(self, jobs: set[str]) -> tuple[JobRows, float]:
        """Poll the jobs table until every job is finished, or --timeout, or --idle seconds without change."""
        deadline = time.monotonic() + self.args.timeout
        last_change = time.monotonic()
        seen: dict[str, tuple[Any, ...]] = {}
        rows: JobRows = {}
        unreadable = 0
        while True:
            try:
                rows = self.read_jobs()
            except (psycopg.Error, sqlite3.Error):
                unreadable += 1
            else:
                state = {job_id: (r["status"], r["stage_progress"], str(r["updated_at"])) for job_id, r in rows.items()}
                if state != seen:
                    seen, last_change = state, time.monotonic()
                if all(rows.get(job_id, {}).get("status") in FINISHED for job_id in jobs):
                    return rows, last_change
            now = time.monotonic()
            if now > deadline or now - last_change > self.args.idle:
                why = "timeout" if now > deadline else f"no job changed for {self.args.idle:.0f} s"
                _progress(self.name, f"stopped waiting ({why})")
                return rows, last_change
            time.sleep(1.0)

    def _reap(self, unfinished: list[str], last_change: float, rows: JobRows) -> tuple[JobRows, int]:
        """Run the reaper once the stuck jobs have not changed for REAPER_STALL_MINUTES; how many it ended."""
        time.sleep(max(0.0, last_change + REAPER_STALL_MINUTES * 60 + 2 - time.monotonic()))
        code = (
            "from app.core.config import Settings\n"
            "from app.jobs.maintenance import reap_stalled_jobs\n"
            "print(reap_stalled_jobs(settings=Settings()))\n"
        )
        env = {
            **self.env,
            "JOB_STALL_MINUTES": str(REAPER_STALL_MINUTES),
            "BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT_S),
        }
        reaper = subprocess.run([sys.executable, "-c", code], cwd=BACKEND, env=env, capture_output=True, timeout=120)
        if reaper.returncode != 0:
            _progress(self.name, f"the reaper failed: {reaper.stderr.decode(errors='replace')[-500:]}")
            return rows, 0
        after = self.read_jobs()
        reaped = sum(1 for job_id in unfinished if after.get(job_id, {}).get("status") == "failed")
        _progress(self.name, f"{len(unfinished)} jobs unfinished; the reaper failed {reaped} of them")
        return after, reaped

    def _count(self, jobs: list[str], rows: JobRows, unfinished: list[str], result: Result) -> None:
        starts = Counter[tuple[str, str]]()
        for service in self.services.values():
            starts += stage_starts(service.log())
        for job_id in jobs:
            row = rows.get(job_id, {})
            again = sorted(f"{stage} ×{n}" for (j, stage), n in starts.items() if j == job_id and n > 1)
            if again:
                result.rerun.append(f"{job_id[:8]}: {', '.join(again)}")
            if job_id in unfinished:
                result.lost.append(f"{job_id[:8]}: {_lost_reason(row)}")
            elif row.get("status") == "completed":
                result.completed += 1
            else:
                result.failed.append(f"{job_id[:8]} ({row.get('failed_stage')}): {row.get('error_detail')}")

    def _api_answers(self, jobs: list[str]) -> list[str]:
        """Whether the API still answers for every job (a hung API loses jobs for their owners)."""
        failures = []
        for job_id in jobs:
            try:
                response = httpx.get(f"{self.api_url}/api/v1/jobs/{job_id}", headers=self.tokens[job_id], timeout=10)
                if response.status_code != 200:
                    failures.append(f"{response.status_code}")
            except httpx.HTTPError as exc:
                failures.append(type(exc).__name__)
        if failures:
            return [f"afterwards GET /api/v1/jobs/{{id}} failed for {len(failures)} of {len(jobs)}: {failures[0]}"]
        return []

    # faults

    def _inject_fault(self) -> str:
        job_id = self._job_in_fault_stage()
        short = f"{FAULT_STAGE} of job {job_id[:8]}"
        downtime = self.args.downtime
        if self.name == "pool-child":
            heavy = self.services["worker-heavy"]
            pool = heavy.children()
            for pid in pool:
                os.kill(pid, signal.SIGKILL)
            return f"killed pool process {', '.join(map(str, pool))} during {short}"
        if self.name == "worker-main":
            heavy = self.services["worker-heavy"]
            pool = heavy.children()
            heavy.popen.kill()  # type: ignore[union-attr]
            heavy.popen.wait()  # type: ignore[union-attr]
            time.sleep(1.0)
            survivors = [pid for pid in pool if _running(pid)]
            heavy.signal_group(signal.SIGKILL)  # a container's end takes every process in it
            time.sleep(downtime)
            incarnations = heavy.log().count(" ready.")
            heavy.start()
            wait_for(lambda: heavy.log().count(" ready.") > incarnations, 240, "the heavy worker to restart", heavy)
            outlived = f"; pool process(es) {survivors} outlived it" if survivors else ""
            return f"killed the heavy worker's main process during {short}{outlived}; restarted after {downtime:g} s"
        if self.name == "broker-restart":
            assert self.broker is not None
            self.broker.stop()
            time.sleep(downtime)
            self.broker.start()
            return f"stopped Redis during {short}; started again after {downtime:g} s"
        if self.name == "db-restart":
            assert self.postgres is not None
            self.postgres.stop("fast")
            time.sleep(downtime)
            self.postgres.start()
            return f"stopped PostgreSQL during {short}; started again after {downtime:g} s"
        serve = self.services["serve"]
        serve.signal_group(signal.SIGKILL)
        serve.popen.wait()  # type: ignore[union-attr]
        time.sleep(downtime)
        serve.start()
        self._wait_serve_ready(serve, 2)
        return f"killed serve and its processes (kill -9 of the group) during {short}; started again"

    def _job_in_fault_stage(self) -> str:
        """Wait until a job is one second into FAULT_STAGE; its id."""
        log = self._heavy_log()
        found: list[str] = []

        def running() -> bool:
            before = open_stages(log.log(), FAULT_STAGE)
            if not before:
                return False
            time.sleep(1.0)
            found[:] = [j for j in open_stages(log.log(), FAULT_STAGE) if j in before]
            return bool(found)

        wait_for(running, 240, f"a job to reach {FAULT_STAGE}", log)
        return found[0]


def _lost_reason(row: dict[str, Any]) -> str:
    status = row.get("status")
    if status == "failed":
        return f"failed by the reaper: {row.get('error_detail')}"
    if row.get("worker"):
        return f"still {status}, held by {row['worker']}"
    # The reaper fails a job that no worker holds only when it is older than ARTIFACT_TTL_HOURS.
    return f"still {status}, no worker holds it: pending until ARTIFACT_TTL_HOURS (24 h) pass"


# --- report ---------------------------------------------------------------------------------------------


def print_report(results: list[Result], args: argparse.Namespace) -> None:
    """The command, the set-up, one markdown table and the details of every failed, lost or re-run job."""
    print()
    print(f"Command: .venv/bin/python scripts/{Path(__file__).name} {' '.join(sys.argv[1:])}".rstrip())
    print(
        f"Set-up: {args.jobs} jobs per scenario, {args.song_seconds:g} s rendered grooves (wav), SEPARATOR=hpss, "
        "bundled drum-hit model; uvicorn, celery worker -Q default --concurrency=2, -Q heavy-compute "
        "--concurrency=1 and celery beat on this script's own PostgreSQL and Redis (appendonly), or "
        "`drumscribe serve` (SQLite, embedded broker) for serve-kill. "
        f"Redis mode runs with BROKER_VISIBILITY_TIMEOUT={VISIBILITY_TIMEOUT_S} (set by this script so that a "
        "killed worker's task is re-delivered within the run; the default is 1800). "
        f"Wait: until every job is completed or failed, at most {args.timeout:g} s after the fault, or "
        f"{args.idle:g} s with no job changing; then the reaper with JOB_STALL_MINUTES={REAPER_STALL_MINUTES}. "
        f"{os.cpu_count()} CPUs."
    )
    print()
    print("| scenario | fault | jobs | completed | re-run | failed | lost (ended only by the reaper) | seconds |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        if r.error:
            print(f"| {r.name} | {SCENARIOS[r.name]} | {r.jobs} | – | – | – | could not run | – |")
            continue
        lost = f"{len(r.lost)} ({r.reaped})" if r.lost else "0"
        print(f"| {r.name} | {SCENARIOS[r.name]} | {r.jobs} | {r.completed} | {len(r.rerun)} | {len(r.failed)} "
              f"| {lost} | {r.seconds:.0f} |")  # fmt: skip
    print()
    for r in results:
        lines = [f"fault: {r.fault}"] if r.fault else []
        lines += [f"could not run: {r.error.splitlines()[0]}"] if r.error else []
        lines += [f"re-run {x}" for x in r.rerun] + [f"failed {x}" for x in r.failed] + [f"lost {x}" for x in r.lost]
        lines += r.notes
        if lines:
            print(f"{r.name}:")
            for line in lines:
                print(f"  - {line}")


if __name__ == "__main__":
    sys.exit(main())
