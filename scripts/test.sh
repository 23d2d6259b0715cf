#!/usr/bin/env bash
# The whole test suite on a fresh machine: Node 24 and pnpm (installed when
# missing), dependencies, throwaway Postgres and Redis (unless DATABASE_URL and
# REDIS_URL are set), then typecheck, lint, the packed packages' checks and
# every test. The slow suites that mostly wait (SLOW_SUITES: installs through
# a registry, a browser, etcd) run beside the main one, each in a vitest
# process of its own; the suites that measure time (the timing group, and the
# chaos suite, which measures latencies under load it makes itself) run after
# them, alone. The servers are stopped on exit,
# whatever happened, and the run fails if any process of ours is left.
# Extra arguments go to vitest (and then only the main suite runs).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/toolchain.sh
SLOW_SUITES=(registry smart-dev-browser atlas-etcd atlas-pglite)
ALONE_SUITES=(timing chaos)

echo "== node $(node --version), pnpm $(pnpm --version)"
# The Debian packages the suites use (servers, Chromium), beside the dependency install.
bash scripts/test-servers.sh install &
system=$!
pnpm install --frozen-lockfile --reporter=append-only 2>&1 | tail -n 3
wait $system || { echo "could not install the Debian packages the suites need" >&2; exit 1; }

work=$(mktemp -d)
cleanup() {
  [ -n "${servers:-}" ] && bash scripts/test-servers.sh stop "$servers"
  rm -rf "$work"
}
trap cleanup EXIT

if [ -z "${DATABASE_URL:-}" ] || [ -z "${REDIS_URL:-}" ]; then
  servers=$(mktemp -d)
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

if [ $# -gt 0 ]; then
  echo "== test $*"
  exec pnpm test "$@"
fi

echo "== build and check the packed packages (publint, arethetypeswrong)"
pnpm build >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
pnpm check:packages

echo "== test (slow suites beside the main one: ${SLOW_SUITES[*]})"
started=$(date +%s)
pids=()
exclude=()
for suite in "${ALONE_SUITES[@]}"; do exclude+=(--project "!$suite"); done
for suite in "${SLOW_SUITES[@]}"; do
  exclude+=(--project "!$suite")
  (
    SMART_SUMMARY_FILE="$work/$suite.json" pnpm vitest run --project "$suite" 2>&1 |
      sed -u "s/^/[$suite] /" >"$work/$suite.log"
  ) &
  pids+=($!)
done
status=0
SMART_SUMMARY_FILE="$work/main.json" pnpm vitest run "${exclude[@]}" || status=1
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || status=1
  echo "== ${SLOW_SUITES[$i]} suite"
  cat "$work/${SLOW_SUITES[$i]}.log"
done
for suite in "${ALONE_SUITES[@]}"; do
  echo "== $suite suite (alone)"
  SMART_SUMMARY_FILE="$work/$suite.json" pnpm vitest run --project "$suite" || status=1
done
echo "== all suites took $(($(date +%s) - started)) s"

# One closing line for CI: the sum of every suite (a suite that wrote no summary failed to run).
WORK="$work" node -e '
  const fs = require("node:fs");
  let passed = 0, failed = 0, skipped = 0;
  for (const name of process.argv.slice(1)) {
    const file = `${process.env.WORK}/${name}.json`;
    if (!fs.existsSync(file)) { console.log(`suite ${name} wrote no summary`); failed++; continue; }
    const s = JSON.parse(fs.readFileSync(file, "utf8"));
    passed += s.passed; failed += s.failed; skipped += s.skipped;
  }
  console.log(`\n${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
  process.exit(failed > 0 ? 1 : 0);
' main "${SLOW_SUITES[@]}" "${ALONE_SUITES[@]}" || status=1
exit $status
