#!/usr/bin/env bash
# Sets everything up on a fresh machine (Node 24 and pnpm when missing,
# dependencies) and runs FibPro under `smart dev`: an embedded Atlas and the
# three services in realm local, with embedded defaults (no Postgres, Redis or
# Atlas to install). Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/toolchain.sh
pnpm install --frozen-lockfile --reporter=silent
exec node packages/smart-service/bin/smart.ts dev examples/fibpro
