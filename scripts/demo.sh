#!/usr/bin/env bash
# Sets everything up on a fresh machine (Node 24 and pnpm when missing,
# dependencies) and runs the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/toolchain.sh
pnpm install --frozen-lockfile --reporter=silent
pnpm demo
