#!/usr/bin/env bash
# Runs every benchmark in bench/ (bench/*_bench.py), one after the other; extra arguments are
# passed to each. `make bench` calls this. Add a benchmark by adding bench/<name>_bench.py.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
[ -x "$PY" ] || PY=python3
status=0
for bench in bench/*_bench.py; do
  echo "== $bench"
  "$PY" "$bench" "$@" || status=1
done
exit $status
