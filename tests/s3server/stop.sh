#!/usr/bin/env bash
# stop.sh — stops the weed that start.sh started in DIR: TERM, then KILL
# after a grace period (RINGTRAIN_STOP_GRACE seconds, default 2); returns
# once it is gone. The pid in DIR/pid is only signalled if its command line
# still names DIR. Removes weed's gRPC Unix sockets in /tmp (their ports are
# read from DIR/weed.flags) and DIR/pid and DIR/credentials; keeps the data
# and the key pair, so start.sh DIR starts the same store again.
#
# Why KILL after 2 s: on TERM, `weed server` stops the volume server first
# and then the filer, whose last flush of its metadata change log needs a
# volume to write to; it retries for its fixed 15 s budget and then drops
# that tail ("shutdown flush dropped N bytes"), so a TERM alone always takes
# ~15 s. By then the volume server has shut down cleanly (volumes closed);
# the filer's leveldb store survives a KILL (write-ahead journal), and the
# metadata change log only feeds subscribers (replication, mounts), not S3.
#
# Usage: stop.sh DIR
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 1 ]] || s3_die "usage: stop.sh DIR"
[[ -d "$1" ]] || exit 0
dir="$(cd "$1" && pwd)"
grace="${RINGTRAIN_STOP_GRACE:-2}"

pid="$(cat "$dir/pid" 2>/dev/null || true)"
if s3_is_ours "$dir" "$pid"; then
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + grace))
  while s3_is_ours "$dir" "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
  if s3_is_ours "$dir" "$pid"; then
    kill -KILL "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 10))
    while s3_is_ours "$dir" "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
  fi
  if s3_is_ours "$dir" "$pid"; then
    s3_die "weed ($pid) is still running"
  fi
fi
rm -f "$dir/pid" "$dir/credentials"

# weed server puts each gRPC service's Unix socket at a fixed path in /tmp,
# and the filer's and S3's local sockets there too unless DIR was given.
if [[ -f "$dir/weed.flags" ]]; then
  own_local_sockets=0
  grep -q '^-filer.localSocket=' "$dir/weed.flags" && own_local_sockets=1
  while IFS='=' read -r flag port; do
    case "$flag" in
      -master.port.grpc) rm -f "/tmp/seaweedfs-master-grpc-$port.sock" ;;
      -volume.port.grpc) rm -f "/tmp/seaweedfs-volume-grpc-$port.sock" ;;
      -filer.port.grpc) rm -f "/tmp/seaweedfs-filer-grpc-$port.sock" ;;
      -s3.port.grpc) rm -f "/tmp/seaweedfs-s3-grpc-$port.sock" ;;
      -filer.port) ((own_local_sockets)) || rm -f "/tmp/seaweedfs-filer-$port.sock" ;;
      -s3.port) ((own_local_sockets)) || rm -f "/tmp/seaweedfs-s3-$port.sock" ;;
    esac
  done <"$dir/weed.flags"
fi
