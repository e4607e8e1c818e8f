#!/usr/bin/env bash
# Sourced by scripts/test.sh: makes sure a PostgreSQL and a Redis answer for the integration tests.
# The machine's own servers on the standard ports are used when they answer; otherwise private ones are
# started from Debian's packages under .test-services/ and TEST_POSTGRES_URL / TEST_REDIS_URL point at them.

services_dir="$root/.test-services"
as_root=""
[ "$(id -u)" -eq 0 ] || as_root="sudo"

ensure_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    $as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

if [ -z "${TEST_POSTGRES_URL:-}" ] \
   && ! psql "postgresql://postgres@127.0.0.1:5432/postgres" -tAc "SELECT 1" >/dev/null 2>&1; then
    echo "test: no PostgreSQL with trust auth on 127.0.0.1:5432; starting a private one on port 55432" >&2
    ensure_packages postgresql
    bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
    pgdata="$services_dir/pg"
    runas=()
    if [ "$(id -u)" -eq 0 ]; then runas=(runuser -u postgres --); fi
    mkdir -p "$services_dir"
    if [ ! -f "$pgdata/PG_VERSION" ]; then
      mkdir -p "$pgdata"
      [ "$(id -u)" -ne 0 ] || chown postgres "$pgdata" "$services_dir"
      "${runas[@]}" "$bin/initdb" -D "$pgdata" -A trust -U postgres >/dev/null
    fi
    "${runas[@]}" "$bin/pg_ctl" -D "$pgdata" -o "-p 55432 -k $pgdata -c listen_addresses=127.0.0.1" \
      -l "$pgdata/server.log" -w status >/dev/null 2>&1 \
      || "${runas[@]}" "$bin/pg_ctl" -D "$pgdata" -o "-p 55432 -k $pgdata -c listen_addresses=127.0.0.1" \
           -l "$pgdata/server.log" -w start >/dev/null
    export TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:55432/postgres"
fi

if [ -z "${TEST_REDIS_URL:-}" ] && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "test: no Redis on 127.0.0.1:6379; starting a private one on port 56379" >&2
  ensure_packages redis-server
  mkdir -p "$services_dir"
  redis-cli -h 127.0.0.1 -p 56379 ping >/dev/null 2>&1 \
    || redis-server --daemonize yes --bind 127.0.0.1 --port 56379 --save "" --appendonly no \
         --dir "$services_dir" --logfile "$services_dir/redis.log"
  export TEST_REDIS_URL="redis://127.0.0.1:56379"
fi
