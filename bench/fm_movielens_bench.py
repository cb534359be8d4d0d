#!/usr/bin/env python3
"""FM on MovieLens-100k, ringtrain against its PyTorch peer (`make bench`; issue 14).

Both sides train the job of examples/movielens-fm.yaml (FM, embedding size 8, Adagrad, the same
batch, epochs and learning rate, the same CSV files and feature schema) once per seed, the two
alternating, with the job's training.seed set to the seed:
  ringtrain  `ringtrain run` of the job: its parameter servers and workers as processes
  PyTorch    bench/fm_torch.py: the same FM in one process (nn.EmbeddingBag with sparse
             gradients, torch.optim.Adagrad), on OpenBLAS (it prints what it ran on)
Each side's output is read line by line as it arrives, so every epoch's test AUC gets the time
since the process was started: the whole process, start-up and data loading included.

With --deep-job (examples/movielens-deepfm.yaml), ringtrain also trains that DeepFM on the same
seeds, and the report says by how much its mean final AUC is above (or below) the FM's.

Reported: the final test AUC of every run and their mean per side, and whether the means are
within 0.005 of each other; the median whole-process time to reach the target AUC, the lower of
the two sides' mean final AUCs minus 0.002 (an AUC both reach), and the median time of the whole
run. Exit status 0 unless a run fails (an AUC outside the tolerance is reported, not fatal).

Usage: fm_movielens_bench.py --ringtrain BIN --job JOB.yaml --data DIR [--seeds 1 2 3]
                             [--deep-job DEEPFM.yaml]
  DIR holds train.csv and test.csv from `ringtrain prepare movielens`.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_timing import run_timed, system_import, time_to  # noqa: E402

yaml = system_import("yaml", "fm_movielens_bench", "python3-yaml")

TOLERANCE = 0.005
WHO = "fm_movielens_bench"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ringtrain", required=True)
    parser.add_argument("--job", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--deep-job")
    args = parser.parse_args()

    data = os.path.abspath(args.data)

    def load(path):
        with open(path) as f:
            loaded = yaml.safe_load(f)
        loaded["spec"]["dataset"]["train"]["uri"] = os.path.join(data, "train.csv")
        loaded["spec"]["dataset"]["test"]["uri"] = os.path.join(data, "test.csv")
        return loaded

    job = load(args.job)
    deep_job = load(args.deep_job) if args.deep_job else None
    work = tempfile.mkdtemp(prefix="fm-bench-")
    ringtrain_re = re.compile(r"^epoch \d+/\d+\s+test AUC ([0-9.]+)")
    torch_re = re.compile(r"^fm_epoch .*test_auc=([0-9.]+)")

    runs = {"ringtrain": [], "pytorch": []}
    deep_runs = []
    torch_runtime = ""
    for i, seed in enumerate(args.seeds):
        job["spec"].setdefault("training", {})["seed"] = seed
        path = os.path.join(work, f"job-{seed}.yaml")
        with open(path, "w") as f:
            yaml.safe_dump(job, f)
        if deep_job:
            deep_job["spec"].setdefault("training", {})["seed"] = seed
            deep_path = os.path.join(work, f"deepfm-{seed}.yaml")
            with open(deep_path, "w") as f:
                yaml.safe_dump(deep_job, f)
            points, whole, _ = run_timed([args.ringtrain, "run", deep_path], ringtrain_re,
                                         os.path.join(work, f"deepfm-{seed}.log"), WHO)
            deep_runs.append({"seed": seed, "points": points, "whole": whole})
            print(f"  seed {seed}  deepfm     final test AUC {points[-1][1]:.4f}  "
                  f"{len(points)} epochs  {whole:.2f} s", flush=True)
        sides = [
            ("ringtrain", [args.ringtrain, "run", path, "--output",
                           os.path.join(work, f"out-{seed}")], ringtrain_re),
            ("pytorch", [sys.executable, os.path.join(HERE, "fm_torch.py"), path,
                         "--seed", str(seed)], torch_re),
        ]
        if i % 2 == 1:
            sides.reverse()
        for name, argv, pattern in sides:
            points, whole, output = run_timed(argv, pattern,
                                              os.path.join(work, f"{name}-{seed}.log"), WHO)
            runs[name].append({"seed": seed, "points": points, "whole": whole})
            m = re.search(r"^fm_runtime (.*)$", output, re.M)
            if m:
                torch_runtime = m.group(1)
                runs[name][-1]["loop"] = sum(
                    float(s) for s in re.findall(r"train_seconds=([0-9.]+)", output))
            print(f"  seed {seed}  {name:9s}  final test AUC {points[-1][1]:.4f}  "
                  f"{len(points)} epochs  {whole:.2f} s", flush=True)

    spec = job["spec"]
    mean = {name: statistics.mean(r["points"][-1][1] for r in rs) for name, rs in runs.items()}
    target = min(mean.values()) - 0.002
    ps = spec.get("parameterServers", {}).get("replicas", 1)
    workers = spec.get("workers", {}).get("replicas", 1)
    version = subprocess.run([args.ringtrain, "version"], capture_output=True,
                             text=True).stdout.strip()
    print()
    print(f"FM on MovieLens-100k ({len(args.seeds)} seeds, alternating; "
          f"embedding {spec['model'].get('embeddingSize', 8)}, "
          f"{spec['training']['optimizer']['type']} lr {spec['training']['optimizer']['learningRate']}, "
          f"batch {spec['training']['batchSize']} x {workers} workers, "
          f"{spec['training']['epochs']} epochs)")
    print(f"  ringtrain: {version}, {ps} parameter server(s) + {workers} worker(s) as processes, "
          f"`ringtrain run` defaults (ipc:// transport, no CURVE needed on it, no replication)")
    print(f"  pytorch:   one process, {torch_runtime}")
    print(f"  target AUC for time-to-AUC: {target:.4f} (lower mean final AUC - 0.002)")
    print(f"  {'side':10s} {'final test AUC per seed':32s} {'mean':>7s} "
          f"{'time to target (median)':>24s} {'whole run (median)':>19s}")
    for name, rs in runs.items():
        finals = " ".join(f"{r['points'][-1][1]:.4f}" for r in rs)
        to_target = statistics.median(time_to(r["points"], target) for r in rs)
        whole = statistics.median(r["whole"] for r in rs)
        print(f"  {name:10s} {finals:32s} {mean[name]:7.4f} {to_target:22.2f} s "
              f"{whole:17.2f} s")
    loop = statistics.median(r["loop"] for r in runs["pytorch"])
    print(f"  pytorch's training steps alone (no start-up, loading or evaluation): {loop:.2f} s "
          f"(median)")
    diff = mean["ringtrain"] - mean["pytorch"]
    verdict = "within" if abs(diff) <= TOLERANCE else "NOT within"
    print(f"  mean AUC difference ringtrain - pytorch: {diff:+.4f} ({verdict} {TOLERANCE})")
    t_r = statistics.median(time_to(r["points"], target) for r in runs["ringtrain"])
    t_p = statistics.median(time_to(r["points"], target) for r in runs["pytorch"])
    if t_p > 0 and t_p != float("inf"):
        print(f"  time to target AUC, ringtrain / pytorch: {t_r / t_p:.2f}x")
    if deep_runs:
        deep_mean = statistics.mean(r["points"][-1][1] for r in deep_runs)
        finals = " ".join(f"{r['points'][-1][1]:.4f}" for r in deep_runs)
        best = statistics.mean(max(v for _, v in r["points"]) for r in deep_runs)
        print(f"  DeepFM (ringtrain, {deep_job['spec']['model'].get('hiddenLayers')} hidden, "
              f"lr {deep_job['spec']['training']['optimizer']['learningRate']}): final AUC "
              f"{finals}, mean {deep_mean:.4f} ({deep_mean - mean['ringtrain']:+.4f} against "
              f"ringtrain's FM; its best epochs' mean {best:.4f}); whole run "
              f"{statistics.median(r['whole'] for r in deep_runs):.2f} s (median)")
    print(f"  logs in {work}")


if __name__ == "__main__":
    main()
