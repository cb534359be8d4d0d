#!/usr/bin/env bash
# Lints and renders charts/ringtrain with helm and checks the rendered manifests:
#   - `helm lint --strict` of the chart with its defaults and with each
#     tests/crd/chart-values/good-*.yaml, then `helm template` of each, whose output must keep
#     the invariants of check_chart.py (least-privilege RBAC, security context, env, args);
#   - each tests/crd/chart-values/bad-*.yaml must be refused by `helm template` (by
#     values.schema.json or a template `fail`).
# helm: $HELM, else `helm` on PATH, else the pinned build of tests/controlplane/build.sh
# (built on first use). Prints "N passed, M failed" last; exits non-zero on any failure.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
chart="$root/charts/ringtrain"
values_dir="$root/tests/crd/chart-values"
helm="${HELM:-$(command -v helm || true)}"
if [[ -z "$helm" ]]; then
  helm="$("$root/tests/controlplane/build.sh" helm | tail -1)/helm"
fi
[[ -x "$helm" ]] || { echo "check_chart.sh: no helm binary ($helm)" >&2; echo "0 passed, 1 failed"; exit 2; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
release=rt
namespace=ringtrain-system
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }

if "$helm" lint --strict "$chart" >"$tmp/lint.out" 2>&1; then ok "helm lint --strict (defaults)"
else fail "helm lint --strict (defaults):"; sed 's/^/    /' "$tmp/lint.out"; fi

for values in "$values_dir"/good-*.yaml; do
  name="$(basename "$values")"
  if "$helm" lint --strict "$chart" -f "$values" >"$tmp/lint.out" 2>&1; then ok "helm lint --strict -f $name"
  else fail "helm lint --strict -f $name:"; sed 's/^/    /' "$tmp/lint.out"; fi
  if "$helm" template "$release" "$chart" --namespace "$namespace" --kube-version 1.34.0 \
      -f "$values" >"$tmp/rendered.yaml" 2>"$tmp/template.err"; then
    ok "helm template -f $name"
    if python3 "$root/tests/crd/check_chart.py" "$tmp/rendered.yaml" "$chart" "$values" \
        "$namespace" >"$tmp/check.out"; then
      ok "invariants of the manifests rendered with $name ($(tail -1 "$tmp/check.out"))"
    else
      fail "invariants of the manifests rendered with $name:"; grep -v '^ok' "$tmp/check.out" | sed 's/^/    /'
    fi
  else
    fail "helm template -f $name:"; sed 's/^/    /' "$tmp/template.err"
  fi
done

for values in "$values_dir"/bad-*.yaml; do
  name="$(basename "$values")"
  # Only `helm template` (what install runs): `helm lint` reports a template's `fail` as INFO.
  if "$helm" template "$release" "$chart" --namespace "$namespace" -f "$values" \
      >/dev/null 2>"$tmp/template.err"; then
    fail "helm template -f $name: accepted, want refused"
  else ok "helm template -f $name is refused: $(grep -m1 -E 'Error|error' "$tmp/template.err" | cut -c1-160)"; fi
done

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
