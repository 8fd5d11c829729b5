#!/usr/bin/env bash
# Runs every benchmark in bench/ and prints their figures.
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL="${DATABASE_URL:-postgres://root@127.0.0.1:5432/leanvibe_billing}"
scripts/install_deps.sh bench
for script in bench/*_bench.py; do
  echo "== $script"
  .venv/bin/python "$script"
done
