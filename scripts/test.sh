#!/usr/bin/env bash
# Runs every test of DrumScribe, installing what they need first: the backend's lint, unit and
# integration tests (real PostgreSQL, Redis and celery workers), then the web UI's (scripts/test-frontend.sh).
# Arguments go to pytest and run only the backend tests, e.g. scripts/test.sh -k ingest
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# docker-compose validates the compose files offline (there is no Docker engine to run them here).
"$root/scripts/bootstrap.sh" docker-compose
# shellcheck source=scripts/test-services.sh
. "$root/scripts/test-services.sh"

cd "$root/backend"
export TF_CPP_MIN_LOG_LEVEL=2
# The scripts have no pyproject of their own: the backend's settings lint them too.
"$root/.venv/bin/ruff" check --config pyproject.toml app tests ../scripts
"$root/.venv/bin/ruff" format --config pyproject.toml --check app tests ../scripts
"$root/.venv/bin/mypy" app
"$root/.venv/bin/python" -m pytest -q -ra "$@"
if [ "$#" -eq 0 ]; then
  "$root/scripts/test-frontend.sh"
fi
