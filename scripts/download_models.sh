#!/usr/bin/env bash
# Pre-seeds the model cache so workers start without downloading:
#   scripts/download_models.sh MODEL_DIR
# fetches MODEL_URI (the drum-hit model) into MODEL_DIR/complete_network/MODEL_VERSION/ and the Demucs
# weights (DEMUCS_MODEL, default htdemucs) into MODEL_DIR/demucs/. Needs internet for remote URIs.
set -euo pipefail

if [ "$#" -ne 1 ]; then
  echo "usage: $0 MODEL_DIR" >&2
  exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -x "$here/.venv/bin/drumscribe" ]; then
  exec "$here/.venv/bin/drumscribe" download-models "$1"
fi
exec drumscribe download-models "$1"
