#!/usr/bin/env bash
# make run: the database (the embedded PostgreSQL in .pgdata/, or DATABASE_URL's, created when
# missing), migrate, the catalog and demo tenant, then serve on 127.0.0.1:$PORT (8000) and print
# the logins last. Ctrl-C or SIGTERM stops the server, the schedules and the embedded PostgreSQL.
# Without REDIS_URL, tasks run in-process and periodic jobs run from an in-process loop; with
# it, a Celery worker and beat (database scheduler) run beside the server.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PORT="${PORT:-8000}"
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-billing_project.settings.local}"
export PORT
# Task and schedule chatter would bury the login block; LOG_LEVEL=INFO shows it.
export LOG_LEVEL="${LOG_LEVEL:-WARNING}"

pids=()
embedded=0
work="$(mktemp -d)"
cleanup() {
  trap - EXIT INT TERM HUP
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
  [ "$embedded" = 1 ] && $PY -m billing_project.localdb stop || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

if [ -z "${DATABASE_URL:-}" ]; then
  embedded=1
  DATABASE_URL="$($PY -m billing_project.localdb start)"
  export DATABASE_URL
else
  $PY -m billing_project.localdb ensure
fi
$PY manage.py migrate --no-input -v0
# The demo's invoice email (console backend) and the login block, shown once the server is up.
$PY manage.py seed_demo >"$work/seed.txt"

if [ -n "${REDIS_URL:-}${CELERY_BROKER_URL:-}" ]; then
  .venv/bin/celery -A billing_project worker -l warning --concurrency 2 & pids+=($!)
  .venv/bin/celery -A billing_project beat -l warning \
    --scheduler django_celery_beat.schedulers:DatabaseScheduler & pids+=($!)
else
  $PY manage.py run_schedules & pids+=($!)
fi
$PY manage.py runserver "127.0.0.1:$PORT" --noreload & server=$!
pids+=("$server")
for _ in $(seq 1 150); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.2
done
kill -0 "$server" 2>/dev/null || { echo "error: the server did not start on port $PORT" >&2; exit 1; }
cat "$work/seed.txt"
# Whichever child ends first (or a signal) ends the run; cleanup stops the rest.
wait -n "${pids[@]}" || exit $?
