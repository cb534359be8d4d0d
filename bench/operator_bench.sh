#!/usr/bin/env bash
# operator_bench.sh — how fast the operator turns TrainingJobs into pods, on a real
# kube-apiserver + etcd (tests/controlplane), against a baseline run on the same server:
#
#   operator:  100 TrainingJobs with 2 PS + 8 workers each, applied at once (one kubectl
#              apply); seconds until all 1000 pods exist, plus the operator's peak RSS and the
#              CPU seconds it used;
#   baseline:  the very same 1,300 objects (pods, services, config maps, as the operator made
#              them) created directly by one `kubectl create -f` into a fresh namespace: the
#              time the API server itself needs for that much writing on this machine.
#
# The ratio operator/baseline says how much the operator adds to the API server's own cost.
# Usage: operator_bench.sh OPERATOR_BINARY [JOBS] [TRIALS]   (100 jobs, 3 trials by default)
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cpdir="$root/tests/controlplane"
operator="${1:?usage: operator_bench.sh OPERATOR_BINARY [JOBS] [TRIALS]}"
jobs="${2:-100}"
trials="${3:-3}"
source "$cpdir/lib.sh"

# Several trials, each on a fresh control plane; the medians are what to compare.
if [[ -z "${RINGTRAIN_BENCH_TRIAL:-}" ]]; then
  results=()
  for ((t = 1; t <= trials; t++)); do
    line="$(RINGTRAIN_BENCH_TRIAL=$t bash "${BASH_SOURCE[0]}" "$operator" "$jobs" | tail -n 1)" ||
      exit 1
    echo "trial $t: $line"
    results+=("$line")
  done
  printf '%s\n' "${results[@]}" | python3 -c '
import statistics, sys
rows = [list(map(float, l.split())) for l in sys.stdin if l.strip()]
med = [statistics.median(c) for c in zip(*rows)]
jobs = '"$jobs"'
print()
print(f"operator benchmark: {jobs} TrainingJobs x (2 PS + 8 workers), applied at once; medians of {len(rows)} trials")
names = [f"seconds until all {jobs * 10} pods exist (operator)",
         f"seconds to create the same {jobs * 13} objects (kubectl)",
         "ratio operator / direct creation",
         "operator CPU seconds until then",
         "operator peak RSS (MiB)"]
print("{:<52} {:>8}   trials".format("what", "median"))
for i, n in enumerate(names):
    print(f"{n:<52} {med[i]:>8.2f}   " + " ".join(f"{r[i]:.2f}" for r in rows))
'
  exit 0
fi

bin="$("$cpdir/build.sh" | tail -n 1)" || exit 1
kubectl="$bin/kubectl"
work="$(mktemp -d "${TMPDIR:-/tmp}/ringtrain-bench.XXXXXX")"
op_pid=""
cleanup() {
  [[ -n "$op_pid" ]] && kill "$op_pid" 2>/dev/null && wait "$op_pid" 2>/dev/null
  "$cpdir/stop.sh" "$work/cp" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
RINGTRAIN_CONTROLPLANE_BIN="$bin" "$cpdir/start.sh" "$work/cp" >"$work/start.log" 2>&1 ||
  { cat "$work/start.log"; exit 1; }
source "$work/cp/env"
"$kubectl" apply -f "$root/crds/ringtrain.io_trainingjobs.yaml" >/dev/null
if ! out="$(cp_wait_condition 60 Established "$kubectl" get crd/trainingjobs.ringtrain.io)"; then
  echo "$out" >&2
  exit 1
fi
"$kubectl" create namespace bench >/dev/null
"$kubectl" create namespace baseline >/dev/null

python3 - "$jobs" >"$work/jobs.yaml" <<'PY'
import sys
for i in range(int(sys.argv[1])):
    print(f"""---
apiVersion: ringtrain.io/v1alpha1
kind: TrainingJob
metadata: {{name: job-{i:03d}}}
spec:
  model: {{type: mlp, hiddenLayers: [256]}}
  dataset:
    train: {{images: file:///data/train-images.gz, labels: file:///data/train-labels.gz}}
  parameterServers: {{replicas: 2, resources: {{requests: {{cpu: "1", memory: 1Gi}}}}}}
  workers: {{replicas: 8, resources: {{requests: {{cpu: "1", memory: 1Gi}}}}}}""")
PY
want=$((jobs * 10))
count_pods() { "$kubectl" -n "$1" get pods --no-headers 2>/dev/null | wc -l; }
now() { date +%s.%N; }

"$operator" --kubeconfig "$KUBECONFIG" --namespace bench --workers 4 \
  --health-probe-bind-address 0 --metrics-bind-address 0 --progress-interval 0 \
  >"$work/operator.log" 2>&1 &
op_pid=$!
sleep 1
ticks="$(getconf CLK_TCK)"
cpu_of() { awk -v t="$ticks" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"; }
cpu0="$(cpu_of "$op_pid")"
t0="$(now)"
"$kubectl" -n bench apply -f "$work/jobs.yaml" >/dev/null
while (($(count_pods bench) < want)); do
  kill -0 "$op_pid" 2>/dev/null || { echo "the operator died:"; tail "$work/operator.log"; exit 1; }
  sleep 0.5
done
t1="$(now)"
op_seconds="$(python3 -c "print(f'{$t1 - $t0:.1f}')")"
cpu1="$(cpu_of "$op_pid")"
rss_kib="$(awk '/VmHWM/ { print $2 }' "/proc/$op_pid/status")"
kill "$op_pid"
wait "$op_pid" 2>/dev/null
op_pid=""

# Baseline: the same objects, created directly.
"$kubectl" -n bench get pods,services,configmaps -l app.kubernetes.io/managed-by=ringtrain-operator \
  -o json >"$work/made.json"
python3 - "$work/made.json" >"$work/baseline.json" <<'PY'
import json, sys
items = json.load(open(sys.argv[1]))["items"]
out = []
for o in items:
    m = o["metadata"]
    meta = {"name": m["name"], "labels": m.get("labels", {})}
    o = {k: v for k, v in o.items() if k not in ("status", "metadata")}
    o["metadata"] = meta
    if o["kind"] == "Service":
        o["spec"] = {k: v for k, v in o["spec"].items() if k not in ("clusterIPs", "ipFamilies", "ipFamilyPolicy", "internalTrafficPolicy", "sessionAffinity", "type")}
    out.append(o)
print(json.dumps({"apiVersion": "v1", "kind": "List", "items": out}))
PY
objects="$(python3 -c "import json; print(len(json.load(open('$work/baseline.json'))['items']))")"
t2="$(now)"
"$kubectl" -n baseline create -f "$work/baseline.json" >/dev/null
t3="$(now)"
base_seconds="$(python3 -c "print(f'{$t3 - $t2:.1f}')")"

# One line for the wrapper: operator s, direct s, ratio, operator CPU s, peak RSS MiB.
python3 -c "print(f'$op_seconds $base_seconds {$op_seconds / max($base_seconds, 0.1):.3f} {$cpu1 - $cpu0:.2f} {$rss_kib / 1024:.1f}')"
