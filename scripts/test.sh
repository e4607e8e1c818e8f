#!/usr/bin/env bash
# Runs every test of DrumScribe, installing what they need first (scripts/bootstrap.sh).
# Extra arguments go to pytest, e.g. scripts/test.sh -k ingest
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# docker-compose validates the compose files offline (there is no Docker engine to run them here).
"$root/scripts/bootstrap.sh" docker-compose
# shellcheck source=scripts/test-services.sh
. "$root/scripts/test-services.sh"

cd "$root/backend"
export TF_CPP_MIN_LOG_LEVEL=2
"$root/.venv/bin/ruff" check app tests
"$root/.venv/bin/python" -m pytest -q -ra "$@"
