# Sourced by the project's commands: puts Node >= 22.12 and the pinned pnpm
# on PATH, installing them from the npm registry into a cache folder when the
# machine lacks them. Idempotent: what is already there is reused.
#
#   SMART_TOOLS   where to install (default: ~/.cache/smart-service)

SMART_TOOLS=${SMART_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/smart-service}
SMART_NODE_VERSION=24.21.0
SMART_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SMART_PNPM_VERSION=$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$SMART_ROOT/package.json")

toolchain_log() { echo "toolchain: $*" >&2; }

node_is_recent() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 12) ? 0 : 1)'
}

ensure_node() {
  local prefix="$SMART_TOOLS/node-$SMART_NODE_VERSION" arch
  if [ -x "$prefix/bin/node" ]; then export PATH="$prefix/bin:$PATH"; fi
  node_is_recent && return 0
  command -v npm >/dev/null 2>&1 || { toolchain_log "npm is needed to fetch Node $SMART_NODE_VERSION"; return 1; }
  case $(uname -m) in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) toolchain_log "no Node package for $(uname -m)"; return 1 ;;
  esac
  toolchain_log "installing Node $SMART_NODE_VERSION into $prefix"
  npm install --global --prefix "$prefix" --no-audit --no-fund --loglevel=error "node-linux-$arch@$SMART_NODE_VERSION" >&2
  export PATH="$prefix/bin:$PATH"
  node_is_recent || { toolchain_log "Node $SMART_NODE_VERSION did not install"; return 1; }
}

ensure_pnpm() {
  local prefix="$SMART_TOOLS/pnpm-$SMART_PNPM_VERSION"
  if [ -x "$prefix/bin/pnpm" ]; then export PATH="$prefix/bin:$PATH"; fi
  [ "$(pnpm --version 2>/dev/null)" = "$SMART_PNPM_VERSION" ] && return 0
  toolchain_log "installing pnpm $SMART_PNPM_VERSION into $prefix"
  npm install --global --prefix "$prefix" --no-audit --no-fund --loglevel=error "pnpm@$SMART_PNPM_VERSION" >&2
  export PATH="$prefix/bin:$PATH"
  [ "$(pnpm --version 2>/dev/null)" = "$SMART_PNPM_VERSION" ] || { toolchain_log "pnpm $SMART_PNPM_VERSION did not install"; return 1; }
}

ensure_node && ensure_pnpm
