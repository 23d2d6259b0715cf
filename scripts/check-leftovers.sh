#!/usr/bin/env bash
# Lists the processes a test run left behind, and fails when there is one.
#
#   SMART_RUN_ID=<id> SMART_RUN_TMP=<dir> bash scripts/check-leftovers.sh [--kill]
#   bash scripts/check-leftovers.sh [--kill] [--tmp <dir>] <id>
#
# A process is the run's when its environment carries SMART_RUN_ID=<id>, or
# its working directory or command line is under the run's temp folder
# (SMART_RUN_TMP / --tmp). At the start of the run, export a fresh
# SMART_RUN_ID and point TMPDIR at a fresh folder given here as the temp
# folder: every child inherits the id, and every throwaway server lives
# under TMPDIR (redis-server overwrites its environment with its process
# title, so only its working directory, the folder it keeps its data in,
# tells whose it is). Call this at the end of the run.
# Only the kinds a run starts are looked at: redis-server, postgres, haproxy,
# etcd, dnsmasq, chromium/chrome, verdaccio and node (vitest workers,
# services, smart dev); this script and its own ancestors are left out.
#
# Prints one line per leftover, `pid<TAB>name<TAB>command line`, to stdout,
# and a summary to stderr. Exit status: 0 none left, 1 leftovers (with
# --kill they are also sent SIGKILL, the status stays 1), 2 usage.
# Needs read access to /proc/<pid>/environ of those processes (root, or the
# same user), which is how CI runs it.
set -euo pipefail

kill_them=false
id=${SMART_RUN_ID:-}
tmp=${SMART_RUN_TMP:-}
while [ $# -gt 0 ]; do
  case $1 in
    --kill) kill_them=true ;;
    --tmp) tmp=${2:?--tmp needs a folder}; shift ;;
    -h | --help) sed -n '2,24p' "$0"; exit 0 ;;
    -*) echo "check-leftovers: unknown option $1" >&2; exit 2 ;;
    *) id=$1 ;;
  esac
  shift
done
tmp=${tmp%/}
if [ -n "$tmp" ] && [ "$tmp" = /tmp ]; then
  echo "check-leftovers: the temp folder must be the run's own, not /tmp" >&2
  exit 2
fi
if [ -z "$id" ]; then
  echo "check-leftovers: give the run's id (SMART_RUN_ID=<id> or as an argument)" >&2
  exit 2
fi

KINDS='^(redis-server|postgres|haproxy|etcd|dnsmasq|chromium|chromium-browse|chrome|headless_shell|verdaccio|node)$'

# This script's own ancestors (the CI shell that calls it) are not leftovers.
declare -A mine=()
pid=$$
while [ -n "$pid" ] && [ "$pid" -gt 1 ]; do
  mine[$pid]=1
  pid=$(awk '{print $4}' "/proc/$pid/stat" 2>/dev/null || true)
done

found=0
for dir in /proc/[0-9]*; do
  pid=${dir#/proc/}
  [ -n "${mine[$pid]:-}" ] && continue
  name=$(cat "$dir/comm" 2>/dev/null || true)
  [[ $name =~ $KINDS ]] || continue
  args=$({ tr '\0' ' ' <"$dir/cmdline"; } 2>/dev/null | sed 's/ *$//' || true)
  ours=false
  if { tr '\0' '\n' <"$dir/environ"; } 2>/dev/null | grep -qx "SMART_RUN_ID=$id"; then
    ours=true
  elif [ -n "$tmp" ]; then
    cwd=$(readlink "$dir/cwd" 2>/dev/null || true)
    case "$cwd/ $args" in "$tmp"/* | *" $tmp"/* | *"=$tmp"/*) ours=true ;; esac
  fi
  $ours || continue
  printf '%s\t%s\t%s\n' "$pid" "$name" "$args"
  found=$((found + 1))
  if $kill_them; then kill -KILL "$pid" 2>/dev/null || true; fi
done

if [ "$found" -gt 0 ]; then
  echo "check-leftovers: $found process(es) of run $id still alive$($kill_them && echo ', killed')" >&2
  exit 1
fi
echo "check-leftovers: no process of run $id left" >&2
