#!/usr/bin/env bash
# Runs every benchmark in bench/ (bench/*_bench.py), one after the other; extra arguments are
# passed to each. `make bench` calls this. Add a benchmark by adding bench/<name>_bench.py.
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL="${DATABASE_URL:-postgres://root@127.0.0.1:5432/leanvibe_billing}"
scripts/install_deps.sh bench
PY="${PY:-.venv/bin/python}"
status=0
for bench in bench/*_bench.py; do
  echo "== $bench"
  "$PY" "$bench" "$@" || status=1
done
exit $status
