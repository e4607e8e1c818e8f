#!/usr/bin/env bash
# Pre-seeds the model cache so workers start without downloading:
#   scripts/download_models.sh MODEL_DIR
# fetches MODEL_URI (the drum-hit model) into MODEL_DIR/complete_network/MODEL_VERSION/ and the Demucs
# weights (DEMUCS_MODEL, default htdemucs) into MODEL_DIR/demucs/. Needs internet for remote URIs.
# Works in a checkout (uses .venv) and in the worker image (drumscribe on PATH).
set -euo pipefail

if [ "$#" -ne 1 ]; then
  echo "usage: $0 MODEL_DIR" >&2
  exit 2
fi
checkout="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
if [ -x "$checkout/.venv/bin/drumscribe" ]; then
  exec "$checkout/.venv/bin/drumscribe" download-models "$1"
fi
exec drumscribe download-models "$1"
