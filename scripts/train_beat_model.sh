#!/usr/bin/env bash
# Build the beat model's synthetic songs (exact beat, downbeat and metre labels) from Debian's drum
# samples and train the beat network; resumable: run it again with the same --data-dir and it goes on
# from the last finished epoch (add --skip-build to keep the data). The result replaces the bundled
# beat model (backend/app/pipeline/models/bundled/drumscribe_beats.h5, the .onnx exported from it for
# onnxruntime, and their .json).
#
#   scripts/train_beat_model.sh [--train-songs N] [--val-songs N] [--epochs N] [--max-minutes M]
#                               [--data-dir DIR] [--out FILE.h5] [--seed S] [--workers N] [--width W]
#                               [--generator 1|2|3|1 2] [--skip-build]
#
# Defaults (6000 training songs of 20 s, 33 h of audio; 40 epochs; generator version 3) took 45.5
# minutes of training on the shared 2 cores, about 68 s an epoch, after the songs' rendering; that
# model was no better than the shipped one (backend/MODEL_CARD.md). (The shipped
# model, version 3, came from 3000 songs at 38 s an epoch: --train-songs 3000 --val-songs 150
# --epochs 30 --max-minutes 30 --generator 3). Data goes to
# ~/.cache/drumscribe-train/beats (never into the repository). Needs hydrogen-drumkits,
# fluid-soundfont-gm and fluidsynth (apt-get install hydrogen-drumkits fluid-soundfont-gm fluidsynth).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
backend="$here/../backend"
python="${PYTHON:-$here/../.venv/bin/python}"

# shellcheck source=scripts/training-prereqs.sh
. "$here/training-prereqs.sh"

cd "$backend"
export PYTHONHASHSEED=0 TF_DETERMINISTIC_OPS=1 TF_CPP_MIN_LOG_LEVEL=2
exec "$python" -m app.training.beats "$step" "${args[@]}"
