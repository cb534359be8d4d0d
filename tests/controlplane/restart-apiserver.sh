#!/usr/bin/env bash
# restart-apiserver.sh — stops and/or starts only the kube-apiserver of the
# control plane that start.sh started in DIR, with the same flags, port,
# certificates and etcd, so clients (kubeconfig, an operator under test) keep
# working once it is back. For "API server restart while the operator runs".
#
# Usage: restart-apiserver.sh DIR [restart|stop|start|crash]  (default: restart)
#   stop     TERM (KILL after RINGTRAIN_STOP_GRACE s, default 15), wait until
#            the process is gone; a graceful stop takes 1-3 s
#   start    start it and wait (polling, deadline
#            RINGTRAIN_CONTROLPLANE_TIMEOUT s, default 180) until /readyz is ok
#   restart  stop, then start
#   crash    KILL (no graceful shutdown: connections just break), then start
# Exits non-zero (printing the log tail) if the apiserver does not come back.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -ge 1 && $# -le 2 ]] || cp_die "usage: restart-apiserver.sh DIR [restart|stop|start|crash]"
[[ -f "$1/apiserver.flags" ]] || cp_die "$1 holds no control plane (no apiserver.flags)"
dir="$(cd "$1" && pwd)"
action="${2:-restart}"
CP_BIN_DIR="$(cat "$dir/bindir")"

case "$action" in
  stop | restart) cp_stop_pid "$dir" kube-apiserver "${RINGTRAIN_STOP_GRACE:-15}" ;;
  crash)
    pid="$(cp_pid_of "$dir" kube-apiserver)"
    cp_is_ours "$dir" "$pid" || cp_die "kube-apiserver is not running for $dir"
    kill -KILL "$pid"
    cp_stop_pid "$dir" kube-apiserver 10
    ;;
  start) ;;
  *) cp_die "unknown action '$action' (restart, stop, start or crash)" ;;
esac
case "$action" in
  start | restart | crash)
    if cp_is_ours "$dir" "$(cp_pid_of "$dir" kube-apiserver)"; then
      cp_die "kube-apiserver is already running for $dir"
    fi
    cp_is_ours "$dir" "$(cp_pid_of "$dir" etcd)" || cp_die "etcd is not running for $dir"
    cp_start_apiserver "$dir" || cp_die "kube-apiserver did not come back"
    ;;
esac
