#!/usr/bin/env python3
"""Logistic regression at scale on generated click-through data (`make bench`; issue 14).

The data: `ringtrain generate ctr` of 10^7 training rows (10 fields, a Zipf(1.0) vocabulary of
16M values each, so more than 2^24 distinct keys occur; each field's 1000 most frequent values
carry ground-truth weights, the rare ones none) and 200,000 test rows of the same truth, made
once and cached in $RINGTRAIN_CACHE_DIR/ctr-scale (default ~/.cache/ringtrain).

The job: model.type logistic with FTRL-Proximal, 2 workers, one epoch in sync mode, run by
`ringtrain run` with 2 and then with 4 parameter servers.

Reported: the distinct keys; the ground-truth model's test log-loss and each run's, their ratio
(the goal: within 1%) and the difference between the 2- and the 4-server runs (the goal: the
same loss, |difference| <= 0.001: sync rounds over the same batches compute the same model
whatever the servers); the servers' table memory per raw byte for the ~2^24 keys (goal: at most
1.5), the wall time and throughput, and the peak resident memory of the largest server and
worker process (each worker streams its share of the training file: its memory does not grow
with the data). Each goal is marked met or MISSED; the exit status is 0
unless a run fails.

Usage: sparse_scale_bench.py --ringtrain BIN [--rows N] [--workdir DIR]
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

GENERATOR = ["--fields", "10", "--keys-per-field", "16000000", "--zipf", "1.0",
             "--weighted-values", "1000", "--weight-scale", "0.4", "--seed", "5"]


def generate(ringtrain, path, rows, row_seed=None):
    """Writes `path` once (atomically); returns the generator's report lines."""
    report = path + ".report"
    if os.path.exists(path) and os.path.exists(report):
        with open(report) as f:
            return f.read()
    argv = [ringtrain, "generate", "ctr", "--rows", str(rows), "--out", path + ".partial"]
    argv += GENERATOR + (["--row-seed", str(row_seed)] if row_seed else [])
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    os.replace(path + ".partial", path)
    with open(report, "w") as f:
        f.write(out)
    return out


def number(pattern, text, what):
    m = re.search(pattern, text)
    if not m:
        sys.exit(f"sparse_scale_bench: no {what} in:\n{text}")
    return float(m.group(1))


def peak_mib(role, text):
    """The largest peak resident memory of the summary's `role` processes, in MiB."""
    line = re.search(r"peak memory +(.*)", text)
    if not line:
        sys.exit(f"sparse_scale_bench: no peak memory in:\n{text}")
    scale = {"B": 1 / 2**20, "KiB": 1 / 1024, "MiB": 1, "GiB": 1024, "TiB": 2**20}
    sizes = [float(v) * scale[unit]
             for v, unit in re.findall(rf"{role}-[0-9]+ ([0-9.]+) (B|KiB|MiB|GiB|TiB)",
                                       line.group(1))]
    if not sizes:
        sys.exit(f"sparse_scale_bench: no {role} in: {line.group(0)}")
    return max(sizes)


def run(ringtrain, data, servers, workdir):
    spec = os.path.join(workdir, f"scale-{servers}.yaml")
    with open(spec, "w") as f:
        f.write(f"""apiVersion: ringtrain.io/v1alpha1
kind: TrainingJob
metadata: {{name: ctr-scale-{servers}}}
spec:
  model: {{type: logistic}}
  dataset:
    format: libsvm
    train: {{uri: {data}/train.libsvm}}
    test: {{uri: {data}/test.libsvm}}
  training:
    epochs: 1
    batchSize: 256
    optimizer: {{type: ftrl, learningRate: 4.0}}
  parameterServers: {{replicas: {servers}}}
  workers: {{replicas: 2}}
""")
    start = time.monotonic()
    p = subprocess.run([ringtrain, "run", "--no-progress", spec], capture_output=True, text=True)
    seconds = time.monotonic() - start
    out = p.stdout + p.stderr
    with open(os.path.join(workdir, f"scale-{servers}.log"), "w") as f:
        f.write(out)
    if p.returncode != 0:
        sys.exit(f"sparse_scale_bench: the {servers}-server run failed:\n{out}")
    return {
        "servers": servers,
        "loss": number(r"test AUC +[0-9.]+ \(test log-loss ([0-9.]+)\)", out, "test log-loss"),
        "auc": number(r"test AUC +([0-9.]+) \(", out, "test AUC"),
        "keys": int(number(r"sparse table +([0-9]+) keys", out, "table size")),
        "memory": number(r"([0-9.]+) bytes per raw byte", out, "table memory"),
        "throughput": number(r"throughput +([0-9.]+)k samples/s", out, "throughput"),
        "seconds": seconds,
        "server_mib": peak_mib("ps", out),
        "worker_mib": peak_mib("worker", out),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ringtrain", required=True)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--workdir")
    args = parser.parse_args()
    cache = os.environ.get("RINGTRAIN_CACHE_DIR", os.path.expanduser("~/.cache/ringtrain"))
    data = os.path.join(cache, "ctr-scale", f"rows-{args.rows}-" + "-".join(GENERATOR[1::2]))
    os.makedirs(data, exist_ok=True)
    workdir = args.workdir or tempfile.mkdtemp(prefix="sparse-scale-")
    print(f"sparse scale: generating (once) into {data}", flush=True)
    train = generate(args.ringtrain, os.path.join(data, "train.libsvm"), args.rows)
    test = generate(args.ringtrain, os.path.join(data, "test.libsvm"), 200_000, row_seed=77)
    distinct = int(number(r"distinct keys +([0-9]+)", train, "distinct keys"))
    truth = number(r"ground-truth log-loss +([0-9.]+)", test, "ground-truth log-loss")
    runs = [run(args.ringtrain, data, servers, workdir) for servers in (2, 4)]

    def mark(ok):
        return "met" if ok else "MISSED"

    print(f"\nsparse scale: logistic regression, FTRL, {args.rows:,} rows, one epoch, 2 workers, "
          f"sync (logs in {workdir})")
    print(f"  distinct keys in the training rows  {distinct:,} (2^24 = {2**24:,}: "
          f"{mark(distinct >= 2**24)})")
    print(f"  ground-truth test log-loss          {truth:.4f}")
    train_mib = os.path.getsize(os.path.join(data, "train.libsvm")) / 2**20
    print(f"  training file                       {train_mib:,.0f} MiB (LibSVM, plain)")
    print(f"  {'servers':>7}  {'log-loss':>8}  {'vs truth':>8}  {'AUC':>6}  {'keys':>11}  "
          f"{'bytes/raw':>9}  {'k samples/s':>11}  {'wall s':>6}  {'server MiB':>10}  "
          f"{'worker MiB':>10}")
    for r in runs:
        print(f"  {r['servers']:>7}  {r['loss']:>8.4f}  {r['loss'] / truth:>8.4f}  {r['auc']:>6.4f}  "
              f"{r['keys']:>11,}  {r['memory']:>9.2f}  {r['throughput']:>11.1f}  "
              f"{r['seconds']:>6.1f}  {r['server_mib']:>10.0f}  {r['worker_mib']:>10.0f}")
    worst = max(r["loss"] for r in runs) / truth
    diff = abs(runs[0]["loss"] - runs[1]["loss"])
    print(f"  within 1% of the truth: {mark(worst <= 1.01)} ({(worst - 1) * 100:+.2f}%); "
          f"2 and 4 servers: |difference| {diff:.4f} ({mark(diff <= 0.001)}); "
          f"table memory: {mark(max(r['memory'] for r in runs) <= 1.5)}")


if __name__ == "__main__":
    main()
