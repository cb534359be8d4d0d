#!/usr/bin/env bash
# Checks the TrainingJob CRD with the API server's own validation code, offline, and compares
# the API server's verdicts with the C++ parser's:
#   1. builds tests/crd/schemacheck (Go, k8s.io/apiextensions-apiserver of the Kubernetes
#      release tests/controlplane pins) and runs it: the CRD must be accepted as a real API
#      server would accept it (structural schema, defaults, CEL compilation and cost), and each
#      document of tests/crd/cases/*.yaml and examples/*.yaml must be accepted or rejected as
#      its annotation test.ringtrain.io/api-error says, after pruning and defaulting;
#   2. runs every document through `ringtrain validate` (annotation
#      test.ringtrain.io/cxx-error), and every object the API server accepted, as defaulted by
#      it, must be accepted by the C++ parser too (the operator parses what it reads back).
# Usage: tests/crd/check_crd_schema.sh [RINGTRAIN_BINARY]
#        tests/crd/check_crd_schema.sh --build-only   (just builds schemacheck; `make test` does
#        it while C++ compiles)
#   RINGTRAIN_BINARY defaults to the first of build/release, build/rel, build/asan that has
#   runtime/ringtrain. BUILD_DIR (default build/crd) receives the schemacheck binary.
# Prints "N passed, M failed" last; exits non-zero on any failure.
# Needs: go (modules from the Go module proxy, or the module cache), python3 with PyYAML.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build_dir="${BUILD_DIR:-$root/build/crd}"
build_schemacheck() {
  mkdir -p "$build_dir"
  # The control plane's build flags (tests/controlplane/build.sh), so the packages of
  # apiextensions-apiserver that kube-apiserver already compiled come from Go's build cache.
  (cd "$root/tests/crd/schemacheck" && CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" \
    go build -trimpath -tags selinux,notest,grpcnotrace -o "$build_dir/schemacheck" .)
}
if [[ "${1:-}" == "--build-only" ]]; then
  build_schemacheck
  exit 0
fi
ringtrain="${1:-}"
if [[ -z "$ringtrain" ]]; then
  for d in release rel asan; do
    if [[ -x "$root/build/$d/runtime/ringtrain" ]]; then ringtrain="$root/build/$d/runtime/ringtrain"; break; fi
  done
fi
if [[ -z "$ringtrain" || ! -x "$ringtrain" ]]; then
  echo "check_crd_schema.sh: no ringtrain binary (build it, or pass its path)" >&2
  echo "0 passed, 1 failed"
  exit 2
fi

build_schemacheck

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/defaulted"
docs=("$root"/tests/crd/cases/*.yaml "$root"/examples/*.yaml)

status=0
"$build_dir/schemacheck" -defaulted "$tmp/defaulted" "$root/crds/ringtrain.io_trainingjobs.yaml" \
  "${docs[@]}" | tee "$tmp/api.out" || status=1
python3 "$root/tests/crd/crosscheck.py" "$ringtrain" --defaulted "$tmp/defaulted" "${docs[@]}" \
  | tee "$tmp/cxx.out" || status=1

total_passed=0 total_failed=0
for out in "$tmp/api.out" "$tmp/cxx.out"; do
  if line="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -1)"; then
    total_passed=$((total_passed + ${line%% *}))
    failed_part="${line#*, }"
    total_failed=$((total_failed + ${failed_part%% *}))
  else
    total_failed=$((total_failed + 1))
  fi
done
echo "$total_passed passed, $total_failed failed"
[[ $status -eq 0 && $total_failed -eq 0 ]]
