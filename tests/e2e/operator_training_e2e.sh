#!/usr/bin/env bash
# operator_training_e2e.sh — real training through the operator: a real kube-apiserver + etcd,
# the operator, and local_kubelet.py running the pods the operator creates as real `ringtrain`
# processes (each on a loopback address of its own standing for its pod IP). kubectl apply of
# examples/fashion-mnist-softmax.yaml trains Fashion-MNIST; the test watches the progress
# the operator pulls from worker 0 reach the TrainingJob's status (kubectl get tj), waits for
# the Succeeded condition, and checks the final accuracy there. The same job with
# syncMode ssp and top-k compression then runs in pods too (the ConfigMap carries the fields,
# the servers receive encoded gradients). Then a job whose data file is missing fails, and its
# Failed condition carries the worker's own error.
# Prints "ok"/"FAIL" per check and "N passed, M failed" last; exit 0 only if all passed.
#
# Usage: operator_training_e2e.sh OPERATOR_BINARY RINGTRAIN_BINARY
# RINGTRAIN_KEEP_E2E_DIR=1 keeps the temp dir (logs) after the run.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
operator="${1:?usage: operator_training_e2e.sh OPERATOR_BINARY RINGTRAIN_BINARY}"
runtime="${2:?usage: operator_training_e2e.sh OPERATOR_BINARY RINGTRAIN_BINARY}"
CHECKS_NAME="operator training e2e"
source "$here/e2e_lib.sh"  # exports KUBECONFIG
check "kubectl apply the CRD" "$kubectl" apply -f "$root/crds/ringtrain.io_trainingjobs.yaml"
check "CRD established" cp_wait_condition 60 Established "$kubectl" get crd/trainingjobs.ringtrain.io
check "kubectl create namespace train" "$kubectl" create namespace train

"$operator" --kubeconfig "$KUBECONFIG" --namespace train --progress-interval 0.5 \
  --health-probe-bind-address "127.0.0.1:$(cp_free_port)" --metrics-bind-address 0 \
  >"$work/operator.log" 2>&1 &
e2e_pids+=($!)
mkdir -p "$work/pods"
python3 "$here/local_kubelet.py" --kubectl "$kubectl" --namespace train --runtime "$runtime" \
  --workdir "$work/pods" --timeout 600 >"$work/kubelet.log" 2>&1 &
e2e_pids+=($!)

jsonpath() { "$kubectl" -n train get tj "$1" -o "jsonpath=$2" 2>/dev/null; }
logs() { tail -n 15 "$work/operator.log" "$work/kubelet.log" "$work"/pods/*.log 2>/dev/null; }

# ---- a real run -------------------------------------------------------------------
check "kubectl apply -f examples/fashion-mnist-softmax.yaml" \
  "$kubectl" -n train apply -f "$root/examples/fashion-mnist-softmax.yaml"
job=fashion-mnist-softmax
# While it trains, the step in `kubectl get tj` moves (the operator pulls it from worker 0).
seen_step=""
deadline=$((SECONDS + 240))
while ((SECONDS < deadline)); do
  phase="$(jsonpath $job '{.status.phase}')"
  step="$(jsonpath $job '{.status.progress.step}')"
  total="$(jsonpath $job '{.status.progress.totalSteps}')"
  if [[ "$phase" == Running && -n "$step" && "$step" -gt 0 && "$step" -lt "${total:-0}" ]]; then
    seen_step="$step"
    break
  fi
  [[ "$phase" == Succeeded || "$phase" == Failed ]] && break
  sleep 0.2
done
if [[ -n "$seen_step" ]]; then
  ok "progress while running: step $seen_step of $total in the status"
  check_out "kubectl get tj shows the step" "^$job +Running +2 +2 +2 +[0-9]+ " \
    "$kubectl" -n train get tj $job --no-headers
else
  fail "progress while running" "$(logs)"
fi
if out="$(cp_wait_condition 240 Succeeded "$kubectl" -n train get tj/$job)"; then
  ok "condition Succeeded"
else
  fail "condition Succeeded" "$out
$(logs)"
fi
accuracy="$(jsonpath $job '{.status.progress.accuracy}')"
check_out "final test accuracy in the status ($accuracy) >= 0.80" '^yes$' \
  python3 -c "print('yes' if float('${accuracy:-0}') >= 0.80 else 'no')"
check_out "the final step is the last step" '^yes$' sh -c \
  "[ '$(jsonpath $job '{.status.progress.step}')' = '$(jsonpath $job '{.status.progress.totalSteps}')' ] && echo yes"
check_out "global batch 128 (64 per worker, 2 workers)" '^128$' \
  jsonpath $job '{.status.progress.globalBatchSize}'
check_out "kubectl get tj shows the accuracy" "^$job +Succeeded .* 0\\.8[0-9]* " \
  "$kubectl" -n train get tj $job --no-headers

# ---- the same job with stale synchronous updates and top-k gradients, in pods ---------------
sed -e "s/name: $job\$/name: ssp-topk/" -e 's/    epochs: 5/    epochs: 2/' \
  -e 's/    syncMode: sync/    syncMode: ssp\n    staleness: 2\n    compression: {type: topk, ratio: 0.1}/' \
  "$root/examples/fashion-mnist-softmax.yaml" >"$work/ssp-topk.yaml"
check "kubectl apply an ssp job with top-k compression" "$kubectl" -n train apply -f "$work/ssp-topk.yaml"
for _ in $(seq 150); do  # the operator writes the ConfigMap soon after the apply
  "$kubectl" -n train get configmap ssp-topk-spec -o json >"$work/ssp-topk-cm.json" 2>/dev/null && break
  sleep 0.2
done
check_out "its ConfigMap carries syncMode ssp, staleness 2 and topk 0.1 to the pods" '^ssp 2 topk 0.1$' \
  python3 -c "import json; d = json.load(open('$work/ssp-topk-cm.json'))['data']; \
t = json.loads(next(iter(d.values())))['spec']['training']; \
print(t['syncMode'], t['staleness'], t['compression']['type'], t['compression']['ratio'])"
if out="$(cp_wait_condition 240 Succeeded "$kubectl" -n train get tj/ssp-topk)"; then
  ok "ssp + topk: condition Succeeded"
else
  fail "ssp + topk: condition Succeeded" "$out
$(logs)"
fi
accuracy="$(jsonpath ssp-topk '{.status.progress.accuracy}')"
check_out "ssp + topk: test accuracy in the status ($accuracy) >= 0.78" '^yes$' \
  python3 -c "print('yes' if float('${accuracy:-0}') >= 0.78 else 'no')"
# The servers' final counters (in their logs): top-k payloads arrived, none was dropped.
check_out "ssp + topk: the servers received encoded gradients and dropped none" '^yes$' sh -c \
  "grep -h 'finished;' '$work'/pods/train-ssp-topk-ps-*.log | grep -c 'payload_bytes_received' | grep -q '^2\$' && ! grep -h 'finished;' '$work'/pods/train-ssp-topk-ps-*.log | grep -q 'messages_dropped' && echo yes"

# ---- a run that fails: its error reaches the Failed condition -------------------------------
sed -e "s/name: $job\$/name: missing-data/" \
  -e 's|train-images-idx3-ubyte.gz|no-such-file.gz|' \
  -e 's/restartPolicy: OnFailure/restartPolicy: ExitCode/' \
  "$root/examples/fashion-mnist-softmax.yaml" >"$work/missing.yaml"
check "kubectl apply a job whose training data is missing" "$kubectl" -n train apply -f "$work/missing.yaml"
if out="$(cp_wait_condition 120 Failed "$kubectl" -n train get tj/missing-data)"; then
  ok "condition Failed"
else
  fail "condition Failed" "$out
$(logs)"
fi
check_out "Failed: PermanentExitCode (exit code 2 is the program's own verdict)" '^PermanentExitCode$' \
  "$kubectl" -n train get tj missing-data -o 'jsonpath={.status.conditions[?(@.type=="Failed")].reason}'
check_out "the condition names the missing file" 'no-such-file.gz' \
  "$kubectl" -n train get tj missing-data -o 'jsonpath={.status.conditions[?(@.type=="Failed")].message}'
finish
