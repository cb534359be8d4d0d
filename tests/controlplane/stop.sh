#!/usr/bin/env bash
# stop.sh — stops the control plane that start.sh started in DIR: each
# component gets TERM, then KILL after a grace period (RINGTRAIN_STOP_GRACE
# seconds, default 15); returns once all of them are gone. Components are
# stopped in reverse start order. Only pids listed in DIR/pids whose command
# line still names DIR are signalled. State in DIR (etcd data, PKI) is kept.
#
# Usage: stop.sh DIR
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 1 ]] || cp_die "usage: stop.sh DIR"
[[ -d "$1" ]] || exit 0
dir="$(cd "$1" && pwd)"
for name in kube-controller-manager kube-apiserver etcd; do
  cp_stop_pid "$dir" "$name" "${RINGTRAIN_STOP_GRACE:-15}"
done
# Anything else a future start.sh might list.
if [[ -s "$dir/pids" ]]; then
  for name in $(awk '{ print $1 }' "$dir/pids"); do
    cp_stop_pid "$dir" "$name" "${RINGTRAIN_STOP_GRACE:-15}"
  done
fi
