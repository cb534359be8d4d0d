# shellcheck shell=bash
# lib.sh — shared helpers for the control-plane scripts (sourced, not run).
#
# The pinned versions are read from the go.mod files next to this file, so
# go.mod is the single source of truth: change a version there (and run
# `go mod tidy`), and the cache key — hence the bin dir — changes with it.

CP_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CP_CACHE_ROOT="${RINGTRAIN_CACHE_DIR:-$HOME/.cache/ringtrain}/controlplane"

cp_die() {
  echo "controlplane: error: $*" >&2
  exit 1
}

# cp_mod_version FILE MODULE: the version FILE's require block pins MODULE at.
cp_mod_version() {
  awk -v m="$2" '
    $1 == "require" && $2 == m { print $3; exit }
    $1 == "require" && $2 == "(" { inreq = 1; next }
    inreq && $1 == ")" { inreq = 0; next }
    inreq && $1 == m { print $2; exit }
  ' "$1"
}

cp_versions() {
  K8S_VERSION="$(cp_mod_version "$CP_DIR/go.mod" k8s.io/kubernetes)"
  ETCD_VERSION="$(cp_mod_version "$CP_DIR/go.mod" go.etcd.io/etcd/server/v3)"
  HELM_VERSION="$(cp_mod_version "$CP_DIR/helm/go.mod" helm.sh/helm/v3)"
  [[ -n "$K8S_VERSION" && -n "$ETCD_VERSION" && -n "$HELM_VERSION" ]] ||
    cp_die "cannot read pinned versions from $CP_DIR/go.mod and $CP_DIR/helm/go.mod"
  CP_KEY="k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_helm-${HELM_VERSION}"
  CP_BIN="$CP_CACHE_ROOT/$CP_KEY/bin"
}

# The binaries build.sh produces, in build order.
CP_BINARIES=(etcd kube-apiserver kube-controller-manager kubectl helm)

# cp_bin_dir: prints the bin dir to use. RINGTRAIN_CONTROLPLANE_BIN overrides
# the cache (e.g. to test other binaries); otherwise the pinned cache entry.
cp_bin_dir() {
  if [[ -n "${RINGTRAIN_CONTROLPLANE_BIN:-}" ]]; then
    echo "$RINGTRAIN_CONTROLPLANE_BIN"
  else
    cp_versions
    echo "$CP_BIN"
  fi
}

# cp_free_port: prints a TCP port on 127.0.0.1 that was free a moment ago.
# The kernel picks it (bind to port 0); a race with another process taking it
# before we do is possible, so callers retry a start that fails to bind.
cp_free_port() {
  python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# cp_alive PID: true if PID exists and is not a zombie.
cp_alive() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [[ "${stat:0:1}" != Z ]]
}

# cp_wait_until DEADLINE_SECONDS DESCRIPTION PID CMD...: polls CMD (every
# 0.2 s) until it succeeds; fails if PID dies or the deadline passes.
cp_wait_until() {
  local timeout="$1" what="$2" pid="$3"
  local deadline=$((SECONDS + timeout))
  shift 3
  while ! "$@" >/dev/null 2>&1; do
    if ! cp_alive "$pid"; then
      echo "controlplane: $what: process $pid exited before it was ready" >&2
      return 1
    fi
    if ((SECONDS >= deadline)); then
      echo "controlplane: $what: not ready within $timeout s" >&2
      return 1
    fi
    sleep 0.2
  done
}

# cp_wait_condition TIMEOUT CONDITION KUBECTL [ARGS...]: polls (every 0.5 s)
# `KUBECTL ARGS... -o jsonpath=...`, where ARGS get one object (`get crd/NAME`,
# `-n NS get tj/NAME`), until the object's status.conditions has type
# CONDITION (exact case) with status True. Prints what it waited for; after
# TIMEOUT seconds fails, printing the conditions (or the error) it saw last.
# Use it, not `kubectl wait --for=condition=...`, after a create: kubectl
# 1.34's wait fails at once instead of waiting while .status.conditions is
# still null, as it is for a CRD just applied.
cp_wait_condition() {
  local timeout="$1" cond="$2" got
  shift 2
  local what="condition $cond=True of \`kubectl ${*:2}\`"
  local deadline=$((SECONDS + timeout))
  local jsonpath="jsonpath={.status.conditions[?(@.type==\"$cond\")].status}"
  while true; do
    if got="$("$@" -o "$jsonpath" 2>&1)" && [[ "$got" == True ]]; then
      echo "$what: met"
      return 0
    fi
    if ((SECONDS >= deadline)); then
      got="$("$@" -o 'jsonpath={.status.conditions}' 2>&1)"
      echo "$what: not met within $timeout s; last seen: ${got:-no conditions}"
      return 1
    fi
    sleep 0.5
  done
}

# ---------------------------------------------------------------------------
# Process bookkeeping. DIR/pids holds one "NAME PID" line per component.
# A pid is only signalled if /proc/PID/cmdline still mentions DIR, so a pid
# that the kernel has recycled for an unrelated process is never touched.

# cp_pid_of DIR NAME: prints NAME's pid from DIR/pids (nothing if absent).
cp_pid_of() {
  [[ -f "$1/pids" ]] || return 0
  awk -v n="$2" '$1 == n { print $2 }' "$1/pids" | tail -n 1
}

# cp_set_pid DIR NAME PID: records PID for NAME (PID empty: removes NAME).
cp_set_pid() {
  local f="$1/pids"
  touch "$f"
  { grep -v "^$2 " "$f" || true; } >"$f.tmp"
  [[ -z "$3" ]] || echo "$2 $3" >>"$f.tmp"
  mv -f "$f.tmp" "$f"
}

# cp_is_ours DIR PID: true if PID is alive and its command line names DIR.
cp_is_ours() {
  [[ -n "$2" && -r "/proc/$2/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$2/cmdline" | grep -qF -- "$1/"
}

# cp_stop_pid DIR NAME [GRACE_SECONDS]: TERM, then KILL after the grace
# period (default 15 s); waits until the process is gone.
cp_stop_pid() {
  local dir="$1" name="$2" grace="${3:-15}" pid
  pid="$(cp_pid_of "$dir" "$name")"
  if cp_is_ours "$dir" "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + grace))
    while cp_is_ours "$dir" "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    if cp_is_ours "$dir" "$pid"; then
      echo "controlplane: $name ($pid) ignored TERM for ${grace}s; sending KILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
      deadline=$((SECONDS + 10))
      while cp_is_ours "$dir" "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    fi
  fi
  cp_set_pid "$dir" "$name" ""
}

# cp_log_tail DIR NAME: prints the tail of NAME's log to stderr.
cp_log_tail() {
  echo "---- last lines of $1/$2.log ----" >&2
  tail -n 30 "$1/$2.log" >&2 2>/dev/null || echo "(no log)" >&2
  echo "----" >&2
}

# cp_launch DIR NAME FLAGSFILE: starts $CP_BIN_DIR/NAME with the flags in
# FLAGSFILE (one per line) in a session of its own (so a Ctrl-C aimed at
# the caller does not reach it), logging to DIR/NAME.log; records its pid.
cp_launch() {
  local dir="$1" name="$2" flags=()
  mapfile -t flags <"$3"
  setsid "$CP_BIN_DIR/$name" "${flags[@]}" </dev/null >>"$dir/$name.log" 2>&1 &
  cp_set_pid "$dir" "$name" "$!"
}

# cp_https_get DIR PORT PATH: GET https://127.0.0.1:PORT/PATH as the admin.
cp_https_get() {
  curl -fsS --max-time 5 --cacert "$1/pki/ca.crt" \
    -H "Authorization: Bearer $(cat "$1/pki/admin.token")" \
    "https://127.0.0.1:$2/$3"
}

cp_apiserver_ready() {
  [[ "$(cp_https_get "$1" "$2" 'readyz')" == ok ]]
}

# cp_start_apiserver DIR: starts kube-apiserver with DIR/apiserver.flags and
# waits for /readyz. On failure prints the log tail and returns 1 (the
# failed process is stopped; the caller decides about the rest).
cp_start_apiserver() {
  local dir="$1" port
  port="$(cat "$dir/apiserver.port")"
  echo "==== $(date -u +%FT%TZ) controlplane: starting kube-apiserver ====" >>"$dir/kube-apiserver.log"
  cp_launch "$dir" kube-apiserver "$dir/apiserver.flags"
  if ! cp_wait_until "${RINGTRAIN_CONTROLPLANE_TIMEOUT:-180}" kube-apiserver \
    "$(cp_pid_of "$dir" kube-apiserver)" cp_apiserver_ready "$dir" "$port"; then
    cp_log_tail "$dir" kube-apiserver
    cp_stop_pid "$dir" kube-apiserver 5
    return 1
  fi
}
