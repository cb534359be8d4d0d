#!/usr/bin/env bash
# build.sh — builds the pinned control-plane binaries (etcd, kube-apiserver,
# kube-controller-manager, kubectl, helm) from Go modules into
#   ${RINGTRAIN_CACHE_DIR:-$HOME/.cache/ringtrain}/controlplane/<key>/bin/
# where <key> names the pinned versions (read from go.mod and helm/go.mod).
#
# Idempotent: a binary already in the bin dir is not rebuilt. Each binary is
# built into a temp dir inside the bin dir and renamed into place, so an
# interrupted build never leaves a half-written binary under its real name.
# Concurrent runs are serialised with flock.
#
# Go's own module and build caches are used (GOMODCACHE, GOCACHE: Go's
# defaults unless the caller sets them). Progress and timings go to stderr;
# the last line of stdout is the bin dir. On a build failure the tail of
# that binary's build log is printed and the exit status is non-zero.
#
# Usage: build.sh [BINARY...]   (default: all of them)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GO="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
[[ -x "$GO" ]] || cp_die "no go toolchain (set GO=/path/to/go)"
export CGO_ENABLED=0
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export GOFLAGS="-buildvcs=false -mod=readonly"

cp_versions
# Every k8s.io staging module must be replaced by the release that matches
# k8s.io/kubernetes (v1.34.4 -> v0.34.4); a half-done version bump fails here.
staging="v0.${K8S_VERSION#v1.}"
bad="$(awk -v want="$staging" '$1 ~ /^k8s\.io\// && $2 == "=>" && $4 != want { print $1 " " $4 }' "$CP_DIR/go.mod")"
[[ -z "$bad" ]] || cp_die "go.mod: staging modules not replaced by $staging: $bad"
mkdir -p "$CP_BIN"
exec 9>"$CP_CACHE_ROOT/$CP_KEY/.build.lock"
flock 9

k8s_minor="${K8S_VERSION#v1.}"
k8s_minor="${k8s_minor%%.*}"
k8s_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1"
  k8s_ldflags+=" -X $pkg.gitMinor=$k8s_minor -X $pkg.gitTreeState=clean"
  k8s_ldflags+=" -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
# The tags upstream's hack/lib/golang.sh uses for release builds.
k8s_tags="selinux,notest,grpcnotrace"
helm_ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
helm_ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  helm_ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
done

# build_one NAME: builds NAME unless it is already in $CP_BIN.
build_one() {
  local name="$1" moddir pkg tags="" ldflags
  case "$name" in
    etcd) moddir="$CP_DIR" pkg=go.etcd.io/etcd/server/v3 ldflags="-s -w" ;;
    kube-apiserver | kube-controller-manager | kubectl)
      moddir="$CP_DIR" pkg="k8s.io/kubernetes/cmd/$name"
      ldflags="$k8s_ldflags" tags="$k8s_tags" ;;
    helm) moddir="$CP_DIR/helm" pkg=helm.sh/helm/v3/cmd/helm ldflags="$helm_ldflags" ;;
    *) cp_die "unknown binary '$name' (known: ${CP_BINARIES[*]})" ;;
  esac
  if [[ -x "$CP_BIN/$name" ]]; then
    echo "controlplane: $name: cached" >&2
    return 0
  fi
  local tmp log start
  tmp="$(mktemp -d "$CP_BIN/.tmp-$name.XXXXXX")"
  log="$CP_CACHE_ROOT/$CP_KEY/build-$name.log"
  echo "controlplane: $name: building $pkg ..." >&2
  start=$SECONDS
  # In a session of its own, so that a signal can stop go and its compiler
  # and linker children all at once (see on_signal).
  (cd "$moddir" && exec setsid "$GO" build -p 2 -trimpath -tags "$tags" \
    -ldflags "$ldflags" -o "$tmp/$name" "$pkg") >"$log" 2>&1 9>&- &
  go_pid=$!
  if ! wait "$go_pid"; then
    go_pid=""
    echo "controlplane: $name: go build failed; last lines of $log:" >&2
    tail -n 40 "$log" >&2
    rm -rf "$tmp"
    return 1
  fi
  go_pid=""
  mv -f "$tmp/$name" "$CP_BIN/$name"
  rm -rf "$tmp"
  echo "controlplane: $name: built in $((SECONDS - start)) s" >&2
}

# Interrupted: stop the running go build (its whole process group) and
# remove the half-built output.
go_pid=""
on_signal() {
  trap - INT TERM
  if [[ -n "$go_pid" ]]; then
    kill -TERM -- "-$go_pid" 2>/dev/null || true
    wait "$go_pid" 2>/dev/null || true
  fi
  rm -rf "$CP_BIN"/.tmp-*
  echo "controlplane: build interrupted" >&2
  exit 130
}
trap on_signal INT TERM

# Leftovers of a run that was killed outright.
rm -rf "$CP_BIN"/.tmp-*

targets=("$@")
((${#targets[@]})) || targets=("${CP_BINARIES[@]}")
for name in "${targets[@]}"; do
  build_one "$name"
done
echo "$CP_BIN"
