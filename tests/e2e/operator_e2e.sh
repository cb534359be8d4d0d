#!/usr/bin/env bash
# operator_e2e.sh — the operator as users meet it, against a real kube-apiserver + etcd, with
# the real helm and kubectl:
#   helm install of charts/ringtrain (CRD, RBAC, Deployment); the operator binary runs outside
#   the cluster (nothing runs pods here) with the token of the chart's own ServiceAccount, so
#   the chart's least-privilege RBAC is what it gets; kubectl apply of the example; kubectl get
#   (printer columns), describe, wait --for=condition=Succeeded once the test, playing the
#   kubelet, marks the workers succeeded; schema-invalid specs rejected naming the field; the
#   operator's /healthz, /readyz and /metrics; a standby replica taking over the Lease when the
#   leader stops; a restarted operator creating no duplicates; helm uninstall.
# Prints "ok"/"FAIL" per check and "N passed, M failed" last; exit 0 only if all passed.
#
# Usage: operator_e2e.sh OPERATOR_BINARY
# RINGTRAIN_KEEP_E2E_DIR=1 keeps the temp dir (logs) after the run.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
operator="${1:?usage: operator_e2e.sh OPERATOR_BINARY}"
CHECKS_NAME="operator e2e"
source "$here/e2e_lib.sh"
export HELM_CACHE_HOME="$work/helm/cache" HELM_CONFIG_HOME="$work/helm/config" \
  HELM_DATA_HOME="$work/helm/data"

# wait_for SECONDS CMD...: polls CMD every 0.2 s until it succeeds.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}
# The kubelet's part: pod POD (namespace NS) reports PHASE and, once terminated, EXIT.
set_pod() {
  local ns="$1" pod="$2" phase="$3" code="${4:-0}" state ready=false
  case "$phase" in
    Running) state='{"running":{"startedAt":"2026-12-01T00:00:00Z"}}'; ready=true ;;
    *) state="{\"terminated\":{\"exitCode\":$code,\"reason\":\"Completed\"}}" ;;
  esac
  "$kubectl" -n "$ns" patch pod "$pod" --subresource=status --type=merge -p \
    "{\"status\":{\"phase\":\"$phase\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"$([[ $ready == true ]] && echo True || echo False)\"}],
      \"containerStatuses\":[{\"name\":\"main\",\"image\":\"ringtrain/runtime:0.1.0\",\"imageID\":\"\",
      \"ready\":$ready,\"restartCount\":0,\"state\":$state}]}}" >/dev/null
}
pod_count() { "$kubectl" -n "$1" get pods -l "ringtrain.io/job-name=$2" --no-headers 2>/dev/null | wc -l; }
has_pods() { [[ "$(pod_count "$1" "$2")" == "$3" ]]; }
phase_is() { [[ "$("$kubectl" -n "$1" get tj "$2" -o 'jsonpath={.status.phase}')" == "$3" ]]; }

# ---- helm install ----------------------------------------------------------------
check "helm install charts/ringtrain" "$helm" install ringtrain "$root/charts/ringtrain" \
  --namespace ringtrain-system --create-namespace --set leaderElection=true
check_out "the CRD came with the chart" 'trainingjobs.ringtrain.io' "$kubectl" get crd
check "CRD established" cp_wait_condition 60 Established "$kubectl" get crd/trainingjobs.ringtrain.io
check_out "the operator Deployment exists" '^ringtrain-operator ' \
  "$kubectl" -n ringtrain-system get deploy --no-headers

# The operator runs here as the chart's ServiceAccount: only the chart's RBAC applies.
sa="$("$kubectl" -n ringtrain-system get deploy ringtrain-operator \
  -o 'jsonpath={.spec.template.spec.serviceAccountName}')"
token="$("$kubectl" -n ringtrain-system create token "$sa" --duration=2h 2>&1)" ||
  fail "kubectl create token $sa" "$token"
cat >"$work/operator.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "$RINGTRAIN_APISERVER_URL", certificate-authority: "$RINGTRAIN_CA_FILE"}}]
users: [{name: operator, user: {token: "$token"}}]
contexts: [{name: c, context: {cluster: c, user: operator, namespace: ringtrain-system}}]
current-context: c
EOF
for verb in get list watch; do
  check_out "the operator's account may not $verb Secrets" '^no$' \
    sh -c "'$kubectl' --kubeconfig '$work/operator.kubeconfig' auth can-i $verb secrets -A || true"
done
check_out "the operator's account may create Secrets (the jobs' keys)" '^yes$' \
  "$kubectl" --kubeconfig "$work/operator.kubeconfig" auth can-i create secrets -n ml
check_out "the operator's account may delete Secrets" '^yes$' \
  "$kubectl" --kubeconfig "$work/operator.kubeconfig" auth can-i delete secrets -n ml
# Training pods run as their namespace's default ServiceAccount, with no token mounted; the
# chart grants that account nothing either.
for what in "get pods" "get secrets" "get configmaps" "create pods" "get trainingjobs"; do
  check_out "a training pod's account may not $what" '^no$' \
    sh -c "'$kubectl' auth can-i $what -n ml --as=system:serviceaccount:ml:default || true"
done
# The operator's master secret, as the Deployment mounts it: every replica derives the jobs'
# keys from it.
"$kubectl" -n ringtrain-system get secret ringtrain-operator-key -o 'jsonpath={.data.master\.key}' |
  base64 -d >"$work/master.key"
chmod 0600 "$work/master.key"
check_out "the chart made a master secret" '^4[0-9]$' sh -c "wc -c <'$work/master.key'"
check_out "the operator's account may not patch Deployments" '^no$' \
  sh -c "'$kubectl' --kubeconfig '$work/operator.kubeconfig' auth can-i patch deployments -A || true"
check_out "the operator's account may create pods" '^yes$' \
  "$kubectl" --kubeconfig "$work/operator.kubeconfig" auth can-i create pods -n ml

# start_operator NAME: runs an operator replica (leader election on); its ports in
# $work/NAME.ports ("health metrics"), its log in $work/NAME.log.
start_operator() {
  local name="$1" hp mp
  hp="$(cp_free_port)"
  mp="$(cp_free_port)"
  echo "$hp $mp" >"$work/$name.ports"
  POD_NAMESPACE=ringtrain-system "$operator" --kubeconfig "$work/operator.kubeconfig" --leader-elect \
    --lease-namespace ringtrain-system --identity "$name" \
    --health-probe-bind-address "127.0.0.1:$hp" --metrics-bind-address "127.0.0.1:$mp" \
    --key-file "$work/master.key" \
    --operator-labels app.kubernetes.io/name=ringtrain,app.kubernetes.io/component=operator \
    >>"$work/$name.log" 2>&1 &
  e2e_pids+=($!)
  eval "${name//-/_}_pid=$!"
}
port_of() { cut -d' ' -f"$2" "$work/$1.ports"; }
http_get() { curl -fsS --max-time 5 "http://127.0.0.1:$1$2"; }

start_operator op-a
if wait_for 30 http_get "$(port_of op-a 1)" /readyz; then ok "op-a: /readyz"; else
  fail "op-a: /readyz" "$(tail -20 "$work/op-a.log")"
fi
check_out "op-a: /healthz ok" '^ok$' http_get "$(port_of op-a 1)" /healthz
if wait_for 30 sh -c "curl -fsS http://127.0.0.1:$(port_of op-a 2)/metrics | grep -q '^ringtrain_operator_leader 1'"; then
  ok "op-a leads (ringtrain_operator_leader 1)"
else
  fail "op-a leads" "$(tail -20 "$work/op-a.log")"
fi
start_operator op-b
if wait_for 30 http_get "$(port_of op-b 1)" /readyz; then ok "op-b (standby): /readyz"; else
  fail "op-b (standby): /readyz" "$(tail -20 "$work/op-b.log")"
fi
check_out "op-b stands by" '^ringtrain_operator_leader 0' \
  sh -c "curl -fsS http://127.0.0.1:$(port_of op-b 2)/metrics"
check_out "the Lease names op-a" '^op-a$' \
  "$kubectl" -n ringtrain-system get lease ringtrain-operator -o 'jsonpath={.spec.holderIdentity}'

# ---- kubectl apply of the example --------------------------------------------------
check "kubectl create namespace ml" "$kubectl" create namespace ml
check "kubectl apply -f examples/fashion-mnist.yaml" \
  "$kubectl" -n ml apply -f "$root/examples/fashion-mnist.yaml"
if wait_for 30 has_pods ml fashion-mnist 4; then ok "4 pods created (2 PS, 2 workers)"; else
  fail "4 pods created" "$("$kubectl" -n ml get pods 2>&1; tail -20 "$work/op-a.log")"
fi
check_out "headless services" '^fashion-mnist-ps +ClusterIP +None' \
  "$kubectl" -n ml get svc --no-headers
# Authentication (the default): a Secret of the job's keys, owned by it, the public keys in
# the ConfigMap, and each pod mounting its own key alone beside the spec.
check_out "the job's keys: a Secret owned by the job, a key per pod" \
  '^TrainingJob fashion-mnist ps-0.key ps-1.key worker-0.key worker-1.key$' \
  sh -c "'$kubectl' -n ml get secrets -l ringtrain.io/job-name=fashion-mnist -o json |
    python3 -c 'import json,sys; s=json.load(sys.stdin)[\"items\"][0]; r=s[\"metadata\"][\"ownerReferences\"][0];
print(r[\"kind\"], r[\"name\"], *sorted(s[\"data\"]))'"
check_out "the ConfigMap lists the public keys of every pod and the supervisor" '^5$' \
  sh -c "'$kubectl' -n ml get configmap fashion-mnist-spec -o 'jsonpath={.data.public-keys}' |
    grep -cE '^(supervisor|ps-[01]|worker-[01]) [^ ]{40}$'"
# The NetworkPolicy: the job's pods admit the job's pods on the data port, and the operator's
# pods (in its namespace) on the data and status ports. This control plane has no network
# plugin: the object is checked, not its enforcement.
check_out "a NetworkPolicy selects the job's pods" '^\{"ringtrain.io/job-name":"fashion-mnist"\} Ingress$' \
  "$kubectl" -n ml get networkpolicy fashion-mnist-network -o \
  'jsonpath={.spec.podSelector.matchLabels} {.spec.policyTypes[0]}'
check_out "... admitting the job's own pods on the data port" \
  '^\{"ringtrain.io/job-name":"fashion-mnist"\} 7070$' \
  "$kubectl" -n ml get networkpolicy fashion-mnist-network -o \
  'jsonpath={.spec.ingress[0].from[0].podSelector.matchLabels} {.spec.ingress[0].ports[*].port}'
check_out "... and the operator's pods on the data and status ports" \
  '^ringtrain-system operator 7070 7071 7072$' \
  "$kubectl" -n ml get networkpolicy fashion-mnist-network -o \
  'jsonpath={.spec.ingress[1].from[0].namespaceSelector.matchLabels.kubernetes\.io/metadata\.name} {.spec.ingress[1].from[0].podSelector.matchLabels.app\.kubernetes\.io/component} {.spec.ingress[1].ports[*].port}'
check_out "worker-1 mounts its own key alone, beside the spec" \
  '^\[\{"key":"worker-1.key","path":"worker-1.key"\}\] /etc/ringtrain/worker-1.key$' \
  "$kubectl" -n ml get pod fashion-mnist-worker-1 -o \
  'jsonpath={.spec.volumes[0].projected.sources[1].secret.items} {.spec.containers[0].env[?(@.name=="RINGTRAIN_SECRET_KEY")].value}'
check_out "kubectl get tj: printer columns" \
  '^NAME +PHASE +READY +WORKERS +PS +STEP +LOSS +ACCURACY +AGE$' "$kubectl" -n ml get tj
check_out "kubectl get tj -o wide: epoch and samples/s" 'EPOCH .*SAMPLES/S' \
  "$kubectl" -n ml get tj -o wide
check_out "kubectl get tj fashion-mnist: Created, 2 workers, 2 PS" \
  '^fashion-mnist +Created +0 +2 +2 ' "$kubectl" -n ml get tj fashion-mnist --no-headers
for p in fashion-mnist-ps-0 fashion-mnist-ps-1 fashion-mnist-worker-0 fashion-mnist-worker-1; do
  set_pod ml "$p" Running
done
if wait_for 30 phase_is ml fashion-mnist Running; then ok "phase Running"; else
  fail "phase Running" "$("$kubectl" -n ml get tj -o yaml | tail -40)"
fi
check_out "kubectl get tj: Running, 2 ready" '^fashion-mnist +Running +2 +2 +2 ' \
  "$kubectl" -n ml get tj fashion-mnist --no-headers

# The leader stops (SIGTERM): it hands the Lease back and op-b takes over at once.
kill -TERM "$op_a_pid"
wait "$op_a_pid"
check_out "op-a exits 0 on SIGTERM" '^0$' echo "$?"
if wait_for 10 sh -c "curl -fsS http://127.0.0.1:$(port_of op-b 2)/metrics | grep -q '^ringtrain_operator_leader 1'"; then
  ok "op-b took over the Lease"
else
  fail "op-b took over the Lease" "$(tail -20 "$work/op-b.log")"
fi

set_pod ml fashion-mnist-worker-0 Succeeded 0
set_pod ml fashion-mnist-worker-1 Succeeded 0
# Users' own `kubectl wait`, on a job whose status has had conditions for a while (right after a
# create the scripts poll with cp_wait_condition instead).
check "kubectl wait --for=condition=Succeeded" \
  "$kubectl" -n ml wait --for=condition=Succeeded tj/fashion-mnist --timeout=60s
check_out "kubectl get tj: Succeeded" '^fashion-mnist +Succeeded ' \
  "$kubectl" -n ml get tj fashion-mnist --no-headers
if wait_for 30 has_pods ml fashion-mnist 2; then ok "cleanPodPolicy Running: the servers went"; else
  fail "cleanPodPolicy Running: the servers went" "$("$kubectl" -n ml get pods 2>&1)"
fi
check_out "kubectl describe shows the Succeeded condition" 'Reason: +AllWorkersSucceeded' \
  "$kubectl" -n ml describe tj fashion-mnist
check_out "kubectl describe shows events" 'Normal +AllWorkersSucceeded' \
  "$kubectl" -n ml describe tj fashion-mnist

# ---- an operator restarted mid-job creates no duplicates -----------------------------
sed -e 's/name: fashion-mnist$/name: second/' "$root/examples/fashion-mnist.yaml" >"$work/second.yaml"
check "kubectl apply a second job" "$kubectl" -n ml apply -f "$work/second.yaml"
wait_for 30 has_pods ml second 4 || fail "second: 4 pods" "$("$kubectl" -n ml get pods 2>&1)"
uids_before="$("$kubectl" -n ml get pods -l ringtrain.io/job-name=second -o 'jsonpath={.items[*].metadata.uid}')"
kill -TERM "$op_b_pid"
wait "$op_b_pid"
start_operator op-c
wait_for 30 sh -c "curl -fsS http://127.0.0.1:$(port_of op-c 2)/metrics | grep -q '^ringtrain_operator_leader 1'" ||
  fail "op-c leads" "$(tail -20 "$work/op-c.log")"
sleep 1
uids_after="$("$kubectl" -n ml get pods -l ringtrain.io/job-name=second -o 'jsonpath={.items[*].metadata.uid}')"
check_out "the restarted operator kept the pods (same UIDs, no duplicates)" '^same$' \
  sh -c "[ '$uids_before' = '$uids_after' ] && echo same || echo 'before: $uids_before after: $uids_after'"
check_out "op-c: reconciles counted in /metrics" 'ringtrain_operator_reconciles_total\{result="success"\} [1-9]' \
  sh -c "curl -fsS http://127.0.0.1:$(port_of op-c 2)/metrics"

# ---- the API server refuses bad specs, naming the field --------------------------------
python3 - "$root/tests/crd/cases/invalid.yaml" "$work/invalid" <<'PY'
import os, sys, yaml
os.makedirs(sys.argv[2], exist_ok=True)
n = 0
for doc in yaml.safe_load_all(open(sys.argv[1])):
    want = doc["metadata"].get("annotations", {}).get("test.ringtrain.io/api-error")
    if not want:
        continue
    with open(os.path.join(sys.argv[2], f"{n:03d}.yaml"), "w") as f:
        yaml.safe_dump(doc, f)
    with open(os.path.join(sys.argv[2], f"{n:03d}.want"), "w") as f:
        f.write(want)
    n += 1
PY
rejected=0
total=0
for f in "$work"/invalid/*.yaml; do
  total=$((total + 1))
  want="$(cat "${f%.yaml}.want")"
  if out="$("$kubectl" -n ml create -f "$f" 2>&1)"; then
    fail "rejected: $(basename "$f") (it was accepted)" "$out"
  elif grep -qF -- "$want" <<<"$out"; then
    rejected=$((rejected + 1))
  else
    fail "rejected naming the field: $(basename "$f") (wanted: $want)" "$out"
  fi
done
check_out "the API server rejected $rejected of $total invalid specs, naming the field" '^yes$' \
  sh -c "[ $rejected -eq $total ] && [ $total -ge 10 ] && echo yes"

# ---- helm uninstall ---------------------------------------------------------------------
kill -TERM "$op_c_pid"
wait "$op_c_pid"
check "helm uninstall" "$helm" uninstall ringtrain --namespace ringtrain-system --wait --timeout 60s
check_fails "the Deployment is gone" 'NotFound' "$kubectl" -n ringtrain-system get deploy ringtrain-operator
finish
