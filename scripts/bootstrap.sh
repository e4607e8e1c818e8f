#!/usr/bin/env bash
# Installs what DrumScribe needs on a fresh Debian/Ubuntu machine, once: system packages and a
# Python virtual environment in .venv with the backend installed. Safe to run again: it skips what is there.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null 2>&1 || python=python3

# Debian packages: ffmpeg decodes every input; librsvg2-bin prints the engraved sheet as PDF, and
# fonts-freefont-ttf gives it the half note of a cut-time tempo mark; poppler-utils turns PDFs into
# pictures in the tests; hydrogen-drumkits holds the sampled drum kits the synthetic grooves are rendered with.
apt_packages=(ffmpeg librsvg2-bin fonts-freefont-ttf poppler-utils hydrogen-drumkits)
apt_packages+=("$@")
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "bootstrap: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

venv="$root/.venv"
stamp="$venv/.drumscribe-installed"
want="$(cat "$root/backend/pyproject.toml" | sha256sum | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "bootstrap: installing the Python packages into .venv (a few minutes the first time)" >&2
  "$venv/bin/python" -m pip install -q --upgrade pip
  # torch first, by exact version, so the resolver never swaps in another build for demucs' sake.
  "$venv/bin/python" -m pip install -q "torch==2.13.0"
  "$venv/bin/python" -m pip install -q -e "$root/backend[test]"
  echo "$want" > "$stamp"
fi
