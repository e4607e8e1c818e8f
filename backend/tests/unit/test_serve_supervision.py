"""How `drumscribe serve` looks after its processes: restarts, giving up, the stop grace, whole process groups."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from app.core.config import Settings
from app.serve import ServedProcess, ServeOptions, Supervision, Supervisor, lock_run_dir, served_processes

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def _wait(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_stop_gives_running_stages_the_manuals_300_seconds() -> None:
    assert Supervision.from_settings(Settings()).stop_grace_s == 300
    assert Supervision.from_settings(Settings(SERVE_STOP_GRACE_SECONDS=30)).stop_grace_s == 30


def test_restarts_back_off_and_give_up_at_five_deaths_in_a_minute() -> None:
    policy = Supervision(stop_grace_s=1)
    assert policy.restart_delay([100.0], now=100.0) == 1
    assert policy.restart_delay([100.0, 101.0, 103.0], now=103.0) == 4
    assert policy.restart_delay([100.0, 101.0, 103.0, 107.0], now=107.0) == 8
    assert policy.restart_delay([100.0, 101.0, 103.0, 107.0, 115.0], now=115.0) is None
    # Deaths an hour apart never add up.
    assert policy.restart_delay([0.0, 3600.0, 7200.0, 10800.0, 14400.0], now=14400.0) == 1


def test_only_the_api_and_the_queues_workers_are_essential_or_requeued(tmp_path: Path) -> None:
    processes = {p.name: p for p in served_processes(Settings(), ServeOptions("127.0.0.1", 8000, 2), tmp_path)}
    assert [name for name, p in processes.items() if p.essential] == ["api"]
    assert processes["worker-default"].queue == "default"
    assert processes["worker-heavy"].queue == "heavy-compute"
    assert processes["celery-beat"].queue is None


def test_a_dying_worker_is_restarted_until_it_keeps_dying(tmp_path: Path) -> None:
    starts = tmp_path / "starts"
    crasher = ServedProcess(
        "worker", [sys.executable, "-c", f"open({str(starts)!r}, 'a').write('x'); raise SystemExit(3)"]
    )
    policy = Supervision(stop_grace_s=5, max_deaths=3, death_window_s=60, first_backoff_s=0.05)
    supervisor = Supervisor([ServedProcess("api", SLEEPER, essential=True), crasher], policy, dict(os.environ), None)
    started = time.monotonic()
    assert supervisor.run("test") == 1
    assert starts.read_text() == "xxx", "started, restarted twice, then given up"
    assert time.monotonic() - started < 5, "the API stopped at SIGTERM, without waiting for the grace"


def test_a_dead_workers_group_is_killed_and_a_stop_waits_for_the_grace(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    # A worker that leaves a pool-like child in its group; a second process that ignores SIGTERM.
    worker = ServedProcess(
        "worker",
        [sys.executable, "-c", "import subprocess, sys, time; "
         "c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
         f"open({str(pids)!r}, 'a').write(f'{{c.pid}}\\n'); time.sleep(60)"],
        queue="q",
    )  # fmt: skip
    stubborn = ServedProcess(
        "stubborn", [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                     "time.sleep(60)"]
    )  # fmt: skip
    policy = Supervision(stop_grace_s=1.5, first_backoff_s=0.05)
    supervisor = Supervisor(
        [ServedProcess("api", SLEEPER, essential=True), worker, stubborn], policy, {**os.environ}, None
    )
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(supervisor.run("test")))
    thread.start()
    try:
        assert _wait(lambda: pids.is_file() and pids.read_text().count("\n") == 1, 15)
        first_leader = supervisor.running["worker"].pid
        first_child = int(pids.read_text().split()[0])
        os.kill(first_leader, 9)
        assert _wait(lambda: pids.read_text().count("\n") == 2, 15), "the worker was restarted"
        # SIGKILL takes effect asynchronously: on a busy machine the child may take a moment to go.
        assert _wait(lambda: not _alive(first_child), 5), "the dead worker's child was killed with its group"
        assert supervisor.running["worker"].pid != first_leader
        assert supervisor.running["api"].poll() is None, "a worker's death leaves the API running"
        children = list(supervisor.running.values())
        second_child = int(pids.read_text().split()[1])
    finally:
        stopping = time.monotonic()
        supervisor.request_stop()
        thread.join(30)
    assert result == [0]
    assert 1.3 < time.monotonic() - stopping < 10, "the stubborn process got the grace, then SIGKILL"
    assert all(child.poll() is not None for child in children)
    assert _wait(lambda: not _alive(second_child), 5)


def test_a_second_stop_request_kills_at_once() -> None:
    stubborn = ServedProcess(
        "stubborn", [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                     "time.sleep(60)"], essential=True
    )  # fmt: skip
    supervisor = Supervisor([stubborn], Supervision(stop_grace_s=300), {**os.environ}, None)
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(supervisor.run("test")))
    thread.start()
    assert _wait(lambda: "stubborn" in supervisor.running, 10)
    time.sleep(0.5)
    supervisor.request_stop()
    time.sleep(0.5)
    assert thread.is_alive(), "the first request waits for the grace"
    stopping = time.monotonic()
    supervisor.request_stop()
    thread.join(10)
    assert not thread.is_alive() and time.monotonic() - stopping < 3
    assert result == [0]


def test_a_second_serve_on_the_same_folders_is_refused(tmp_path: Path) -> None:
    # Its start-up requeue would hand the first one's running tasks out a second time.
    first = lock_run_dir(tmp_path)
    assert first is not None
    assert lock_run_dir(tmp_path) is None
    first.close()
    assert lock_run_dir(tmp_path) is not None
