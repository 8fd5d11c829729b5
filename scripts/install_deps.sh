#!/usr/bin/env bash
# Installs what is missing, and only that: Debian libraries for WeasyPrint (and poppler-utils for
# tests that read PDFs back), the virtualenv, and the pinned Python packages. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

want_dev="${1:-dev}"   # "dev" installs requirements-dev.txt, "run" only requirements.txt
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

debs=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core poppler-utils)
# The finance console's browser tests (tests/browser, Playwright) drive Debian's Chromium; it is
# never downloaded by Playwright (`playwright install` is not used).
[ "$want_dev" != run ] && [ ! -x /usr/bin/chromium ] && debs+=(chromium)
# `bench` also needs ApacheBench (ab) for the HTTP benchmarks.
[ "$want_dev" = bench ] && debs+=(apache2-utils)
missing=()
for pkg in "${debs[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "warning: missing Debian packages (${missing[*]}); install them with apt-get" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/pip install -q --upgrade pip
fi

[ "$want_dev" = bench ] && want_dev=dev
req=requirements.txt
[ "$want_dev" = dev ] && req=requirements-dev.txt
stamp=".venv/.installed-$(cat requirements.txt "$req" | sha256sum | cut -c1-16)-$want_dev"
if [ ! -f "$stamp" ]; then
  .venv/bin/pip install -q --disable-pip-version-check -r "$req"
  # A dev install satisfies a run install too.
  touch "$stamp"
  [ "$want_dev" = dev ] && touch ".venv/.installed-$(cat requirements.txt requirements.txt | sha256sum | cut -c1-16)-run"
fi
exit 0
