#!/usr/bin/env bash
# The whole test suite on a fresh machine: Node 24 and pnpm (installed when
# missing), dependencies, throwaway Postgres and Redis (unless DATABASE_URL and
# REDIS_URL are set), then typecheck, lint and every test. The servers are
# stopped on exit, whatever happened. Extra arguments go to vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/toolchain.sh

echo "== node $(node --version), pnpm $(pnpm --version)"
pnpm install --frozen-lockfile --reporter=append-only 2>&1 | tail -n 3

if [ -z "${DATABASE_URL:-}" ] || [ -z "${REDIS_URL:-}" ]; then
  servers=$(mktemp -d)
  trap 'bash scripts/test-servers.sh stop "$servers"' EXIT
  wanted=""
  [ -n "${DATABASE_URL:-}" ] || wanted="$wanted postgres"
  [ -n "${REDIS_URL:-}" ] || wanted="$wanted redis"
  # shellcheck disable=SC2086
  while IFS= read -r line; do export "${line?}"; done < <(bash scripts/test-servers.sh start "$servers" $wanted)
  echo "== throwaway servers: DATABASE_URL=$DATABASE_URL REDIS_URL=$REDIS_URL"
fi

echo "== typecheck"
pnpm typecheck
echo "== lint"
pnpm lint
echo "== test"
pnpm test "$@"
