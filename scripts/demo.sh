#!/usr/bin/env bash
# Sets everything up on a fresh machine (Node 24 and pnpm when missing,
# dependencies) and runs FibPro under `smart dev`: an embedded Atlas, the dashboard and the
# three services in realm local, with embedded defaults (no Postgres, Redis or
# Atlas to install). Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/toolchain.sh
pnpm install --frozen-lockfile --reporter=silent
exec node packages/smart-dev/bin/smart-dev.ts dev examples/fibpro
