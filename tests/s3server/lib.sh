# shellcheck shell=bash
# lib.sh — shared helpers for the s3server scripts (sourced, not run).
#
# The pinned SeaweedFS version is read from go.mod next to this file, so
# go.mod is the single source of truth: change the version there (and run
# `go mod tidy`), and the cache key — hence the bin dir — changes with it.

S3_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
S3_CACHE_ROOT="${RINGTRAIN_CACHE_DIR:-$HOME/.cache/ringtrain}/s3server"
S3_MODULE=github.com/seaweedfs/seaweedfs

s3_die() {
  echo "s3server: error: $*" >&2
  exit 1
}

# s3_mod_version FILE MODULE: the version FILE's require block pins MODULE at.
s3_mod_version() {
  awk -v m="$2" '
    $1 == "require" && $2 == m { print $3; exit }
    $1 == "require" && $2 == "(" { inreq = 1; next }
    inreq && $1 == ")" { inreq = 0; next }
    inreq && $1 == m { print $2; exit }
  ' "$1"
}

# s3_versions: sets SEAWEEDFS_VERSION, SEAWEEDFS_COMMIT (the pseudo-version's
# commit hash, empty for a tagged release), S3_KEY and S3_BIN.
# shellcheck disable=SC2034 # SEAWEEDFS_COMMIT is used by build.sh
s3_versions() {
  SEAWEEDFS_VERSION="$(s3_mod_version "$S3_DIR/go.mod" "$S3_MODULE")"
  [[ -n "$SEAWEEDFS_VERSION" ]] ||
    s3_die "cannot read the pinned $S3_MODULE version from $S3_DIR/go.mod"
  SEAWEEDFS_COMMIT=""
  if [[ "$SEAWEEDFS_VERSION" =~ -[0-9]{14}-([0-9a-f]{12})$ ]]; then
    SEAWEEDFS_COMMIT="${BASH_REMATCH[1]}"
  fi
  S3_KEY="seaweedfs-${SEAWEEDFS_VERSION}"
  S3_BIN="$S3_CACHE_ROOT/$S3_KEY/bin"
}

# s3_bin_dir: prints the bin dir to use. RINGTRAIN_S3SERVER_BIN overrides the
# cache (e.g. to test another weed); otherwise the pinned cache entry.
s3_bin_dir() {
  if [[ -n "${RINGTRAIN_S3SERVER_BIN:-}" ]]; then
    echo "$RINGTRAIN_S3SERVER_BIN"
  else
    s3_versions
    echo "$S3_BIN"
  fi
}

# s3_free_ports N: prints N distinct TCP ports on 127.0.0.1 that were free a
# moment ago (the kernel picks them: bind to port 0, all held at once so they
# differ). Another process may take one before weed does, so callers retry a
# start that fails to bind.
s3_free_ports() {
  python3 -c 'import socket, sys
held = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    held.append(s)
print(" ".join(str(s.getsockname()[1]) for s in held))' "$1"
}

# s3_ports_free PORT...: true if every PORT can be bound on 127.0.0.1 now
# (with SO_REUSEADDR, as Go's listeners: a port whose connections of a
# stopped weed are in TIME_WAIT counts as free).
s3_ports_free() {
  python3 -c 'import socket, sys
for p in sys.argv[1:]:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", int(p)))
    except OSError:
        sys.exit(1)
    finally:
        s.close()' "$@"
}

# s3_alive PID: true if PID exists and is not a zombie.
s3_alive() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [[ "${stat:0:1}" != Z ]]
}

# s3_is_ours DIR PID: true if PID is alive and its command line names DIR
# (so a pid the kernel has recycled for an unrelated process is never
# signalled).
s3_is_ours() {
  [[ -n "$2" && -r "/proc/$2/cmdline" ]] || return 1
  s3_alive "$2" || return 1
  tr '\0' ' ' <"/proc/$2/cmdline" | grep -qF -- "$1/"
}

# s3_log_tail DIR: prints the tail of DIR/weed.log to stderr.
s3_log_tail() {
  echo "---- last lines of $1/weed.log ----" >&2
  tail -n 30 "$1/weed.log" >&2 2>/dev/null || echo "(no log)" >&2
  echo "----" >&2
}
