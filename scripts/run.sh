#!/usr/bin/env bash
# make run: migrate, load the catalog and demo tenant, print logins, serve on 127.0.0.1:8000.
# Without REDIS_URL, tasks run in-process and periodic jobs run from an in-process loop; with
# it, a Celery worker and beat (database scheduler) run beside the server.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-billing_project.settings.local}"
$PY manage.py migrate --no-input -v0
$PY manage.py seed_demo
pids=()
cleanup() { for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM
if [ -n "${REDIS_URL:-}${CELERY_BROKER_URL:-}" ]; then
  .venv/bin/celery -A billing_project worker -l warning --concurrency 2 & pids+=($!)
  .venv/bin/celery -A billing_project beat -l warning \
    --scheduler django_celery_beat.schedulers:DatabaseScheduler & pids+=($!)
else
  $PY manage.py run_schedules & pids+=($!)
fi
echo "Serving on http://127.0.0.1:8000 (Ctrl-C stops)"
$PY manage.py runserver 127.0.0.1:8000 --noreload
