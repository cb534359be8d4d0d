#!/usr/bin/env python3
"""Runs the benchmarks and writes a report a person can read (`make bench`, `make bench-quick`).

Each benchmark runs as its own process, its output shown as it comes and kept. The report,
bench/results/<date>.md (with <date>.json beside it and the plots as <date>-*.png), gives:
  * the machine: CPU model, the CPUs this process may use, memory, kernel, OS, compiler, the
    commit measured (and whether the tree had changes);
  * issue 15's goals, each with the figure measured in this run and whether it is met (from the
    benchmarks' JSON: the `make run` example against DDP and the compute floor, the transport
    against raw ZeroMQ; the sparse and FM comparisons' own summary lines);
  * every benchmark's whole output (each prints its figures with their spread: medians of
    alternating trials and their lowest and highest), and how long it took;
  * a plot of the example's test accuracy over time, both sides, every trial (matplotlib, from
    Debian's python3-matplotlib, which `make bench` installs; without it the report says so);
  * how cost grows (bench/scaling_bench.py, which needs root: network namespaces joined by
    veths shaped with tc): its tables and plots, written to <date>-scaling/ beside the report
    (its processes' logs go with the other logs). Not run, and said so, without root.
A benchmark that fails is reported as failed with its output, the others still run, and the
script exits with status 1 at the end.

--quick (`make bench-quick`, a few minutes): the example against DDP and the floor (one trial),
the transport (5 short trials), sparse push/pull (smoke size), FM on MovieLens (one seed) and
the scaling study's --quick handful of configurations.

Usage: report.py --build build/release [--quick] [--out bench/results] [--date YYYY-MM-DD]
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = "/usr/bin/python3"


BULK_COPY_TITLE = "A step's copies: CopyBulk against memcpy at every offset between the addresses"
SCALING_TITLE = ("How cost grows: model size, links, workers, servers, codecs, modes and "
                 "partition size")


def steps(build, quick, scaling_out, scaling_logs):
    """(name, title, argv, writes_json) of each benchmark, in the order they run."""
    ringtrain = os.path.join(build, "runtime", "ringtrain")
    bench = os.path.join(build, "bench")
    scaling = [PY, os.path.join(HERE, "scaling_bench.py"), "--ringtrain", ringtrain,
               "--floor", os.path.join(bench, "compute_floor"), "--out", scaling_out,
               "--logs", scaling_logs] + (["--quick"] if quick else [])
    example = [PY, os.path.join(HERE, "example_bench.py"), "--ringtrain", ringtrain,
               "--floor", os.path.join(bench, "compute_floor"),
               "--trials", "1" if quick else "3"]
    fm = [PY, os.path.join(HERE, "fm_movielens_bench.py"), "--ringtrain", ringtrain,
          "--job", os.path.join(ROOT, "examples", "movielens-fm.yaml"),
          "--deep-job", os.path.join(ROOT, "examples", "movielens-deepfm.yaml"),
          "--data", os.path.join(ROOT, "build", "movielens"),
          "--seeds"] + (["1"] if quick else ["1", "2", "3"])
    if quick:
        return [
            ("example", "The `make run` example against PyTorch DDP, and the compute floor",
             example, True),
            ("transport", "Transport: push+pull goodput against raw ZeroMQ",
             [os.path.join(bench, "transport_bench"), "--quick"], True),
            ("bulk_copy", BULK_COPY_TITLE, [os.path.join(bench, "bulk_copy_bench"),
                                            "--trials", "1"], True),
            ("sparse_kv", "Sparse push and pull (smoke size)",
             [os.path.join(bench, "sparse_kv_bench"), "--smoke"], False),
            ("fm_movielens", "FM on MovieLens-100k against PyTorch", fm, False),
            ("scaling", SCALING_TITLE, scaling, False),
        ]
    return [
        ("example", "The `make run` example against PyTorch DDP, and the compute floor",
         example, True),
        ("transport", "Transport: push+pull goodput against raw ZeroMQ",
         [os.path.join(bench, "transport_bench")], True),
        ("bulk_copy", BULK_COPY_TITLE, [os.path.join(bench, "bulk_copy_bench")], True),
        ("sparse_kv", "Sparse push and pull in keys/s, against ps-lite",
         [os.path.join(bench, "sparse_kv_bench"), "--trials", "3", "--peer",
          "bash " + os.path.join(HERE, "pslite_peer.sh")], False),
        ("sparse_scale", "Sparse models at scale: 10^7 rows, 2 and 4 servers",
         [PY, os.path.join(HERE, "sparse_scale_bench.py"), "--ringtrain", ringtrain], False),
        ("fm_movielens", "FM on MovieLens-100k against PyTorch", fm, False),
        ("scaling", SCALING_TITLE, scaling, False),
        ("training_modes", "Consistency models and codecs, and DDP with 4 workers",
         [os.path.join(bench, "training_modes_bench"), "--trials", "3", "--ddp",
          f"{PY} {os.path.join(HERE, 'ddp_baseline.py')} --workers 4 --epochs 1 "
          "--batch-size 32 --hidden 256 --lr 0.05"], False),
        ("checkpoint", "What checkpoints every 10 s cost",
         [os.path.join(bench, "checkpoint_bench"), "--trials", "3", "--big-trials", "2",
          "--period", "10"], False),
        ("recovery", "Recovery of a killed worker or server",
         [os.path.join(bench, "recovery_bench"), "--trials", "3"], False),
        ("reader", "Reading text data against zcat",
         [os.path.join(bench, "reader_bench"), "--trials", "3"], False),
        ("stream_memory", "A worker's memory while streaming 4 GiB of CSV",
         [os.path.join(bench, "stream_memory_bench")], False),
        ("operator", "The operator: 100 TrainingJobs against the real API server",
         ["bash", os.path.join(HERE, "operator_bench.sh"),
          os.path.join(build, "operator", "ringtrain-operator"), "100"], False),
    ]


def run(cmd, logfile):
    """Runs cmd, echoing and keeping its output; returns (exit status, output, seconds)."""
    start = time.monotonic()
    out = []
    with open(logfile, "w") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                cwd=ROOT, bufsize=1)
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            log.write(line)
            out.append(line)
        status = proc.wait()
    return status, "".join(out), time.monotonic() - start


def first_line(path, prefix):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def capture(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT,
                              check=False).stdout.strip()
    except OSError:
        return ""


def machine():
    mem_kib = first_line("/proc/meminfo", "MemTotal").split()[0]
    os_name = "unknown"
    try:
        with open("/etc/os-release") as f:
            m = re.search(r'^PRETTY_NAME="?([^"\n]*)', f.read(), re.M)
            os_name = m.group(1) if m else os_name
    except OSError:
        pass
    commit = capture(["git", "rev-parse", "--short", "HEAD"]) or "unknown"
    dirty = bool(capture(["git", "status", "--porcelain", "--untracked-files=no"]))
    return {
        "cpu_model": first_line("/proc/cpuinfo", "model name"),
        "cpus_online": os.cpu_count(),
        "cpus_usable": sorted(os.sched_getaffinity(0)),
        "memory_gib": round(int(mem_kib) / 2**20, 1) if mem_kib.isdigit() else None,
        "kernel": platform.release(),
        "os": os_name,
        "compiler": (capture(["c++", "--version"]).splitlines() or ["unknown"])[0],
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
    }


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def verdict(ok):
    return "met" if ok else "**not met**"


def goals(results, quick):
    """Markdown lines: issue 15's goals against this run's figures."""
    lines = ["| goal | measured | |", "|---|---|---|"]
    ex = results.get("example", {}).get("json")
    if ex and ex.get("ratios"):
        r = ex["ratios"]
        if "to_target" in r:
            lines.append(f"| the example's whole-process time to {ex['target']} test accuracy "
                         f"≤ 0.5× DDP's | {r['to_target']:.2f}× | {verdict(r['to_target'] <= 0.5)} |")
        if "steady_epoch" in r:
            lines.append(f"| its steady epoch ≤ 0.5× DDP's | {r['steady_epoch']:.2f}× | "
                         f"{verdict(r['steady_epoch'] <= 0.5)} |")
        if "steady_epoch_to_floor" in r:
            lines.append(f"| its steady epoch ≤ 2× the compute floor | "
                         f"{r['steady_epoch_to_floor']:.2f}× | "
                         f"{verdict(r['steady_epoch_to_floor'] <= 2.0)} |")
    elif ex:
        lines.append("| the example against DDP | no ratio: torch did not run on OpenBLAS | |")
    tr = results.get("transport", {}).get("json")
    if tr:
        lines.append(f"| push+pull goodput ≥ 0.9× raw ZeroMQ at every size, 1 KiB–16 MiB | "
                     f"lowest {tr['lowest_ratio']:.2f}× | {verdict(tr['lowest_ratio'] >= 0.9)} |")
    lines_from_output = [("fm_movielens", r"^\s*(time to target AUC, ringtrain / pytorch: .*)$"),
                         ("fm_movielens", r"^\s*(mean AUC difference ringtrain - pytorch: .*)$")]
    if not quick:  # at smoke size the keys/s say nothing
        lines_from_output.append(("sparse_kv", r"^\s*(\(ps-lite's reference: .*\))$"))
    for name, pattern in lines_from_output:
        out = results.get(name, {}).get("output", "")
        for m in re.finditer(pattern, out, re.M):
            lines.append(f"| {name} | {m.group(1)} | |")
    return lines


def plot_example(ex, path):
    """Test accuracy over time, each side's trials; returns an error string or None."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "no plot: matplotlib is not installed (Debian's python3-matplotlib)"
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    colours = {"ringtrain": "tab:blue", "ddp": "tab:orange"}
    for side, runs in ex["runs"].items():
        for i, r in enumerate(runs):
            pts = r["points"]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", markersize=3,
                    color=colours.get(side), alpha=0.8,
                    label=side if i == 0 else None)
    ax.axhline(ex["target"], color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("seconds since the process started")
    ax.set_ylabel("test accuracy")
    ax.set_title("The `make run` example: ringtrain against PyTorch DDP")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return None


def scaling_section(scaling_out, stem):
    """Markdown lines: the scaling study's tables and plots (scaling.md, its links made
    relative to the report), or [] when it wrote none."""
    try:
        with open(os.path.join(scaling_out, "scaling.md")) as f:
            text = f.read()
    except OSError:
        return []
    text = re.sub(r"!\[([^\]]*)\]\(([^)/]+)\)", rf"![\1]({stem}-scaling/\2)", text)
    return ["", f"## {SCALING_TITLE}: tables and plots", "",
            "`bench/scaling_bench.py`: each process in a network namespace of its own, joined "
            "by veths shaped with tc; see the script's header for what is measured and how.",
            ""] + text.rstrip().splitlines()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True, help="the release build tree")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=os.path.join(HERE, "results"))
    parser.add_argument("--date", default=datetime.date.today().isoformat())
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    os.makedirs(args.out, exist_ok=True)
    stem = args.date + ("-quick" if args.quick else "")
    logs = os.path.join(args.out, ".logs-" + stem)
    os.makedirs(logs, exist_ok=True)

    info = machine()
    results = {}
    failed = []
    scaling_out = os.path.join(args.out, stem + "-scaling")
    for name, title, argv, writes_json in steps(build, args.quick, scaling_out,
                                                os.path.join(logs, "scaling")):
        json_path = os.path.join(logs, name + ".json")
        if writes_json:
            argv = argv + ["--json", json_path]
        print(f"\n== {title}\n$ {' '.join(argv)}", flush=True)
        if name == "scaling" and os.geteuid() != 0:
            note = ("not run: the scaling study makes network namespaces and shapes links, "
                    "which needs root (sudo make bench, or sudo python3 bench/scaling_bench.py)")
            print(note, flush=True)
            results[name] = {"title": title, "argv": argv, "status": 0, "seconds": 0.0,
                             "output": note + "\n", "json": None}
            continue
        if name == "scaling":  # no tables or plots of an earlier run of the same date
            shutil.rmtree(scaling_out, ignore_errors=True)
        status, output, seconds = run(argv, os.path.join(logs, name + ".log"))
        results[name] = {"title": title, "argv": argv, "status": status, "seconds": seconds,
                         "output": output, "json": load_json(json_path) if writes_json else None}
        if status != 0:
            failed.append(name)
            print(f"== {name} FAILED (exit status {status})", flush=True)

    plots = []
    ex = results.get("example", {}).get("json")
    plot_note = None
    if ex:
        png = stem + "-example.png"
        plot_note = plot_example(ex, os.path.join(args.out, png))
        if plot_note is None:
            plots.append(png)

    md = [f"# ringtrain benchmark report, {args.date}" + (" (quick)" if args.quick else ""), ""]
    md.append(f"Written by `bench/report.py{' --quick' if args.quick else ''}` "
              f"(`make bench{'-quick' if args.quick else ''}`). Every figure below comes from "
              "this run; peers ran side by side, alternating, on the same CPUs.")
    md += ["", "## Machine", "",
           f"- CPU: {info['cpu_model']}, {info['cpus_online']} online, this run on CPUs "
           f"{','.join(map(str, info['cpus_usable']))}",
           f"- memory: {info['memory_gib']} GiB",
           f"- {info['os']}, Linux {info['kernel']}, {info['compiler']}",
           f"- ringtrain at {info['commit']}"]
    if ex and ex.get("floor"):
        md.append(f"- ringtrain's math: {ex['floor']['math']}")
    if ex and ex.get("torch_runtime"):
        md.append(f"- PyTorch: {ex['torch_runtime']}")
    md += ["", "## Issue 15's goals", ""] + goals(results, args.quick)
    if failed:
        md += ["", f"**Failed:** {', '.join(failed)} (their output is below)."]
    for p in plots:
        md += ["", f"![test accuracy over time]({p})"]
    if plot_note:
        md += ["", plot_note]
    md += scaling_section(scaling_out, stem)
    for name, r in results.items():
        md += ["", f"## {r['title']}", "",
               f"`{' '.join(os.path.relpath(a, ROOT) if a.startswith(ROOT) else a for a in r['argv'])}`"
               f" — {r['seconds']:.0f} s" + ("" if r["status"] == 0 else
                                              f", **failed (exit status {r['status']})**"),
               "", "```", r["output"].rstrip(), "```"]
    md_path = os.path.join(args.out, stem + ".md")
    with open(md_path, "w") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(args.out, stem + ".json"), "w") as f:
        json.dump({"date": args.date, "quick": args.quick, "machine": info,
                   "results": {k: {kk: vv for kk, vv in v.items() if kk != "output"}
                               for k, v in results.items()}}, f, indent=2)
    print(f"\nreport: {md_path}")
    if failed:
        print(f"failed: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
