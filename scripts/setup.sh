#!/usr/bin/env bash
# One-time (idempotent, cached) setup of everything bloomsight needs on this machine:
# npm dependencies, ffmpeg, the native TensorFlow.js backend, and the binaries of the local
# services (Temporal dev server, versitygw S3 server; with --tests also MinIO). Safe to run again:
# finished steps are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '[setup] %s\n' "$*"; }

major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 20 ]; then echo "[setup] Node.js 20 or newer is required (found $(node --version 2>/dev/null || echo none))" >&2; exit 1; fi

# Dependencies. --ignore-scripts: npm 10 would run every install script, and tfjs-node's downloads
# libtensorflow from a host this kind of machine cannot reach; scripts/setup-tfjs-native.sh does that part.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies"
  npm ci --ignore-scripts --no-audit --no-fund
else
  say "npm dependencies up to date"
fi

# ffmpeg renders video; the package manager of the system provides it.
if ! command -v ffmpeg >/dev/null || ! command -v ffprobe >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing ffmpeg (apt-get)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg) >/dev/null
  else
    say "WARNING: ffmpeg is missing; install it (apt-get install ffmpeg / brew install ffmpeg) to render video"
  fi
fi

bash scripts/setup-tfjs-native.sh

# The Temporal CLI and the S3 server, found on PATH or provisioned into the cache; `setup.sh --tests`
# (what CI runs) also builds MinIO's server for the tests.
npx tsx scripts/provision-services.ts "$@"
