#!/usr/bin/env bash
# `npx create-smart-service` as a user will run it, before the packages are
# on the public registry: sets up the toolchain and this workspace, starts a
# local registry (Verdaccio, in a temp folder), publishes every package to
# it with `pnpm release`, then runs `npx create-smart-service <args>` where
# you are, with that registry as npm's only one. The service it writes
# depends on the published packages, exactly as it will from npmjs.com.
#
#   bash path/to/smart-service/scripts/try-registry.sh orders --db
set -euo pipefail
here=$(pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/lib/toolchain.sh
pnpm install --frozen-lockfile --reporter=silent
INIT_CWD="$here" exec node e2e/try-registry.ts "$@"
