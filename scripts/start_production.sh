#!/usr/bin/env bash
# Starts the production recipe on this machine (README "Production"): production settings,
# migrate, collectstatic, `check --deploy`, then gunicorn (gunicorn.conf.py), a Celery worker and
# Celery beat, exactly the three commands of the Procfile and of deploy/*.service. Prints
#   READY http://127.0.0.1:<port>
# once /ready answers 200, then runs until SIGTERM/SIGINT (or until one of the three exits),
# and stops all three.
#
# Needs DATABASE_URL and REDIS_URL (or CELERY_BROKER_URL). Optional: PORT (default: a free
# port), SECRET_KEY (default: one generated once into $RUN_DIR/secret_key), ALLOWED_HOSTS
# (127.0.0.1,localhost), SECURE_SSL_REDIRECT (false here: this machine serves plain HTTP on
# loopback; keep the default true behind a TLS proxy), STATIC_ROOT (staticfiles/), RUN_DIR
# (.run/production: pid files, the generated key), WEB_CONCURRENCY (2), CELERY_CONCURRENCY (2),
# SKIP_COLLECTSTATIC=1 (when STATIC_ROOT is already collected).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
VENV="${VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"

: "${DATABASE_URL:?DATABASE_URL is required (postgres://user:password@host:5432/name)}"
if [ -z "${REDIS_URL:-}${CELERY_BROKER_URL:-}" ]; then
  echo "error: REDIS_URL (or CELERY_BROKER_URL) is required: production runs a real worker" >&2
  exit 2
fi
export DATABASE_URL
export DJANGO_SETTINGS_MODULE=billing_project.settings.production
export CELERY_BROKER_URL="${CELERY_BROKER_URL:-$REDIS_URL}"
[ -n "${REDIS_URL:-}" ] && export REDIS_URL
RUN_DIR="${RUN_DIR:-$ROOT/.run/production}"
mkdir -p "$RUN_DIR"
chmod 700 "$RUN_DIR"
if [ -z "${SECRET_KEY:-}" ]; then
  if [ ! -s "$RUN_DIR/secret_key" ]; then
    (umask 077 && "$PY" -c 'import secrets; print(secrets.token_urlsafe(50))' >"$RUN_DIR/secret_key")
  fi
  SECRET_KEY="$(cat "$RUN_DIR/secret_key")"
fi
export SECRET_KEY
export ALLOWED_HOSTS="${ALLOWED_HOSTS:-127.0.0.1,localhost}"
export SECURE_SSL_REDIRECT="${SECURE_SSL_REDIRECT:-false}"
export STATIC_ROOT="${STATIC_ROOT:-$ROOT/staticfiles}"
export WEB_CONCURRENCY="${WEB_CONCURRENCY:-2}"
CELERY_CONCURRENCY="${CELERY_CONCURRENCY:-2}"
if [ -z "${PORT:-}" ]; then
  PORT="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
fi
export PORT
export GUNICORN_BIND="${GUNICORN_BIND:-127.0.0.1:$PORT}"

pids=()
cleanup() {
  trap - EXIT INT TERM HUP
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# The release steps: the database (created if missing), its schema, the static files.
"$PY" -m billing_project.localdb ensure
"$PY" manage.py migrate --no-input -v0
if [ "${SKIP_COLLECTSTATIC:-0}" != 1 ]; then
  "$PY" manage.py collectstatic --no-input -v0
fi
"$PY" manage.py check --deploy

# The three processes (Procfile: web, worker, beat).
"$VENV/bin/gunicorn" -c gunicorn.conf.py & pids+=($!)
"$VENV/bin/celery" -A billing_project worker --loglevel INFO --concurrency "$CELERY_CONCURRENCY" \
  --hostname "worker-$PORT@%h" & pids+=($!)
"$VENV/bin/celery" -A billing_project beat --loglevel INFO \
  --scheduler django_celery_beat.schedulers:DatabaseScheduler --pidfile "$RUN_DIR/beat.pid" & pids+=($!)

ready=0
for _ in $(seq 1 300); do
  if "$PY" - "$GUNICORN_BIND" <<'EOF' 2>/dev/null; then ready=1; break; fi
import sys, urllib.request
urllib.request.urlopen(f"http://{sys.argv[1]}/ready", timeout=2).read()
EOF
  for p in "${pids[@]}"; do
    kill -0 "$p" 2>/dev/null || { echo "error: a process exited during start-up" >&2; exit 1; }
  done
  sleep 0.2
done
[ "$ready" = 1 ] || { echo "error: /ready did not answer 200 in time" >&2; exit 1; }
echo "READY http://$GUNICORN_BIND"
# Whichever child ends first (or a signal) ends the run; cleanup stops the rest.
wait -n "${pids[@]}" || exit $?
