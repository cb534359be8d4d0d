#!/usr/bin/env bash
# smoke_test.sh — proves the pinned control plane works end to end: builds
# (a no-op when cached), starts etcd + kube-apiserver + kube-controller-
# manager in a temp dir and drives them with the real kubectl and helm:
# version, CRD with a structural schema and status subresource, schema
# rejection, a Pod whose status is patched the way a fake kubelet would,
# helm install/uninstall, apiserver restart, garbage collection of an owned
# object, and a clean stop. Prints "ok"/"FAIL" per check and, last,
# "N passed, M failed"; exits 0 only if every check passed.
#
# Usage: smoke_test.sh [--no-controller-manager]
# RINGTRAIN_KEEP_SMOKE_DIR=1 keeps the temp dir (logs) after the run.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
with_kcm=1
[[ "${1:-}" == --no-controller-manager ]] && with_kcm=0

CHECKS_NAME="smoke test"
source "$here/checks.sh"

# ---- build -----------------------------------------------------------------
if ! bin="$("$here/build.sh" | tail -n 1)" || [[ ! -x "$bin/kubectl" ]]; then
  fail "build.sh"
  finish
fi
ok "build.sh -> $bin"
kubectl="$bin/kubectl"
helm="$bin/helm"

# ---- start -----------------------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/ringtrain-smoke.XXXXXX")"
cleanup() {
  "$here/stop.sh" "$work/cp" >/dev/null 2>&1
  if [[ "${RINGTRAIN_KEEP_SMOKE_DIR:-0}" == 1 ]]; then
    echo "kept $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
start_flags=()
((with_kcm)) && start_flags+=(--with-controller-manager)
start_t=$SECONDS
if ! out="$(RINGTRAIN_CONTROLPLANE_BIN="$bin" "$here/start.sh" "${start_flags[@]}" "$work/cp" 2>&1)"; then
  fail "start.sh" "$out"
  finish
fi
ok "start.sh (ready in $((SECONDS - start_t)) s)"
# shellcheck source=/dev/null
source "$work/cp/env"
check "env names the bin dir" test "$RINGTRAIN_CONTROLPLANE_BIN" = "$bin"
source "$here/lib.sh"
cp_versions
k8s_version="$K8S_VERSION"
helm_version="$HELM_VERSION"

# ---- kubectl basics ----------------------------------------------------------
check_out "kubectl version: client $k8s_version" "^Client Version: ${k8s_version//./\\.}$" "$kubectl" version
check_out "kubectl version: server $k8s_version" "^Server Version: ${k8s_version//./\\.}$" "$kubectl" version
check_out "GET /version with the bearer token and CA" "\"gitVersion\": \"${k8s_version//./\\.}\"" \
  curl -fsS --cacert "$RINGTRAIN_CA_FILE" -H "Authorization: Bearer $RINGTRAIN_TOKEN" "$RINGTRAIN_APISERVER_URL/version"
check_out "anonymous request is not admin" '^(401|403)$' \
  curl -sS -o /dev/null -w '%{http_code}' --cacert "$RINGTRAIN_CA_FILE" "$RINGTRAIN_APISERVER_URL/api/v1/namespaces"
check_out "kubectl get ns default" '^default +Active' "$kubectl" get ns default --no-headers
check_out "RBAC authorizer is on (admin can do anything)" '^yes$' "$kubectl" auth can-i '*' '*'

# ---- CRD -----------------------------------------------------------------------
cat >"$work/crd.yaml" <<'EOF'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: smokejobs.smoke.ringtrain.io
spec:
  group: smoke.ringtrain.io
  scope: Namespaced
  names: {plural: smokejobs, singular: smokejob, kind: SmokeJob, shortNames: [sj]}
  versions:
  - name: v1alpha1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
    - {name: Phase, type: string, jsonPath: .status.phase}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [image, replicas]
            properties:
              image: {type: string, minLength: 1}
              replicas: {type: integer, minimum: 1, maximum: 64}
          status:
            type: object
            properties:
              phase: {type: string, enum: [Pending, Running, Succeeded, Failed]}
EOF
check "kubectl apply CRD" "$kubectl" apply -f "$work/crd.yaml"
check "CRD becomes Established" cp_wait_condition 120 Established \
  "$kubectl" get crd/smokejobs.smoke.ringtrain.io
cat >"$work/sj-good.yaml" <<'EOF'
apiVersion: smoke.ringtrain.io/v1alpha1
kind: SmokeJob
metadata: {name: good}
spec: {image: "ringtrain/worker:1", replicas: 3}
EOF
cat >"$work/sj-bad.yaml" <<'EOF'
apiVersion: smoke.ringtrain.io/v1alpha1
kind: SmokeJob
metadata: {name: bad}
spec: {image: "ringtrain/worker:1", replicas: 0}
EOF
check "create a SmokeJob" "$kubectl" create -f "$work/sj-good.yaml"
check_fails "schema-invalid SmokeJob is rejected, naming spec.replicas" \
  'spec\.replicas: Invalid value: 0: spec\.replicas in body should be greater than or equal to 1' \
  "$kubectl" create -f "$work/sj-bad.yaml"
check_fails "a SmokeJob without the required spec.image is rejected" 'spec\.image: Required value' \
  "$kubectl" create -f - <<<'{"apiVersion":"smoke.ringtrain.io/v1alpha1","kind":"SmokeJob",
  "metadata":{"name":"noimage"},"spec":{"replicas":1}}'
check_out "kubectl get smokejob" '^good +3 ' "$kubectl" get sj good --no-headers
check "status subresource: patch SmokeJob status" "$kubectl" patch smokejob good \
  --subresource=status --type=merge -p '{"status":{"phase":"Running"}}'
check_out "status subresource: phase read back" '^Running$' \
  "$kubectl" get smokejob good -o 'jsonpath={.status.phase}'
check_out "status is ignored on the main resource" '^Running$' sh -c \
  "'$kubectl' patch smokejob good --type=merge -p '{\"status\":{\"phase\":\"Failed\"}}' >/dev/null &&
   '$kubectl' get smokejob good -o 'jsonpath={.status.phase}'"

# ---- Pod status faked the way a kubelet would report it ------------------------
cat >"$work/pod.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: fake-worker}
spec:
  restartPolicy: Never
  containers:
  - {name: worker, image: "ringtrain/worker:1", command: ["/bin/true"]}
EOF
check "create a Pod" "$kubectl" create -f "$work/pod.yaml"
check_out "the Pod stays Pending (nothing runs pods)" '^Pending$' \
  "$kubectl" get pod fake-worker -o 'jsonpath={.status.phase}'
pod_status='{"status":{"phase":"Succeeded","containerStatuses":[{"name":"worker",
  "image":"ringtrain/worker:1","imageID":"","ready":false,"restartCount":0,
  "state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]}}'
check "kubectl patch --subresource=status phase=Succeeded" "$kubectl" patch pod fake-worker \
  --subresource=status --type=merge -p "$pod_status"
check_out "Pod status read back: Succeeded, exit code 0" '^Succeeded 0$' "$kubectl" get pod fake-worker \
  -o 'jsonpath={.status.phase} {.status.containerStatuses[0].state.terminated.exitCode}'

# ---- helm ------------------------------------------------------------------------
export HELM_CACHE_HOME="$work/helm/cache" HELM_CONFIG_HOME="$work/helm/config" \
  HELM_DATA_HOME="$work/helm/data"
check_out "helm version: $helm_version" "Version:\"${helm_version//./\\.}\"" "$helm" version
mkdir -p "$work/chart/templates"
cat >"$work/chart/Chart.yaml" <<'EOF'
apiVersion: v2
name: smoke
version: 0.1.0
kubeVersion: ">=1.34.0-0"
EOF
cat >"$work/chart/values.yaml" <<'EOF'
greeting: hello
EOF
cat >"$work/chart/templates/configmap.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
data:
  greeting: {{ .Values.greeting | quote }}
EOF
check "helm install" "$helm" install smoke "$work/chart" --namespace default \
  --set greeting=from-helm --wait --timeout 120s
check_out "helm list shows the release deployed" '^smoke\s.*\sdeployed\s' "$helm" list --namespace default
check_out "the chart's ConfigMap is in the cluster" '^from-helm$' \
  "$kubectl" get configmap smoke-config -o 'jsonpath={.data.greeting}'
check "helm uninstall" "$helm" uninstall smoke --namespace default --wait --timeout 120s
check_fails "the chart's ConfigMap is gone" 'NotFound' "$kubectl" get configmap smoke-config

# ---- apiserver restart --------------------------------------------------------------
restart_t=$SECONDS
if ! out="$("$here/restart-apiserver.sh" "$work/cp" 2>&1)"; then
  fail "restart-apiserver.sh (graceful)" "$out"
elif grep -q 'ignored TERM' <<<"$out"; then
  # Open watches must not hold the apiserver's exit (--shutdown-send-retry-after).
  fail "restart-apiserver.sh: kube-apiserver exits on TERM without needing KILL" "$out"
else
  ok "restart-apiserver.sh (graceful, $((SECONDS - restart_t)) s)"
fi
check "restart-apiserver.sh crash (KILL, then start)" "$here/restart-apiserver.sh" "$work/cp" crash
check_out "objects survive the apiserver restart" '^good +3 ' "$kubectl" get sj good --no-headers

# ---- garbage collection (needs kube-controller-manager) ---------------------------
if ((with_kcm)); then
  uid="$("$kubectl" get smokejob good -o 'jsonpath={.metadata.uid}')"
  cat >"$work/owned.yaml" <<EOF
apiVersion: v1
kind: ConfigMap
metadata:
  name: owned-by-good
  ownerReferences:
  - {apiVersion: smoke.ringtrain.io/v1alpha1, kind: SmokeJob, name: good, uid: "$uid", controller: true}
data: {role: worker-config}
EOF
  check "create a ConfigMap owned by the SmokeJob" "$kubectl" create -f "$work/owned.yaml"
  check "delete the owner" "$kubectl" delete smokejob good --wait=true --timeout=60s
  # The garbage collector notices a new CRD's resource at its next discovery
  # resync (every 30 s), so this can take that long.
  gc_t=$SECONDS
  if out="$("$kubectl" wait --for=delete configmap/owned-by-good --timeout=120s 2>&1)"; then
    ok "garbage collector deletes the owned ConfigMap (after $((SECONDS - gc_t)) s)"
  else
    fail "garbage collector deletes the owned ConfigMap" "$out"
  fi
fi

# ---- stop ------------------------------------------------------------------------------
pids="$(awk '{ print $2 }' "$work/cp/pids")"
check "stop.sh" "$here/stop.sh" "$work/cp"
left=""
for pid in $pids; do
  if [[ -d "/proc/$pid" ]] && grep -qF "$work/cp" "/proc/$pid/cmdline" 2>/dev/null; then
    left+=" $pid"
  fi
done
if [[ -z "$left" && -n "$pids" ]]; then
  ok "no control-plane process is left ($(wc -w <<<"$pids") stopped)"
else
  fail "no control-plane process is left" "still running:$left"
fi
finish
