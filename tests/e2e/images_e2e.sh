#!/usr/bin/env bash
# images_e2e.sh — the container images as a cluster runs them. The images images/build.sh made
# (ringtrain/runtime:VERSION, ringtrain/operator:VERSION) are checked (user, entrypoint, every
# shared library resolved, the example data inside), then a real job runs through them: a real
# kube-apiserver, etcd and kube-controller-manager; `helm install` of the chart, whose
# Deployment's pod local_kubelet.py runs as a container of the operator image (in-cluster
# config from the service account token it mounts, as a kubelet does); `kubectl apply` of
# examples/fashion-mnist-softmax.yaml, whose PS and worker pods run as containers of the
# runtime image, reading the Fashion-MNIST the image ships; Succeeded with the accuracy in the
# status; a copy of it reading the data from a hostPath volume mounted at /data (absent from
# the image; servers read the training images' header to size the model, so both roles mount
# it, and a second volume only the workers mount) succeeds too; `helm uninstall` stops the
# operator's container.
# Prints "ok"/"FAIL" per check and "N passed, M failed" last; exit 0 only if all passed.
#
# Usage: images_e2e.sh VERSION     (as root: buildah; after images/build.sh VERSION)
# RINGTRAIN_KEEP_E2E_DIR=1 keeps the temp dir (logs) after the run.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="${1:?usage: images_e2e.sh VERSION}"
CHECKS_NAME="images e2e"
E2E_START_ARGS=--with-controller-manager  # Deployment -> ReplicaSet -> Pod
source "$here/e2e_lib.sh"
# Containers a killed run left behind are whole copies of their image (vfs): none survives.
trap 'e2e_cleanup; "$root/images/buildah.sh" rm --all >/dev/null 2>&1' EXIT
export HELM_CACHE_HOME="$work/helm/cache" HELM_CONFIG_HOME="$work/helm/config" \
  HELM_DATA_HOME="$work/helm/data"
buildah="$root/images/buildah.sh"
runtime="localhost/ringtrain/runtime:$version"
operator="localhost/ringtrain/operator:$version"

# in_image IMAGE CMD...: runs CMD in a fresh container of IMAGE (as the image's user).
in_image() {
  local image="$1" ctr
  shift
  ctr="$("$buildah" from --pull=never "$image")" || return 1
  "$buildah" run --isolation chroot "$ctr" -- "$@"
  local rc=$?
  "$buildah" rm "$ctr" >/dev/null
  return $rc
}
# config_of IMAGE FIELD: a field of the image's OCI config, as JSON (e.g. User, Entrypoint).
config_of() {
  "$buildah" inspect --type image "$1" |
    python3 -c "import json, sys; print(json.dumps(json.load(sys.stdin)['OCIv1']['config'].get('$2')))"
}

# ---- the images ---------------------------------------------------------------------
for image in "$runtime" "$operator"; do
  check "$image exists" "$buildah" inspect --type image "$image"
  check_out "$image runs as 65532:65532 (non-root)" '^"65532:65532"$' config_of "$image" User
done
check_out "runtime entrypoint /usr/local/bin/ringtrain" '^\["/usr/local/bin/ringtrain"\]$' \
  config_of "$runtime" Entrypoint
check_out "operator entrypoint /usr/local/bin/ringtrain-operator" \
  '^\["/usr/local/bin/ringtrain-operator"\]$' config_of "$operator" Entrypoint
check_out "ringtrain version in the runtime image is $version" "^ringtrain $version\$" \
  in_image "$runtime" /usr/local/bin/ringtrain version
check_out "ringtrain-operator --version in the operator image is $version" "$version" \
  in_image "$operator" /usr/local/bin/ringtrain-operator --version
for pair in "$runtime /usr/local/bin/ringtrain" "$operator /usr/local/bin/ringtrain-operator"; do
  read -r image binary <<<"$pair"
  check_out "$binary: every shared library is in the image" '^resolved$' \
    in_image "$image" sh -c "out=\$(ldd $binary) || exit 1; echo \"\$out\" | grep 'not found' || echo resolved"
done
check_out "the runtime image ships Fashion-MNIST where the examples read it" '^4$' \
  in_image "$runtime" sh -c 'ls /usr/share/datasets/fashion-mnist/*-ubyte.gz | wc -l'
check_out "the example names the runtime image built here" "^  image: ringtrain/runtime:$version\$" \
  cat "$root/examples/fashion-mnist-softmax.yaml"

# ---- helm install: the operator runs from its image ---------------------------------
health_port="$(cp_free_port)"
metrics_port="$(cp_free_port)"
check "helm install charts/ringtrain (operator image ringtrain/operator:$version)" \
  "$helm" install ringtrain "$root/charts/ringtrain" --namespace ringtrain-system \
  --create-namespace --set "health.port=$health_port" --set "metrics.port=$metrics_port"
check_out "the Deployment runs the image built here" "^ringtrain/operator:$version\$" \
  "$kubectl" -n ringtrain-system get deploy ringtrain-operator \
  -o 'jsonpath={.spec.template.spec.containers[0].image}'
check "kubectl create namespace train" "$kubectl" create namespace train
mkdir -p "$work/pods"
python3 "$here/local_kubelet.py" --kubectl "$kubectl" --namespace ringtrain-system \
  --namespace train --buildah "$buildah" --api-url "$RINGTRAIN_APISERVER_URL" \
  --ca-file "$RINGTRAIN_CA_FILE" --workdir "$work/pods" --timeout 900 >"$work/kubelet.log" 2>&1 &
e2e_pids+=($!)
logs() { tail -n 15 "$work/kubelet.log" "$work"/pods/*.log 2>/dev/null; }

ready() { curl -fsS --max-time 2 "http://127.0.0.1:$health_port/readyz" >/dev/null 2>&1; }
# Judged by the answer that ended the wait: a standby is ready, and becomes unready for a moment
# when it starts leading (its caches sync), so asking again could hit that moment.
deadline=$((SECONDS + 120))
answered=false
while ((SECONDS <= deadline)); do
  if ready; then
    answered=true
    break
  fi
  sleep 0.5
done
if $answered; then
  ok "the operator's pod (a container of its image) answers /readyz"
else
  fail "the operator's pod answers /readyz" "$(logs)"
fi
check_out "it runs in-cluster as the chart's ServiceAccount" \
  'in-cluster service account' sh -c "cat '$work'/pods/ringtrain-system-ringtrain-operator-*.log"
# Ready means "serving", standby included: it leads once it holds the Lease (polled; a loaded
# machine takes a few seconds there).
leads() { curl -fsS --max-time 5 "http://127.0.0.1:$metrics_port/metrics" | grep -q '^ringtrain_operator_leader 1'; }
deadline=$((SECONDS + 60))
until leads || ((SECONDS > deadline)); do sleep 0.5; done
check "it leads (ringtrain_operator_leader 1)" leads

# ---- a TrainingJob: its pods run from the runtime image -----------------------------
job=fashion-mnist-softmax
check "kubectl apply -f examples/fashion-mnist-softmax.yaml" \
  "$kubectl" -n train apply -f "$root/examples/fashion-mnist-softmax.yaml"
if out="$(cp_wait_condition 420 Succeeded "$kubectl" -n train get "tj/$job")"; then
  ok "condition Succeeded"
else
  fail "condition Succeeded" "$out
$(logs)"
fi
accuracy="$("$kubectl" -n train get tj $job -o 'jsonpath={.status.progress.accuracy}')"
check_out "test accuracy in the status ($accuracy) >= 0.80" '^yes$' \
  python3 -c "print('yes' if float('${accuracy:-0}') >= 0.80 else 'no')"
check_out "its 4 pods ran as containers of the runtime image" '^4$' \
  sh -c "grep -c 'started train/$job-.*container pod-' '$work/kubelet.log'"
check_out "worker 0 left its final numbers in the termination log" 'accuracy' \
  "$kubectl" -n train get pod "$job-worker-0" \
  -o 'jsonpath={.status.containerStatuses[0].state.terminated.message}'

# ---- data from a volume: a hostPath both roles mount, not the image's copy --------------
mkdir -p "$work/data" "$work/extra"
cp /usr/share/datasets/fashion-mnist/*-ubyte.gz "$work/data/"
chmod 755 "$work/data" "$work/extra" && chmod 644 "$work/data"/*
python3 - "$root/examples/fashion-mnist-softmax.yaml" "$work/data" "$work/extra" \
  > "$work/volume-job.yaml" <<'PY'
import sys, yaml
job = yaml.safe_load(open(sys.argv[1]))
job["metadata"]["name"] = "softmax-volume"
spec = job["spec"]
spec["training"]["epochs"] = 1
for part in ("train", "test"):
    for key, path in spec["dataset"][part].items():
        spec["dataset"][part][key] = path.replace("/usr/share/datasets/fashion-mnist", "/data")
spec["volumes"] = [{"name": "data", "hostPath": {"path": sys.argv[2], "type": "Directory"}},
                   {"name": "extra", "hostPath": {"path": sys.argv[3], "type": "Directory"}}]
spec["workers"]["volumeMounts"] = [{"name": "data", "mountPath": "/data", "readOnly": True},
                                   {"name": "extra", "mountPath": "/extra", "readOnly": True}]
spec["parameterServers"]["volumeMounts"] = [{"name": "data", "mountPath": "/data",
                                             "readOnly": True}]
spec["runPolicy"]["cleanPodPolicy"] = "None"  # the pods stay, to be looked at
print(yaml.safe_dump(job, sort_keys=False))
PY
check "kubectl apply a job reading its data from a hostPath volume at /data" \
  "$kubectl" -n train apply -f "$work/volume-job.yaml"
if out="$(cp_wait_condition 300 Succeeded "$kubectl" -n train get tj/softmax-volume)"; then
  ok "the job reading /data (absent from the image) Succeeded"
else
  fail "the job reading /data (absent from the image) Succeeded" "$out
$(logs)"
fi
check_out "the runtime image has no /data of its own" '^absent$' \
  in_image "localhost/ringtrain/runtime:$version" sh -c 'test -e /data && echo present || echo absent'
check_out "the worker pods got both volumes" '^spec data extra$' \
  "$kubectl" -n train get pod softmax-volume-worker-1 -o 'jsonpath={.spec.volumes[*].name}'
check_out "the server pods got only the one they mount" '^spec data$' \
  "$kubectl" -n train get pod softmax-volume-ps-0 -o 'jsonpath={.spec.volumes[*].name}'

# The kubelet registers its node: kube-controller-manager's pod garbage collector deletes the
# pods of a node that does not exist some 40 s after it sees them (finished ones too).
check_out "the kubelet's node is Ready" '^True$' "$kubectl" get node local-kubelet \
  -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'
check_out "the first job's finished worker pods are still there" \
  "^$job-worker-0 $job-worker-1\$" "$kubectl" -n train get pods \
  -l "ringtrain.io/job-name=$job,ringtrain.io/role=worker" -o 'jsonpath={.items[*].metadata.name}'

# ---- helm uninstall --------------------------------------------------------------------
check "helm uninstall" "$helm" uninstall ringtrain --namespace ringtrain-system --wait
deadline=$((SECONDS + 60))
while ready && ((SECONDS < deadline)); do sleep 0.5; done
if ready; then fail "the operator's container stopped with its pod" "$(logs)"; else
  ok "the operator's container stopped with its pod"
fi
finish
