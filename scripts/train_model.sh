#!/usr/bin/env bash
# Build DrumScribe's synthetic drum data from Debian's packages and train the frame-level model from
# scratch (or, with --init-from, from an exported model's weights), with fixed seeds; the result (.h5, its ONNX export and the recipe .json) replaces the bundled
# model in the backend package.
#
#   scripts/train_model.sh [--train-songs N] [--val-songs N] [--epochs N] [--max-minutes M]
#                          [--data-dir DIR] [--out FILE.h5] [--seed S] [--workers N] [--skip-build]
#                          [--band-share F] [--stem-share F] [--arch cnn|crnn] [--resume]
#                          [--init-from MODEL.h5] [--learning-rate LR]
#
# Defaults (6000 training songs of 8–16 s, about 20 h of audio; 25 epochs) take about 3–4 hours on a
# 2-core CPU: about 15 minutes to render and 8 minutes an epoch. The data goes to
# ~/.cache/drumscribe-train (never into the repository). By default 55 % of the songs have a full band
# around the drums (mixed and mastered) and 20 % imitate a separator's drum stem. Needs: hydrogen-drumkits,
# fluidsynth and the General MIDI fonts (apt-get install hydrogen-drumkits fluidsynth fluid-soundfont-gm
# musescore-general-soundfont timgm6mb-soundfont).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
backend="$here/../backend"
python="${PYTHON:-$here/../.venv/bin/python}"

# shellcheck source=scripts/training-prereqs.sh
. "$here/training-prereqs.sh"
# Training ends by exporting the model to ONNX: check for the converter before hours of work.
"$python" -c "import tf2onnx, onnx" 2>/dev/null || { echo "missing tf2onnx: pip install -e 'backend[train]'" >&2; exit 1; }

cd "$backend"
# Deterministic TensorFlow kernels and hash seeds, so a re-run on the same machine gives the same model.
export PYTHONHASHSEED=0 TF_DETERMINISTIC_OPS=1 TF_CPP_MIN_LOG_LEVEL=2
exec "$python" -m app.training "$step" --epochs 25 "${args[@]}"
