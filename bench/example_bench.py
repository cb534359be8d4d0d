#!/usr/bin/env python3
"""The `make run` example against PyTorch DDP, side by side (`make bench`; issue 15).

Runs `ringtrain run` on examples/fashion-mnist.yaml (its defaults: processes on ipc:// sockets,
no CURVE needed on them, no replication) and bench/ddp_example.py (the same model, data, row
shards, batch, momentum, warm-up and cosine schedule, initialisation and epochs, over DDP/gloo),
alternating sides trial by trial, both pinned with taskset to the same CPUs, and within them
each worker process to one CPU: `ringtrain run` does so by default, and DDP's ranks get the same
(ddp_example.py --pin), so neither side gains from placement the other lacks. Each side's output
is read as it arrives, so every epoch's test accuracy gets the time since that process started.

Trial i runs both sides with seed i (spec.training.seed; ddp_example.py --seed). Reported per
side, as the median of the trials [lowest - highest]:
  * time to the target accuracy (0.85): the whole process, from its start to the first epoch
    whose evaluation reaches it (start-up, loading and evaluations included);
  * steady epoch: the median time between epoch lines after the first (training and one
    evaluation);
  * the training loop alone: DDP's own clock around its steps, ringtrain's slowest worker's
    (its summary's `training loop`: first step to last, less evaluations that stopped it); no
    start-up, loading or evaluation on either side;
  * the whole run and the final accuracy;
and the ratios ringtrain / DDP against issue 15's goals (<= 0.5x for both times). With
--floor (bench/compute_floor, built with ringtrain), the compute floor of an epoch measured in
the same run: the epoch's arithmetic (both workers' steps and one evaluation) at Eigen's best
single-core throughput on all the CPUs the runs are pinned to, and at the job's own shapes; the
steady epoch against it (goal <= 2x the first). What each
side computed on is printed: torch's version, threads and the BLAS it loaded. No ratio is given
when torch runs on Debian's reference BLAS (libopenblas0-pthread switches libblas.so.3 to
OpenBLAS; `make bench` installs it).

Usage: example_bench.py --ringtrain BIN [--floor BIN] [--job examples/fashion-mnist.yaml]
       [--trials 3] [--target 0.85] [--json PATH]
"""

import argparse
import gzip
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_timing import run_timed, system_import, time_to  # noqa: E402

yaml = system_import("yaml", "example_bench", "python3-yaml")

WHO = "example_bench"
GOAL = 0.5  # issue 15: ringtrain's times at most half of DDP's
FLOOR_GOAL = 2.0  # issue 15: a steady epoch at most twice the compute floor


def idx_count(uri):
    """The number of items an IDX file (gzip or plain) holds, from its header."""
    path = uri[len("file://"):] if uri.startswith("file://") else uri
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        header = f.read(8)
    return int.from_bytes(header[4:8], "big")


def compute_floor(binary, spec, cores):
    """bench/compute_floor's figures for the job (see its header), as a dict."""
    t = spec["training"]
    workers = spec["workers"]["replicas"]
    rows = idx_count(spec["dataset"]["train"]["images"])
    test = spec["dataset"].get("test")
    test_rows = idx_count(test["images"]) if test else 0
    steps = math.ceil(rows / workers / t["batchSize"])
    argv = [binary, "--input", "784", "--classes", "10", "--batch", str(t["batchSize"]),
            "--steps-per-epoch", str(steps), "--workers", str(workers),
            "--test-rows", str(test_rows), "--cores", str(cores), "--json"]
    for width in spec["model"]["hiddenLayers"]:
        argv += ["--hidden", str(width)]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def steady_epoch(points):
    """The median time between consecutive epoch lines after the first."""
    gaps = [b[0] - a[0] for a, b in zip(points, points[1:])]
    return statistics.median(gaps) if gaps else float("nan")


def spread(values):
    if all(v != v for v in values):
        return "-"
    finite = [v for v in values if v == v and v != float("inf")]
    if not finite:
        return "never"
    return f"{statistics.median(values):.2f} [{min(finite):.2f}-{max(finite):.2f}]"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ringtrain", required=True)
    parser.add_argument("--floor", help="bench/compute_floor, to measure the compute floor")
    parser.add_argument("--job", default=os.path.join(HERE, "..", "examples", "fashion-mnist.yaml"))
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--target", type=float, default=0.85)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    with open(args.job) as f:
        job = yaml.safe_load(f)
    spec = job["spec"]
    t = spec["training"]
    opt = t["optimizer"]
    schedule = t.get("schedule", {})
    if spec["model"]["type"] != "mlp" or len(spec["model"].get("hiddenLayers", [])) != 1 or \
            opt["type"] != "momentum" or schedule.get("type") != "cosine":
        sys.exit(f"{WHO}: {args.job} is not the example this compares (an MLP with one hidden "
                 f"layer, momentum, a cosine schedule)")
    workers = spec["workers"]["replicas"]
    images = spec["dataset"]["train"]["images"]
    data_dir = os.path.dirname(images[len("file://"):] if images.startswith("file://") else images)

    work = tempfile.mkdtemp(prefix="example-bench-")
    cpus = ",".join(str(c) for c in sorted(os.sched_getaffinity(0)))
    pin = ["taskset", "-c", cpus]

    def ringtrain_argv(seed):
        """The job with spec.training.seed = seed, written next to the logs."""
        job["spec"]["training"]["seed"] = seed
        path = os.path.join(work, f"job-seed-{seed}.yaml")
        with open(path, "w") as f:
            yaml.safe_dump(job, f)
        return pin + [args.ringtrain, "run", "--no-progress", "--output",
                      os.path.join(work, "out"), path]

    ddp_argv = pin + [sys.executable, os.path.join(HERE, "ddp_example.py"),
                      "--workers", str(workers), "--batch-size", str(t["batchSize"]),
                      "--epochs", str(t["epochs"]),
                      "--hidden", str(spec["model"]["hiddenLayers"][0]),
                      "--lr", str(opt["learningRate"]), "--momentum", str(opt["momentum"]),
                      "--warmup", str(schedule.get("warmupSteps", 0)), "--data-dir", data_dir,
                      "--pin"]
    sides = {
        "ringtrain": (None, re.compile(r"^epoch \d+/\d+\s+test accuracy ([0-9.]+)")),
        "ddp": (ddp_argv, re.compile(r"^ddp_epoch \d+/\d+ test_accuracy=([0-9.]+)")),
    }
    floor = None
    if args.floor:
        floor = compute_floor(args.floor, spec, len(os.sched_getaffinity(0)))
        print(f"compute floor: {floor['math']}; {floor['peak_gflops']:.1f} GFLOP/s at best on one "
              f"core, {floor['step_gflops']:.1f} at the job's shapes; an epoch "
              f"({floor['epoch_flops'] / 1e9:.1f} GFLOP) on {floor['cores']} cores takes "
              f"{floor['floor_epoch_seconds']:.3f} s at best, "
              f"{floor['floor_epoch_seconds_at_job_shapes']:.3f} s at the job's shapes", flush=True)
    runs = {name: [] for name in sides}
    torch_runtime, summary = "", ""
    for trial in range(args.trials):
        # Each trial its own seed, the same on both sides (initialisation and shuffling differ
        # between the two programs anyway): the epoch that first reaches the target varies with
        # the seed, so the median over seeds is the typical one, not one seed's luck.
        seed = trial + 1
        order = list(sides) if trial % 2 == 0 else list(reversed(sides))
        for name in order:
            argv, pattern = sides[name]
            argv = ringtrain_argv(seed) if name == "ringtrain" else argv + ["--seed", str(seed)]
            points, whole, output = run_timed(argv, pattern,
                                              os.path.join(work, f"{name}-{trial}.log"), WHO)
            r = {"points": points, "whole": whole, "to_target": time_to(points, args.target),
                 "steady_epoch": steady_epoch(points), "final": points[-1][1]}
            if name == "ddp":
                m = re.search(r"^ddp_runtime (.*)$", output, re.M)
                torch_runtime = m.group(1) if m else "unknown"
                m = re.search(r"^ddp_done .*train_seconds=([0-9.]+)", output, re.M)
                r["loop"] = float(m.group(1)) if m else float("nan")
            else:
                summary = output[output.find("summary"):]
                m = re.search(r"^\s+training loop\s+([0-9.]+) s", summary, re.M)
                r["loop"] = float(m.group(1)) if m else float("nan")
            runs[name].append(r)
            loop = f"  loop {r['loop']:.2f} s" if r["loop"] == r["loop"] else ""
            print(f"  trial {trial + 1} (seed {seed})  {name:9s}  final accuracy {r['final']:.4f}  "
                  f"to {args.target}: {r['to_target']:.2f} s  steady epoch "
                  f"{r['steady_epoch']:.2f} s{loop}  whole {whole:.2f} s", flush=True)

    auth = re.search(r"^\s+authentication\s+(.*)$", summary, re.M)
    print()
    print(f"The `make run` example against PyTorch DDP ({args.trials} trials, alternating, both "
          f"pinned to CPUs {cpus}; {workers} workers of batch {t['batchSize']}, "
          f"{t['epochs']} epochs, momentum {opt['momentum']}, lr {opt['learningRate']} with "
          f"{schedule.get('warmupSteps', 0)} warm-up steps then cosine)")
    print(f"  ringtrain: {spec['parameterServers']['replicas']} parameter servers + {workers} "
          f"workers as processes (`ringtrain run` defaults: "
          f"{auth.group(1) if auth else 'see its summary'}; no replication)")
    print(f"  ddp:       {workers} processes over gloo, rank r pinned to the r-th CPU as "
          f"ringtrain pins its workers, {torch_runtime}")
    print(f"  {'side':10s} {'final accuracy':>15s} {'to ' + str(args.target) + ' (s)':>22s} "
          f"{'steady epoch (s)':>22s} {'training loop (s)':>22s} {'whole run (s)':>22s}")
    for name, rs in runs.items():
        print(f"  {name:10s} {statistics.median(r['final'] for r in rs):15.4f} "
              f"{spread([r['to_target'] for r in rs]):>22s} "
              f"{spread([r['steady_epoch'] for r in rs]):>22s} "
              f"{spread([r['loop'] for r in rs]):>22s} {spread([r['whole'] for r in rs]):>22s}")
    results = {"trials": args.trials, "cpus": cpus, "target": args.target,
               "torch_runtime": torch_runtime, "runs": runs, "ratios": {}, "floor": floor}
    if floor:
        ours = statistics.median(r["steady_epoch"] for r in runs["ringtrain"])
        theirs = statistics.median(r["steady_epoch"] for r in runs["ddp"])
        best = floor["floor_epoch_seconds"]
        shapes = floor["floor_epoch_seconds_at_job_shapes"]
        results["ratios"]["steady_epoch_to_floor"] = ours / best
        print(f"  compute floor of an epoch: {best:.3f} s at Eigen's best, {shapes:.3f} s at the "
              f"job's shapes; steady epoch / floor: ringtrain {ours / best:.2f}x "
              f"(goal <= {FLOOR_GOAL}x: {'met' if ours / best <= FLOOR_GOAL else 'MISSED'}; "
              f"{ours / shapes:.2f}x the floor at the job's shapes), ddp {theirs / best:.2f}x")
    if "blas=reference" in torch_runtime or "blas=" not in torch_runtime:
        print("  no ratio: torch runs on Debian's reference BLAS (or its BLAS is unknown), "
              "several times slower than OpenBLAS (install libopenblas0-pthread)")
    else:
        for key, label in (("to_target", f"time to {args.target}"),
                           ("steady_epoch", "steady epoch"), ("loop", "training loop"),
                           ("whole", "whole run")):
            ours = statistics.median(r[key] for r in runs["ringtrain"])
            theirs = statistics.median(r[key] for r in runs["ddp"])
            ratio = ours / theirs if theirs > 0 and theirs != float("inf") else float("nan")
            results["ratios"][key] = ratio
            goal = ""
            if key in ("to_target", "steady_epoch"):
                goal = f" (goal <= {GOAL}x: {'met' if ratio <= GOAL else 'MISSED'})"
            print(f"  {label}, ringtrain / ddp: {ratio:.2f}x{goal}")
    print(f"  logs in {work}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
