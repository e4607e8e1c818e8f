#!/usr/bin/env bash
# Tests the web UI (frontend/): installs what they need on a fresh Debian machine (Chromium from apt,
# the npm packages from package-lock.json), then runs ESLint, the TypeScript check, the Vitest unit
# tests, the check that the typed client matches the API, the static export build, and the end-to-end
# tests (playwright-core driving /usr/bin/chromium against a real `drumscribe serve`).
# Exits non-zero on the first failure. Nothing here downloads a browser.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
frontend="$root/frontend"
export NEXT_TELEMETRY_DISABLED=1
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export CI="${CI:-1}"

step() { printf '\n==> %s\n' "$*"; }
elapsed() { echo "($((SECONDS - $1)) s)"; }

command -v node >/dev/null || { echo "node is required (Node.js 20.9 or newer)" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm is required" >&2; exit 1; }
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 9) ? 0 : 1)' \
  || { echo "Node.js 20.9 or newer is required; this is $(node --version)" >&2; exit 1; }

chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  step "installing Chromium from Debian"
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  if ! "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; then
    "${as_root[@]}" apt-get update -q
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
  fi
fi

cd "$frontend"
start=$SECONDS
step "npm ci"
npm ci --no-audit --no-fund --loglevel=error
echo "$(elapsed "$start")"

start=$SECONDS
step "lint (eslint) and types (tsc)"
npm run --silent lint
npm run --silent typecheck
echo "$(elapsed "$start")"

start=$SECONDS
step "unit tests (vitest)"
npm run --silent test
echo "$(elapsed "$start")"

if [ -x "$root/.venv/bin/python" ]; then
  start=$SECONDS
  step "typed client matches the API's schema"
  npm run --silent api:check
  echo "$(elapsed "$start")"
else
  echo "no $root/.venv (scripts/bootstrap.sh): skipping the schema check and the end-to-end tests' server" >&2
fi

start=$SECONDS
step "static export (next build)"
npm run --silent build
test -f out/index.html
echo "$(elapsed "$start")"

start=$SECONDS
step "end-to-end tests (playwright-core + $chromium against drumscribe serve)"
CHROMIUM_PATH="$chromium" npm run --silent test:e2e
echo "$(elapsed "$start")"
echo
echo "frontend tests passed; screenshots in ${UI_SHOTS_DIR:-/tmp/ui-shots}/"
