#!/bin/sh
# Makes a fresh machine ready for cordon: bubblewrap, dependencies, build.
# Idempotent and quick when everything is already there.
set -eu
cd "$(dirname "$0")/.."

if ! command -v bwrap >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "cordon setup: installing bubblewrap" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null
  else
    echo "cordon setup: bubblewrap is missing. Install it: sudo apt-get install -y bubblewrap" >&2
    exit 1
  fi
fi

# Dependencies never run install scripts (cordon's own tree needs none).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi

./node_modules/.bin/tsc -p .
chmod +x dist/src/cli/main.js
