"""Shared by the Python benchmarks: a process's output read as it arrives, and the imports of
Debian's Python packages.

run_timed starts a process and timestamps each line matching a pattern (seconds since the
process was started, so start-up, data loading and evaluation count: the whole-process time a
user waits); time_to finds when a value first reached a target. system_import imports a module
that Debian installs into the system Python (python3-yaml, python3-torch), running the script
again with /usr/bin/python3 when another python3 came first on PATH.
"""

import importlib
import os
import subprocess
import sys
import time

SYSTEM_PYTHON = "/usr/bin/python3"


def system_import(module, who, package):
    """The module, or the script re-executed with the system Python, or an exit naming the
    Debian package to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        if os.path.isfile(SYSTEM_PYTHON) and \
                os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PYTHON):
            os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON] + sys.argv)
        sys.exit(f"{who}: install the Debian package {package}")


def run_timed(argv, pattern, log_path, who):
    """Runs argv; returns ([(seconds since start, float(match 1))], whole seconds, output).

    Exits (naming `who` and the log) when the process fails or no line matched.
    """
    start = time.monotonic()
    points, lines = [], []
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          bufsize=1) as p:
        for line in p.stdout:
            lines.append(line)
            m = pattern.search(line)
            if m:
                points.append((time.monotonic() - start, float(m.group(1))))
        code = p.wait()
    whole = time.monotonic() - start
    with open(log_path, "w") as f:
        f.writelines(lines)
    if code != 0:
        sys.exit(f"{who}: {argv[0]} failed (exit {code}); its output is in {log_path}")
    if not points:
        sys.exit(f"{who}: no line matching {pattern.pattern!r} in the output of {argv[0]}: "
                 f"{log_path}")
    return points, whole, "".join(lines)


def time_to(points, target):
    """Seconds at the first point whose value reached `target`; inf when none did."""
    for seconds, value in points:
        if value >= target:
            return seconds
    return float("inf")
