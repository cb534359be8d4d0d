#!/usr/bin/env bash
# build.sh — builds the pinned SeaweedFS server binary `weed` (master, volume
# server, filer and S3 gateway in one) from Go modules into
#   ${RINGTRAIN_CACHE_DIR:-$HOME/.cache/ringtrain}/s3server/<key>/bin/weed
# where <key> names the pinned version (read from go.mod).
#
# Idempotent: a weed already in the bin dir is not rebuilt. It is built into
# a temp dir inside the bin dir and renamed into place, so an interrupted
# build never leaves a half-written binary under its real name. Concurrent
# runs are serialised with flock.
#
# Go's own module and build caches are used (GOMODCACHE, GOCACHE: Go's
# defaults unless the caller sets them). Progress and timings go to stderr;
# the last line of stdout is the bin dir. On a build failure the tail of the
# build log is printed and the exit status is non-zero.
#
# Usage: build.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 0 ]] || s3_die "usage: build.sh (no arguments)"
GO="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
[[ -x "$GO" ]] || s3_die "no go toolchain (set GO=/path/to/go)"
export CGO_ENABLED=0
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export GOFLAGS="-buildvcs=false -mod=readonly"

s3_versions
mkdir -p "$S3_BIN"
exec 9>"$S3_CACHE_ROOT/$S3_KEY/.build.lock"
flock 9

# As upstream's release workflows (minus -extldflags -static: CGO is off, so
# the binary is static anyway); COMMIT shows in `weed version`.
ldflags="-s -w"
[[ -z "$SEAWEEDFS_COMMIT" ]] ||
  ldflags+=" -X $S3_MODULE/weed/util/version.COMMIT=$SEAWEEDFS_COMMIT"
pkg="$S3_MODULE/weed"

# Interrupted: stop the running go build (its whole process group) and
# remove the half-built output.
go_pid=""
on_signal() {
  trap - INT TERM
  if [[ -n "$go_pid" ]]; then
    kill -TERM -- "-$go_pid" 2>/dev/null || true
    wait "$go_pid" 2>/dev/null || true
  fi
  rm -rf "$S3_BIN"/.tmp-*
  echo "s3server: build interrupted" >&2
  exit 130
}
trap on_signal INT TERM

# Leftovers of a run that was killed outright.
rm -rf "$S3_BIN"/.tmp-*

if [[ -x "$S3_BIN/weed" ]]; then
  echo "s3server: weed: cached" >&2
else
  tmp="$(mktemp -d "$S3_BIN/.tmp-weed.XXXXXX")"
  log="$S3_CACHE_ROOT/$S3_KEY/build-weed.log"
  echo "s3server: weed: building $pkg@$SEAWEEDFS_VERSION ..." >&2
  start=$SECONDS
  # In a session of its own, so that a signal can stop go and its compiler
  # and linker children all at once (see on_signal).
  (cd "$S3_DIR" && exec setsid "$GO" build -p 2 -trimpath \
    -ldflags "$ldflags" -o "$tmp/weed" "$pkg") >"$log" 2>&1 9>&- &
  go_pid=$!
  if ! wait "$go_pid"; then
    go_pid=""
    echo "s3server: weed: go build failed; last lines of $log:" >&2
    tail -n 40 "$log" >&2
    rm -rf "$tmp"
    exit 1
  fi
  go_pid=""
  mv -f "$tmp/weed" "$S3_BIN/weed"
  rm -rf "$tmp"
  echo "s3server: weed: built in $((SECONDS - start)) s" >&2
fi
echo "$S3_BIN"
