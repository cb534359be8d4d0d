#!/usr/bin/env bash
# operator_training_e2e.sh — real training through the operator: a real kube-apiserver + etcd,
# the operator, and local_kubelet.py running the pods the operator creates as real `ringtrain`
# processes (each on a loopback address of its own standing for its pod IP). kubectl apply of
# examples/fashion-mnist-softmax.yaml trains Fashion-MNIST; the test watches the progress
# the operator pulls from worker 0 reach the TrainingJob's status (kubectl get tj), waits for
# the Succeeded condition, and checks the final accuracy there. The same job with
# syncMode ssp and top-k compression then runs in pods too (the ConfigMap carries the fields,
# the servers receive encoded gradients). Then a job whose data file is missing fails, and its
# Failed condition carries the worker's own error. Last, a replicated job with checkpoints on a
# persistentVolumeClaim loses a worker pod and then a server pod to `kubectl delete pod`
# mid-run: each is recreated alone (the others keep their UIDs), events say WorkerReplaced and
# ServerReplaced, the lost server's successor serves its shard until the new pod fetches it
# back (event ServerTakenOver), and the job succeeds; meanwhile status.checkpoint (pulled from
# the servers) appears and moves. Then LibSVM part files in a real S3 server (SeaweedFS) train
# a job whose credentials come from a Secret it names; a Secret with a wrong secret fails its
# job, the condition naming S3's verdict.
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

# --stall-after 4: a job without a step for 4 s is Stalled (the stopped-worker case below).
"$operator" --kubeconfig "$KUBECONFIG" --namespace train --progress-interval 0.5 --stall-after 4 \
  --health-probe-bind-address "127.0.0.1:$(cp_free_port)" --metrics-bind-address 0 \
  >"$work/operator.log" 2>&1 &
e2e_pids+=($!)
mkdir -p "$work/pods"
python3 "$here/local_kubelet.py" --kubectl "$kubectl" --namespace train --runtime "$runtime" \
  --workdir "$work/pods" --timeout 600 >"$work/kubelet.log" 2>&1 &
e2e_pids+=($!)

jsonpath() { "$kubectl" -n train get tj "$1" -o "jsonpath=$2" 2>/dev/null; }
logs() { tail -n 15 "$work/operator.log" "$work/kubelet.log" "$work"/pods/*.log 2>/dev/null; }
# wait_succeeded JOB LABEL SECONDS: a check that JOB's condition Succeeded holds within SECONDS.
wait_succeeded() {
  local out
  if out="$(cp_wait_condition "$3" Succeeded "$kubectl" -n train get "tj/$1")"; then
    ok "$2"
  else
    fail "$2" "$out
$(logs)"
  fi
}
# accuracy_at_least JOB MIN LABEL: a check that the test accuracy in JOB's status is >= MIN.
accuracy_at_least() {
  local accuracy
  accuracy="$(jsonpath "$1" '{.status.progress.accuracy}')"
  check_out "$3 ($accuracy) >= $2" '^yes$' \
    python3 -c "print('yes' if float('${accuracy:-0}') >= $2 else 'no')"
}

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
wait_succeeded $job "condition Succeeded" 240
accuracy_at_least $job 0.80 "final test accuracy in the status"
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
wait_succeeded ssp-topk "ssp + topk: condition Succeeded" 240
accuracy_at_least ssp-topk 0.78 "ssp + topk: test accuracy in the status"
# The servers' final counters (in their logs): top-k payloads arrived, none was dropped.
check_out "ssp + topk: the servers received encoded gradients and dropped none" '^yes$' sh -c \
  "grep -h 'finished;' '$work'/pods/train-ssp-topk-ps-*.log | grep -c 'payload_bytes_received' | grep -q '^2\$' && ! grep -h 'finished;' '$work'/pods/train-ssp-topk-ps-*.log | grep -q 'messages_dropped' && echo yes"

# ---- a stopped worker: the job is Stalled, naming the worker the servers wait for ------------
# Worker 1 is stopped (SIGSTOP: its pod still runs, its connections stay open); the servers'
# status sockets say their sync round waits for it, and the condition names its pod. Once it
# continues, the job is Progressing again; it is deleted then (its accuracy is the first run's).
sed -e "s/name: $job\$/name: stall/" "$root/examples/fashion-mnist-softmax.yaml" >"$work/stall.yaml"
check "kubectl apply a job whose worker will be stopped" "$kubectl" -n train apply -f "$work/stall.yaml"
stall_pid=""
for _ in $(seq 600); do
  if [[ -n "$(jsonpath stall '{.status.progress.step}')" ]]; then
    stall_pid="$(sed -n 's|^kubelet: started train/stall-worker-1 at .* (pid \([0-9]*\).*|\1|p' \
      "$work/kubelet.log" | tail -n 1)"
    break
  fi
  sleep 0.2
done
check "worker 1 of the running job stopped (pid ${stall_pid:-none})" kill -STOP "${stall_pid:-0}"
if out="$(cp_wait_condition 60 Stalled "$kubectl" -n train get tj/stall)"; then
  ok "condition Stalled"
else
  fail "condition Stalled" "$out
$(logs)"
fi
check_out "Stalled names the worker the servers wait for" \
  'every pod runs; the parameter servers wait for stall-worker-1 ' \
  "$kubectl" -n train get tj stall -o 'jsonpath={.status.conditions[?(@.type=="Stalled")].message}'
check "worker 1 continued" kill -CONT "${stall_pid:-0}"
progressing=""
for _ in $(seq 300); do
  progressing="$(jsonpath stall '{.status.conditions[?(@.type=="Stalled")].reason}')"
  [[ "$progressing" == Progressing ]] && break
  sleep 0.2
done
check_out "Stalled False again once it steps (reason Progressing)" '^Progressing$' echo "$progressing"
check "kubectl delete tj stall" "$kubectl" -n train delete tj stall --wait=false

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

# ---- lost pods are replaced alone (issue 11) ------------------------------------------------
# The same job with checkpoints on a persistentVolumeClaim (local_kubelet.py gives a claim a
# directory of its own, shared by the pods that mount it). Mid-run a worker pod is deleted
# (graceful: the kubelet stops it with SIGTERM): only it is recreated (the other pods keep
# their UIDs), the new worker continues at the servers' clock for it (not from step 0), and an
# event says WorkerReplaced. Then a server pod is deleted: the operator asks its successor to
# serve its shard from the copy it keeps once the deleted pod is gone (parameterServers.replication:
# 1; ServerTakenOver), only it is recreated and restores its shard from that copy or its own last
# checkpoint, whichever is further, losing no push (ServerReplaced). Deletions are no failures
# (restartCount stays 0), and the job succeeds.
job=recover
check "kubectl apply a persistentVolumeClaim for checkpoints" "$kubectl" -n train apply -f - <<EOF
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: recover-ckpt}
spec: {accessModes: [ReadWriteMany], resources: {requests: {storage: 1Gi}}}
EOF
python3 - "$root/examples/fashion-mnist-softmax.yaml" "$work/recover.yaml" "$work/claim" <<'EOF'
import sys, yaml
job = yaml.safe_load(open(sys.argv[1]))
job["metadata"]["name"] = "recover"
spec = job["spec"]
spec["volumes"] = [{"name": "ckpt", "persistentVolumeClaim": {"claimName": "recover-ckpt"}}]
spec["parameterServers"]["volumeMounts"] = [{"name": "ckpt", "mountPath": sys.argv[3]}]
spec["checkpoint"] = {"path": sys.argv[3] + "/checkpoints", "everySteps": 50}
spec["parameterServers"]["replication"] = 1
# Long enough that both deletions land mid-run on a fast machine (a server pod deleted after
# the job finished restores its final checkpoint and ends at once: nothing would be tested).
# 3x was not always enough: status.checkpoint can take several seconds to move under load, and
# the server was then deleted in the job's last second.
spec["training"]["epochs"] = 5 * spec["training"]["epochs"]
yaml.safe_dump(job, open(sys.argv[2], "w"))
EOF
check "kubectl apply a job with checkpoints on the claim" \
  "$kubectl" -n train apply -f "$work/recover.yaml"
pod_uids() {
  "$kubectl" -n train get pods -l ringtrain.io/job-name=$job \
    -o 'jsonpath={range .items[*]}{.metadata.name}={.metadata.uid}{"\n"}{end}' | sort
}
uid_of() { pod_uids | sed -n "s/^$1=//p"; }
# wait_step FRACTION: waits until the job runs past FRACTION of its steps; prints the step.
wait_step() {
  local deadline=$((SECONDS + 240)) step total
  while ((SECONDS < deadline)); do
    step="$(jsonpath $job '{.status.progress.step}')"
    total="$(jsonpath $job '{.status.progress.totalSteps}')"
    if [[ "$(jsonpath $job '{.status.phase}')" == Running && -n "$step" && -n "$total" ]] &&
      ((step * 100 > $1 * total)); then
      echo "$step"
      return 0
    fi
    sleep 0.2
  done
  return 1
}
# replace POD REASON: deletes POD mid-run; it alone comes back and runs; an event says REASON.
replace() {
  local pod="$1" reason="$2" before after old new="" deadline
  before="$(pod_uids)"
  old="$(uid_of "$pod")"
  check "kubectl delete pod $pod" "$kubectl" -n train delete pod "$pod" --wait=false
  deadline=$((SECONDS + 120))
  while ((SECONDS < deadline)); do
    new="$(uid_of "$pod")"
    [[ -n "$new" && "$new" != "$old" && "$("$kubectl" -n train get pod "$pod" \
      -o 'jsonpath={.status.phase}' 2>/dev/null)" == Running ]] && break
    new=""
    sleep 0.2
  done
  if [[ -n "$new" ]]; then
    ok "$pod recreated alone (uid ${old:0:8} -> ${new:0:8})"
  else
    fail "$pod recreated" "$(pod_uids)
$(logs)"
  fi
  after="$(pod_uids)"
  if [[ "$(grep -v "^$pod=" <<<"$before")" == "$(grep -v "^$pod=" <<<"$after")" ]]; then
    ok "the other pods kept their UIDs"
  else
    fail "the other pods kept their UIDs" "before:
$before
after:
$after"
  fi
  check_out "an event $reason names $pod" "pod $pod was deleted" \
    "$kubectl" -n train get events --field-selector "involvedObject.name=$job,reason=$reason" \
    -o 'jsonpath={.items[*].message}'
}
# wait_checkpoint_above STEP: waits until status.checkpoint.step (the checkpoint every server
# has, pulled from the servers' status sockets) is above STEP while the job runs; prints it.
wait_checkpoint_above() {
  local deadline=$((SECONDS + 120)) c
  while ((SECONDS < deadline)); do
    c="$(jsonpath $job '{.status.checkpoint.step}')"
    if [[ "$(jsonpath $job '{.status.phase}')" == Running && -n "$c" ]] && ((c > $1)); then
      echo "$c"
      return 0
    fi
    sleep 0.2
  done
  return 1
}
checkpoint=""
if step="$(wait_step 20)"; then
  ok "recover: running with checkpoints (step $step)"
  if checkpoint="$(wait_checkpoint_above -1)"; then
    ok "status.checkpoint appears while running (step $checkpoint)"
    check_out "status.checkpoint.location is the job's checkpoint directory" \
      "^$work/claim/checkpoints/$job\$" jsonpath $job '{.status.checkpoint.location}'
    check_out "status.checkpoint.time is an RFC 3339 time" \
      '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' \
      jsonpath $job '{.status.checkpoint.time}'
    check_out "kubectl get tj -o wide shows the checkpoint column" 'CHECKPOINT' \
      "$kubectl" -n train get tj $job -o wide
  else
    fail "status.checkpoint appears while running" "$("$kubectl" -n train get tj $job -o yaml)
$(logs)"
  fi
  replace $job-worker-1 WorkerReplaced
else
  fail "recover: running with checkpoints" "$(logs)"
fi
# Then a server: the workers rejoin it when it comes back with its shard restored.
if step="$(wait_step 50)"; then
  ok "recover: running on (step $step)"
  if [[ -n "$checkpoint" ]] && moved="$(wait_checkpoint_above "$checkpoint")"; then
    ok "status.checkpoint moves during the run (step $checkpoint -> $moved)"
  else
    fail "status.checkpoint moves during the run (from step ${checkpoint:-none})" \
      "$("$kubectl" -n train get tj $job -o yaml)"
  fi
  replace $job-ps-1 ServerReplaced
  check_out "an event ServerTakenOver says ps-0 serves the lost shard" \
    "pod $job-ps-1's shard is served by its successor \\(tcp://127\\.0\\.1\\.1:" \
    "$kubectl" -n train get events --field-selector "involvedObject.name=$job,reason=ServerTakenOver" \
    -o 'jsonpath={.items[*].message}'
else
  fail "recover: running after the worker's replacement" "$(logs)"
fi
wait_succeeded $job "recover: condition Succeeded" 300
check_out "recover: restartCount 0 (deletions are no failures)" '^0$' \
  jsonpath $job '{.status.restartCount}'
check_out "the new worker continued at the servers' clock, not from step 0" \
  'worker-1: continued from step [1-9]' cat "$work/pods/train-$job-worker-1.log"
# From the copy ps-0 kept (and served meanwhile), or from the checkpoint the deleted server
# wrote on SIGTERM when that is further (by the round it applied last, whose replies it held).
check_out "the new server restored its shard mid-run (the copy on ps-0, or its checkpoint)" \
  'ps-1: restored its shard at step [1-9][0-9]* from [^ ]+$|ps-1: restored its shard at step [1-9][0-9]* from the copy on ps-0$' \
  cat "$work/pods/train-$job-ps-1.log"
check "the new server lost no push" bash -c "! grep -q pushes_lost '$work/pods/train-$job-ps-1.log'"
check_out "the workers rejoined the restored server" 'parameter server 1 .* is back; rejoining' \
  cat "$work/pods/train-$job-worker-0.log"
accuracy_at_least $job 0.78 "recover: test accuracy in the status"

# ---- LibSVM part files in an S3 server, credentials from a Secret (issue 13) ----------------
# A real S3 server on loopback (SeaweedFS, tests/s3server, built by `make s3server`); the
# training data (synthetic, LibSVM, gzip and plain parts) in a bucket; the key pair in a
# Secret the TrainingJob names. The workers get the credentials by reference (the operator
# never reads the Secret) and train; a Secret with a wrong secret fails its job with the
# worker's own error, naming S3's verdict.
s3dir="$work/s3"
mkdir -p "$s3dir"
if out="$(bash "$here/../s3server/start.sh" "$s3dir" 2>&1)"; then
  ok "S3 server started"
  e2e_stop_cmds+=("bash '$here/../s3server/stop.sh' '$s3dir'")
  # shellcheck disable=SC1091  # written by start.sh
  source "$s3dir/credentials"
  python3 - "$work/synthetic" <<'PY'
import gzip, os, random, sys
out = sys.argv[1]
os.makedirs(out + "/train", exist_ok=True)
rng = random.Random(1)
def rows(n):
    lines = []
    for _ in range(n):
        label = rng.randrange(10)
        feats = []
        for j in range(64):
            lit = j * 10 // 64 == label
            feats.append(f"{j + 1}:{min(1.0, (0.6 if lit else 0.1) + 0.4 * rng.random()):.4f}")
        lines.append(f"{label} " + " ".join(feats) + "\n")
    return "".join(lines)
with gzip.open(out + "/train/part-0.gz", "wt") as f:
    f.write(rows(1500))
with open(out + "/train/part-1", "w") as f:
    # Two bad records at its end (worker 1's share): skipped and counted in the status.
    f.write(rows(1500) + "3 1:nan\n" + "11 1:0.5\n")
with open(out + "/test.libsvm", "w") as f:
    f.write(rows(500))
PY
  sig=(--aws-sigv4 "aws:amz:$AWS_REGION:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY")
  check "bucket created" curl -sfS "${sig[@]}" -X PUT "$S3_ENDPOINT/train-data"
  for f in train/part-0.gz train/part-1 test.libsvm; do
    check "uploaded $f" curl -sfS "${sig[@]}" -T "$work/synthetic/$f" \
      "$S3_ENDPOINT/train-data/synthetic/$f"
  done
  check "kubectl create secret s3-credentials" "$kubectl" -n train create secret generic \
    s3-credentials --from-literal=AWS_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID" \
    --from-literal=AWS_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY"
  check "kubectl create secret s3-wrong" "$kubectl" -n train create secret generic s3-wrong \
    --from-literal=AWS_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID" \
    --from-literal=AWS_SECRET_ACCESS_KEY=not-the-secret
  s3job() {  # s3job NAME SECRET [STORE]: STORE set: checkpoints and the model in the bucket too
    printf '%s\n' "apiVersion: ringtrain.io/v1alpha1" "kind: TrainingJob" \
      "metadata: {name: $1}" "spec:" "  model: {type: softmax}" "  dataset:" \
      "    format: libsvm" "    features: 64" "    classes: 10" "    onBadRecord: skip" \
      "    storage: {endpoint: '$S3_ENDPOINT', region: $AWS_REGION, credentialsSecret: $2}" \
      "    train: {uri: 's3://train-data/synthetic/train/'}" \
      "    test: {uri: 's3://train-data/synthetic/test.libsvm'}" "  training:" \
      "    epochs: 3" "    batchSize: 16" \
      "    optimizer: {type: momentum, learningRate: 0.1, momentum: 0.9}" \
      "  parameterServers: {replicas: 1}" "  workers: {replicas: 2}" \
      "  runPolicy: {restartPolicy: ExitCode}"
    if [[ -n "${3:-}" ]]; then
      printf '%s\n' "  checkpoint: {path: 's3://train-data/checkpoints', everySteps: 50}" \
        "  output: {path: 's3://train-data/models'}"
    fi
  }
  s3job s3-train s3-credentials store >"$work/s3-train.yaml"
  s3job s3-wrong s3-wrong >"$work/s3-wrong.yaml"
  check "kubectl apply a job on S3 data" "$kubectl" -n train apply -f "$work/s3-train.yaml"
  for _ in $(seq 150); do
    "$kubectl" -n train get configmap s3-train-spec -o json >"$work/s3-cm.json" 2>/dev/null && break
    sleep 0.2
  done
  check "the ConfigMap names the Secret" grep -q s3-credentials "$work/s3-cm.json"
  check "the ConfigMap holds no credential" bash -c "! grep -q -- '$AWS_SECRET_ACCESS_KEY' '$work/s3-cm.json'"
  wait_succeeded s3-train "S3 data: condition Succeeded" 240
  accuracy_at_least s3-train 0.9 "S3 data: test accuracy in the status"
  check_out "S3 data: the two bad records skipped, counted in the status" '^2$' \
    "$kubectl" -n train get tj s3-train -o 'jsonpath={.status.progress.recordsSkipped}'
  # Checkpoints and the model in the bucket: the server pod reached it with the Secret's keys
  # (the pod's environment, by reference), worker 0 too. `ringtrain export` reads the
  # checkpoints back (with this shell's keys) into the model worker 0 uploaded.
  check "S3: worker 0 wrote the model into the bucket" \
    curl -sfS "${sig[@]}" -o "$work/s3-model.onnx" "$S3_ENDPOINT/train-data/models/model.onnx"
  check "S3: the model is ONNX (its producer named)" grep -q ringtrain "$work/s3-model.onnx"
  check_out "S3: the server's final checkpoint is in the bucket" \
    'ps-0: s3://train-data/checkpoints/s3-train/ps-0/ckpt-[0-9]+-step-[0-9]+ \(step [0-9]+, final\)' \
    env AWS_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY" \
    "$runtime" export "$work/s3-train.yaml" --output "$work/s3-export.onnx"
  check "S3: the checkpoints hold the model worker 0 wrote" \
    cmp "$work/s3-model.onnx" "$work/s3-export.onnx"
  # After the first: this kubelet gives pods addresses by role and index, so two jobs running at
  # once would bind the same ones.
  check "kubectl apply a job with a wrong secret" "$kubectl" -n train apply -f "$work/s3-wrong.yaml"
  if out="$(cp_wait_condition 120 Failed "$kubectl" -n train get tj/s3-wrong)"; then
    ok "wrong secret: condition Failed"
  else
    fail "wrong secret: condition Failed" "$out
$(logs)"
  fi
  check_out "wrong secret: the condition says S3 refused the signature" \
    'spec.dataset.train: s3://train-data/synthetic/train/: 403 SignatureDoesNotMatch' \
    "$kubectl" -n train get tj s3-wrong -o 'jsonpath={.status.conditions[?(@.type=="Failed")].message}'
  check_out "wrong secret: PermanentExitCode" '^PermanentExitCode$' \
    "$kubectl" -n train get tj s3-wrong -o 'jsonpath={.status.conditions[?(@.type=="Failed")].reason}'
else
  fail "S3 server started" "$out"
fi
finish
