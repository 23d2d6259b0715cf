#!/usr/bin/env bash
# Creates a new smart service from this checkout, before the packages are on a
# registry: sets up the toolchain and this workspace, then runs
# create-smart-service with --local-packages pointing here. Arguments go to
# create-smart-service; the service is written relative to where you are.
#
#   bash path/to/smart-service/scripts/create-service.sh orders --db
set -euo pipefail
here=$(pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/lib/toolchain.sh
pnpm install --frozen-lockfile --reporter=silent
cd "$here"
exec node "$root/packages/create-smart-service/bin/create-smart-service.ts" "$@" --local-packages "$root"
