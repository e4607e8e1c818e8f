"""What compose runs is what the tests run: each backend service's own command line, outside Docker,
against this machine's PostgreSQL and Redis, judged healthy by the compose file's own health check."""

from __future__ import annotations

import os
import secrets
import shlex
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from tests.conftest import ANNOTEATOR_H5
from tests.integration.stack import BACKEND, Stack, free_port, fresh_database, require_redis, wait_for

pytestmark = pytest.mark.integration

ROOT = BACKEND.parent
SERVICES = ("api", "worker-default", "worker-heavy", "celery-beat")


def health_command(check: list[str]) -> list[str]:
    """A compose health check as a local command: CMD runs as is, CMD-SHELL through sh; $$ is compose's $."""
    kind, *rest = check
    if kind == "CMD-SHELL":
        return ["sh", "-c", rest[0].replace("$$", "$")]
    return [part.replace("$$", "$") for part in rest]


def test_each_service_command_becomes_healthy(tmp_path: Path) -> None:
    # The file as compose itself resolves it (variables interpolated, anchors merged).
    resolved = subprocess.run(
        ["docker-compose", "-f", "docker-compose.yml", "config"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    services: dict[str, Any] = yaml.safe_load(resolved.stdout)["services"]
    redis_base = require_redis()
    broker_db = 2 + secrets.randbelow(12)
    port = free_port()
    hostname = socket.gethostname()
    with fresh_database() as database_url:
        env = {key: str(value) for key, value in services["api"]["environment"].items()}
        # Only the addresses change: this machine's servers instead of the compose network's.
        env.update(
            DATABASE_URL=database_url,
            CELERY_BROKER_URL=f"{redis_base}/{broker_db}",
            CELERY_RESULT_BACKEND=f"{redis_base}/{broker_db + 1}",
            MODEL_CACHE_DIR=str(tmp_path / "models"),
            ARTIFACTS_DIR=str(tmp_path / "artifacts"),
            MODEL_URI=ANNOTEATOR_H5.as_uri(),
            SEPARATOR="none",
            OTEL_EXPORTER_OTLP_ENDPOINT="",
        )
        full_env = {
            **os.environ,
            **env,
            "HOSTNAME": hostname,
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        }
        full_env.pop("OTEL_EXPORTER_OTLP_ENDPOINT")
        Path("/tmp/celerybeat.pid").unlink(missing_ok=True)
        stack = Stack(env=full_env, folder=tmp_path)
        redis.Redis.from_url(f"{redis_base}/{broker_db}").flushdb()
        try:
            for name in SERVICES:
                # The only change: the API listens on a free port instead of 8000, here and in its check.
                command = [part.replace("--port 8000", f"--port {port}") for part in services[name]["command"]]
                process = stack.start(name, command)
                check = [
                    p.replace("localhost:8000", f"localhost:{port}")
                    for p in health_command(services[name]["healthcheck"]["test"])
                ]

                def healthy(check: list[str] = check) -> bool:
                    return (
                        subprocess.run(check, cwd=BACKEND, env=full_env, capture_output=True, timeout=60).returncode
                        == 0
                    )

                wait_for(healthy, 180, f"{name} to pass its compose health check {shlex.join(check)}", process)
        finally:
            stack.stop()
            redis.Redis.from_url(f"{redis_base}/{broker_db}").flushdb()
            Path("/tmp/celerybeat.pid").unlink(missing_ok=True)
