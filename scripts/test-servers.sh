#!/usr/bin/env bash
# Throwaway Postgres and Redis for the test suite, on loopback, in a temp dir.
#
#   bash scripts/test-servers.sh start DIR [postgres] [redis]   # prints KEY=VALUE lines to export
#   bash scripts/test-servers.sh stop DIR
#   bash scripts/test-servers.sh install                        # every Debian package the suites use
#
# Installs Debian's redis-server / postgresql first when they are missing.
# `install` gets all the suites' servers and tools at once, in one apt-get
# run, only those missing: Postgres, Redis, HAProxy (the sidecar), etcd and
# etcdctl (Atlas on etcd), dnsmasq (the DNS resolver), Chromium (the
# dashboard's browser tests), util-linux's `script` and tmux (pty tests),
# wrk (`pnpm bench`'s load generator).
# Postgres refuses to run as root, so as root it runs as the `postgres` user.
set -euo pipefail

log() { echo "test-servers: $*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo -n "$@"
  else log "need root to run: $*"; return 1
  fi
}

apt_install() {
  local out
  out=$(mktemp)
  log "installing $* with apt-get"
  if ! { as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"; } >"$out" 2>&1; then
    cat "$out" >&2
    rm -f "$out"
    return 1
  fi
  rm -f "$out"
}

pg_bin() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bin" ]; then
    apt_install postgresql
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  echo "$bin"
}

free_port() {
  node -e 'const s=require("node:net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# Runs a Postgres binary as the postgres user when we are root, from a
# folder that user may enter.
as_pg() {
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

start_postgres() {
  local dir=$1 bin port
  bin=$(pg_bin)
  port=$(free_port)
  mkdir -p "$dir/pg"
  if [ "$(id -u)" = 0 ]; then chown -R postgres: "$dir/pg"; fi
  as_pg "$bin/initdb" -D "$dir/pg/data" -U postgres --auth=trust -E UTF8 --no-sync >"$dir/pg/initdb.log" 2>&1 ||
    { cat "$dir/pg/initdb.log" >&2; return 1; }
  as_pg "$bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w -t 30 start \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $dir/pg -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >&2 ||
    { cat "$dir/pg/server.log" >&2; return 1; }
  as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres smart_test
  echo "$bin" >"$dir/pg/bin"
  echo "DATABASE_URL=postgres://postgres@127.0.0.1:$port/smart_test"
}

start_redis() {
  local dir=$1 port
  command -v redis-server >/dev/null || apt_install redis-server
  port=$(free_port)
  mkdir -p "$dir/redis"
  cat >"$dir/redis/redis.conf" <<EOF
bind 127.0.0.1
port $port
daemonize yes
dir $dir/redis
pidfile $dir/redis/redis.pid
logfile $dir/redis/redis.log
save ""
appendonly no
EOF
  redis-server "$dir/redis/redis.conf"
  for _ in $(seq 1 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.05
  done
  redis-cli -p "$port" ping >/dev/null || { cat "$dir/redis/redis.log" >&2; return 1; }
  echo "$port" >"$dir/redis/port"
  echo "REDIS_URL=redis://127.0.0.1:$port"
  # Tests that stop Redis on purpose restart it with this file.
  echo "SMART_TEST_REDIS_CONF=$dir/redis/redis.conf"
}

stop_all() {
  local dir=$1
  if [ -f "$dir/pg/bin" ]; then
    as_pg "$(cat "$dir/pg/bin")/pg_ctl" -D "$dir/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  if [ -f "$dir/redis/port" ]; then
    redis-cli -p "$(cat "$dir/redis/port")" shutdown nosave >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

# Every Debian package some suite needs: "package:a-file-it-installs".
SYSTEM_PACKAGES=(
  postgresql:/usr/lib/postgresql
  redis-server:/usr/bin/redis-server
  haproxy:/usr/sbin/haproxy
  etcd-server:/usr/bin/etcd
  etcd-client:/usr/bin/etcdctl
  dnsmasq:/usr/sbin/dnsmasq
  chromium:/usr/bin/chromium
  tmux:/usr/bin/tmux
  wrk:/usr/bin/wrk
)

install_system_packages() {
  local missing=() entry
  for entry in "${SYSTEM_PACKAGES[@]}"; do
    [ -e "${entry#*:}" ] || missing+=("${entry%%:*}")
  done
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
  # Debian's packages start daemons where they can; the suites start their own on free ports.
  for service in dnsmasq haproxy etcd; do
    command -v systemctl >/dev/null && as_root systemctl disable --now "$service" >/dev/null 2>&1 || true
  done
}

command=${1:-}
dir=${2:-}
if [ "$command" = install ]; then
  install_system_packages
  exit 0
fi
[ -n "$command" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR [postgres] [redis]" >&2; exit 2; }
case $command in
  start)
    shift 2
    wanted=${*:-postgres redis}
    mkdir -p "$dir"
    chmod 755 "$dir"
    for server in $wanted; do
      case $server in
        postgres) start_postgres "$dir" ;;
        redis) start_redis "$dir" ;;
        *) echo "unknown server: $server" >&2; exit 2 ;;
      esac
    done
    ;;
  stop) stop_all "$dir" ;;
  *) echo "usage: $0 start|stop DIR [postgres] [redis]" >&2; exit 2 ;;
esac
