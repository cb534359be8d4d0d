#!/usr/bin/env python3
"""How ringtrain's cost grows with the model, the links, the workers and the servers (issue 15).

Two cores cannot show scaling on loopback, where bytes are free. So this benchmark (run as root)
puts every process in a network namespace of its own: one per parameter server, one per worker,
joined by veth pairs to a Linux bridge in one more namespace, with private addresses
(10.77.0.0/24) that exist nowhere else. Each veth is shaped with `tc` (tbf, on both ends: a
process's upload and its download) to 10 Gbit/s or 1 Gbit/s, or left unshaped, like one NIC per
host on a switch. Everything it makes is named rtscale-<its pid>-*, removed at the end (also on
failure or Ctrl-C), and leftovers of a run that was killed are removed at the start.

ringtrain's roles run as its pods run them: `ip netns exec <ns> ringtrain ps|worker`, told
their place by the pod contract's RINGTRAIN_* variables (contract/.../pod_contract.h), as
`ringtrain run` tells them, except that the servers bind tcp://<their address>:7070 in their
namespaces and the workers get those endpoints. Like `ringtrain run`, worker i is pinned to
the i-th usable CPU (in turn), servers are not, and the environment is the launcher's (PATH,
HOME, TMPDIR, LANG and the contract). The job: an MLP on Fashion-MNIST, batch 64 per worker,
momentum SGD (lr 0.05, 0.9), constant rate, no test set (no evaluations), authentication none
(plaintext, as on a trusted network: CURVE's encryption would add CPU per byte; not measured
here). Progress comes back as the processes' own events (RINGTRAIN_CONTROL_ENDPOINT, an ipc://
socket in this run's private directory, which needs no network); the throughput is measured
over a window after the first steps: each worker's samples between its first report at step
>= 2 and its last, over the time between them, summed over the workers.

Axes (sync mode, 2 workers, 2 servers, no compression unless the axis varies it):
  1. model size x link: hidden [256], [1024], [4096] and [4096, 2048] (11.6M parameters),
     unshaped, 10 Gbit/s, 1 Gbit/s;
  2. workers 1, 2, 4 (2 servers) and servers 1, 2, 4 (2 workers): hidden [4096], 1 Gbit/s;
  3. the gradient codecs (fp16, int8, onebit, topk 1%) at 1 Gbit/s, hidden [4096];
  4. sync against ssp (staleness 3) and async at 1 Gbit/s, hidden [4096]. A ringtrain worker
     computes a step, then pushes and pulls: inside a worker nothing overlaps; ssp and async
     only let one worker compute while another waits on the network;
  5. partitionSize 65536 (every other axis's), 16384 and 4096 at 1 Gbit/s, hidden [256] and
     [1024]: a sync push streams in chunks of whole partitions, each answered once every worker
     has pushed it, so the partition sets how long the last answer trails the last push.
PyTorch DDP (bench/ddp_baseline.py: gloo, one thread per rank, each rank in a worker's
namespace over the same shaped links, GLOO_SOCKET_IFNAME=eth0) on the same model, batch and
links, where it applies (axes 1 and 2's workers; DDP has no servers, codecs or modes). Its clock
starts after 2 warm-up steps and stops after about the same window. The BLAS torch used is
printed. The compute floor (bench/compute_floor: Eigen's best single-core GFLOP/s on a large
product, and ringtrain's own model at batch 64) in samples/s on min(workers, cores) cores: what
the arithmetic alone allows, whatever the links.

Before the runs, each shaping is checked with one TCP stream between two namespaces for 1 s.
Each configuration runs --trials times (2; --quick 1), every other pass over the list in
reverse order, and reports the median and the lowest and highest; one that fails or times out
(--config-timeout) is reported as not measured, and the others still run. A worker that pulled
bytes through a server's shared memory instead of the links (a same-host shortcut) makes its
configuration not measured.

Printed: the machine, the link check, the per-run lines, then markdown tables: each axis
(medians: samples/s over all workers; ms per worker step; MB pushed + pulled per worker step and
what those bytes take at the link's rate) and every configuration with its spread. With --out
DIR: scaling.json, scaling.md and the plots scaling-model.png, scaling-processes.png and
scaling-codecs-modes.png (matplotlib). The default study is 40 configurations in about 11
minutes; --quick 8 of them in about a minute.

Usage: sudo python3 bench/scaling_bench.py --ringtrain BIN [--floor BIN] [--out DIR] [--quick]
       [--window S] [--trials N] [--config-timeout S] [--budget S] [--json PATH] [--logs DIR]
"""

import argparse
import atexit
import dataclasses
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_timing import SYSTEM_PYTHON, system_import  # noqa: E402

zmq = system_import("zmq", "scaling_bench", "python3-zmq")

WHO = "scaling_bench"
PREFIX = "rtscale"  # every namespace this benchmark makes: rtscale-<pid>-<name>
SUBNET = "10.77.0"  # process addresses: servers .10+i, workers .20+i
PS_PORT = 7070
DDP_PORT = 29500
DATA = "/usr/share/datasets/fashion-mnist"
BATCH = 64
WARMUP_STEPS = 2  # a worker's first steps (allocation, connections) are not measured
MAX_SERVERS, MAX_WORKERS = 4, 4
LINKS = {"unshaped": None, "10 Gbit/s": 10e9, "1 Gbit/s": 1e9}
MODELS = [(256,), (1024,), (4096,), (4096, 2048)]
SCALE_MODEL = (4096,)  # axes 2-4: big enough that the 1 Gbit/s links dominate
CODECS = ["fp16", "int8", "onebit", "topk"]
MODES = ["ssp", "async"]
PARTITION = 65536  # parameterServers.partitionSize of every configuration but axis 5's
PARTITIONS = [16384, 4096]  # axis 5: smaller partitions, finer streamed rounds
PARTITION_MODELS = [(256,), (1024,)]


# ---- configurations ---------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Config:
    system: str  # "ringtrain" | "ddp"
    hidden: tuple
    link: str  # a key of LINKS
    workers: int = 2
    servers: int = 2
    mode: str = "sync"
    codec: str = "none"
    partition: int = PARTITION  # parameterServers.partitionSize (ringtrain)

    def label(self):
        parts = [self.system, "x".join(map(str, self.hidden)), self.link,
                 f"{self.workers}w"]
        if self.system == "ringtrain":
            parts += [f"{self.servers}ps", self.mode, self.codec]
            if self.partition != PARTITION:
                parts.append(f"partition {self.partition}")
        return " ".join(parts)


def parameters(hidden):
    """The MLP's parameter count: 784 inputs, 10 classes, biases included."""
    widths = [784, *hidden, 10]
    return sum(a * b + b for a, b in zip(widths, widths[1:]))


def plan(quick):
    """The configurations to run, in order (DDP right after its ringtrain peer)."""
    configs = []

    def add(c):
        if c not in configs:
            configs.append(c)

    def both(**kw):
        add(Config("ringtrain", **kw))
        add(Config("ddp", **kw))

    if quick:
        for link in ("unshaped", "1 Gbit/s"):
            for hidden in ((256,), SCALE_MODEL):
                add(Config("ringtrain", hidden, link))
            add(Config("ddp", SCALE_MODEL, link))
        add(Config("ringtrain", SCALE_MODEL, "1 Gbit/s", codec="fp16"))
        add(Config("ringtrain", SCALE_MODEL, "1 Gbit/s", mode="ssp"))
        return configs
    for link in LINKS:
        for hidden in MODELS:
            both(hidden=hidden, link=link)
    for workers in (1, 2, 4):
        both(hidden=SCALE_MODEL, link="1 Gbit/s", workers=workers)
    for servers in (1, 2, 4):
        add(Config("ringtrain", SCALE_MODEL, "1 Gbit/s", servers=servers))
    for codec in CODECS:
        add(Config("ringtrain", SCALE_MODEL, "1 Gbit/s", codec=codec))
    for mode in MODES:
        add(Config("ringtrain", SCALE_MODEL, "1 Gbit/s", mode=mode))
    for hidden in PARTITION_MODELS:
        for partition in PARTITIONS:
            add(Config("ringtrain", hidden, "1 Gbit/s", partition=partition))
    return configs


# ---- commands ---------------------------------------------------------------------------------

def sh(argv, timeout=20, check=True):
    """Runs a short command; its CompletedProcess (stdout and stderr as text)."""
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({r.returncode}): {r.stderr.strip()}")
    return r


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Processes:
    """The processes of one configuration: started in a new session each, stopped by pid."""

    def __init__(self, log_dir):
        self.log_dir = log_dir
        self.procs = []  # (name, Popen, log path)

    def start(self, name, argv, env):
        log = os.path.join(self.log_dir, name + ".log")
        with open(log, "w") as f:
            p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=f,
                                 stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append((name, p, log))
        return p

    def failed(self):
        """(name, exit status, log) of the first process that exited unsuccessfully, or None."""
        for name, p, log in self.procs:
            if p.poll() not in (None, 0):
                return name, p.returncode, log
        return None

    def stop(self, grace=3.0):
        """SIGTERM to each process still running, SIGKILL after `grace` seconds."""
        for _, p, _ in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for _, p, _ in self.procs:
            try:
                p.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)


def tail(path, lines=15):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


# ---- the network ------------------------------------------------------------------------------

class Network:
    """Namespaces ps0..ps3 and w0..w3, each with eth0 on a veth to the bridge br0 in namespace
    `br`; shape() sets every veth's rate (both ends) or removes the shaping."""

    def __init__(self):
        self.tag = f"{PREFIX}-{os.getpid()}"
        self.slots = [f"ps{i}" for i in range(MAX_SERVERS)] + [f"w{i}" for i in range(MAX_WORKERS)]
        self.made = []  # namespaces created, in order

    def ns(self, slot):
        return f"{self.tag}-{slot}"

    @staticmethod
    def address(slot):
        base = 10 if slot.startswith("ps") else 20
        return f"{SUBNET}.{base + int(slot.lstrip('psw'))}"

    def _add_ns(self, name):
        sh(["ip", "netns", "add", name])
        self.made.append(name)
        sh(["ip", "-n", name, "link", "set", "lo", "up"])

    def create(self):
        bridge = self.ns("br")
        self._add_ns(bridge)
        sh(["ip", "-n", bridge, "link", "add", "br0", "type", "bridge"])
        sh(["ip", "-n", bridge, "link", "set", "br0", "up"])
        for i, slot in enumerate(self.slots):
            ns = self.ns(slot)
            self._add_ns(ns)
            # Made inside the namespaces: no interface ever appears in the host's.
            sh(["ip", "-n", bridge, "link", "add", f"v{i}", "type", "veth", "peer", "name",
                "eth0", "netns", ns])
            sh(["ip", "-n", bridge, "link", "set", f"v{i}", "master", "br0", "up"])
            sh(["ip", "-n", ns, "addr", "add", f"{self.address(slot)}/24", "dev", "eth0"])
            sh(["ip", "-n", ns, "link", "set", "eth0", "up"])

    def shape(self, rate):
        """tbf at `rate` bit/s on both ends of every veth (None: no qdisc of ours)."""
        bridge = self.ns("br")
        for i, slot in enumerate(self.slots):
            for ns, dev in ((self.ns(slot), "eth0"), (bridge, f"v{i}")):
                if rate is None:
                    sh(["tc", "-n", ns, "qdisc", "del", "dev", dev, "root"], check=False)
                    continue
                # A burst of 1 ms at the rate (at least 64 KiB, one GSO segment), 10 ms queue.
                burst = max(int(rate / 8 / 1000), 65536)
                sh(["tc", "-n", ns, "qdisc", "replace", "dev", dev, "root", "tbf", "rate",
                    f"{int(rate)}bit", "burst", str(burst), "latency", "10ms"])

    def destroy(self):
        for name in reversed(self.made):
            kill_namespace_processes(name)
            sh(["ip", "netns", "del", name], check=False)
        self.made = []


def kill_namespace_processes(ns):
    """SIGKILL to the processes left in one of this benchmark's namespaces (by pid)."""
    r = sh(["ip", "netns", "pids", ns], check=False)
    for pid in r.stdout.split():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


def clean_stale():
    """Removes the namespaces of earlier runs of this benchmark whose process is gone."""
    r = sh(["ip", "netns", "list"], check=False)
    for line in r.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.fullmatch(rf"{PREFIX}-(\d+)-\w+", name)
        if not m or int(m.group(1)) == os.getpid():
            continue
        if alive(int(m.group(1))):
            print(f"{WHO}: note: {name} belongs to a running process {m.group(1)}; left alone")
            continue
        print(f"{WHO}: removing {name}, left by an earlier run that did not finish")
        kill_namespace_processes(name)
        sh(["ip", "netns", "del", name], check=False)


LINK_RECEIVER = """
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 5201)); s.listen(1); s.settimeout(10)
c, _ = s.accept(); c.settimeout(10); n = 0; t0 = None
while True:
    b = c.recv(1 << 20)
    if not b: break
    if t0 is None: t0 = time.monotonic()
    n += len(b)
print(n * 8 / (time.monotonic() - t0))
"""
LINK_SENDER = """
import socket, sys, time
c = socket.create_connection((sys.argv[1], 5201), timeout=10)
buf = b"x" * (1 << 20); end = time.monotonic() + float(sys.argv[2])
while time.monotonic() < end: c.sendall(buf)
c.close()
"""


def check_link(net, seconds=1.0):
    """One TCP stream w0 -> w1 for `seconds`: its goodput in bit/s (or None on failure)."""
    receiver = subprocess.Popen(["ip", "netns", "exec", net.ns("w1"), SYSTEM_PYTHON, "-c",
                                 LINK_RECEIVER, net.address("w1")],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.3)
        sh(["ip", "netns", "exec", net.ns("w0"), SYSTEM_PYTHON, "-c", LINK_SENDER,
            net.address("w1"), str(seconds)], timeout=seconds + 15)
        out, _ = receiver.communicate(timeout=15)
        return float(out.strip())
    except (RuntimeError, ValueError, subprocess.TimeoutExpired):
        return None
    finally:
        if receiver.poll() is None:
            receiver.kill()
            receiver.wait(timeout=5)


# ---- ringtrain's events -----------------------------------------------------------------------

# proto::Event's fields read here (proto/ringtrain.proto) and EventType's values.
EVENT_FIELDS = ("type", "role", "index", "step", "samples", "message", "bytes_pushed",
                "bytes_pulled", "train_seconds", "bytes_pulled_shared")
READY, PROGRESS, FINISHED, FAILED = 1, 2, 4, 5


def event_class():
    """proto::Event, generated from proto/ringtrain.proto by protoc (Debian's protobuf-compiler,
    which the build needs anyway) into a temporary directory, removed at exit."""
    system_import("google.protobuf", WHO, "python3-protobuf")
    out = tempfile.mkdtemp(prefix=f"{PREFIX}-proto-")
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    proto_dir = os.path.normpath(os.path.join(HERE, "..", "proto"))
    sh(["protoc", f"--proto_path={proto_dir}", f"--python_out={out}",
        os.path.join(proto_dir, "ringtrain.proto")])
    sys.path.insert(0, out)
    import ringtrain_pb2  # noqa: E402 (generated just above)
    return ringtrain_pb2.Event


EVENT = None  # event_class(), made on first use


def decode_event(buf):
    """The fields of EVENT_FIELDS of one serialized proto::Event (absent: proto3's defaults)."""
    global EVENT
    if EVENT is None:
        EVENT = event_class()
    event = EVENT()
    event.ParseFromString(bytes(buf))
    return {name: getattr(event, name) for name in EVENT_FIELDS}


class Control:
    """A ZeroMQ PULL socket on ipc://<dir>/<name>: where the job's processes send events."""

    def __init__(self, context, directory, name):
        self.endpoint = f"ipc://{directory}/{name}"
        self.socket = context.socket(zmq.PULL)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.bind(self.endpoint)

    def receive(self, timeout_ms):
        """[(arrival time, decoded event)] of what came within timeout_ms (at least one wait)."""
        events = []
        if self.socket.poll(timeout_ms):
            while True:
                try:
                    frame = self.socket.recv(zmq.NOBLOCK)
                except zmq.Again:
                    break
                events.append((time.monotonic(), decode_event(frame)))
        return events

    def close(self):
        self.socket.close(0)


# ---- one ringtrain configuration --------------------------------------------------------------

def write_spec(path, c):
    """The TrainingJob (JSON, which the spec reader takes as YAML does) of configuration c."""
    training = {"epochs": 1000, "batchSize": BATCH, "syncMode": c.mode,
                "optimizer": {"type": "momentum", "learningRate": 0.05, "momentum": 0.9},
                "compression": {"type": c.codec}}
    if c.mode == "ssp":
        training["staleness"] = 3
    if c.codec == "topk":
        training["compression"]["ratio"] = 0.01
    spec = {
        "apiVersion": "ringtrain.io/v1alpha1", "kind": "TrainingJob",
        "metadata": {"name": "scaling"},
        "spec": {
            "model": {"type": "mlp", "hiddenLayers": list(c.hidden)},
            "dataset": {"format": "idx", "sharding": "row", "train": {
                "images": f"file://{DATA}/train-images-idx3-ubyte.gz",
                "labels": f"file://{DATA}/train-labels-idx1-ubyte.gz"}},
            "training": training,
            "parameterServers": {"replicas": c.servers, "partitionSize": c.partition},
            "workers": {"replicas": c.workers},
            "security": {"authentication": "none"},
        }}
    with open(path, "w") as f:
        json.dump(spec, f, indent=1)


def launcher_env(extra):
    """What `ringtrain run` gives a child (launch/child_process.cc): a few basics, the contract."""
    env = {k: os.environ[k] for k in ("PATH", "HOME", "TMPDIR", "LANG") if k in os.environ}
    env.update(extra)
    return env


def contract(c, role, index, spec, control, ps_endpoints=None, bind=None):
    """The RINGTRAIN_* variables of process `index` of `role` (job::ToEnv of ContractFor)."""
    env = {"RINGTRAIN_JOB_NAME": "scaling", "RINGTRAIN_ROLE": role,
           "RINGTRAIN_INDEX": str(index), "RINGTRAIN_NUM_PS": str(c.servers),
           "RINGTRAIN_NUM_WORKERS": str(c.workers), "RINGTRAIN_SPEC_PATH": spec,
           "RINGTRAIN_CONTROL_ENDPOINT": control}
    if ps_endpoints:
        env["RINGTRAIN_PS_ENDPOINTS"] = ",".join(ps_endpoints)
    if bind:
        env["RINGTRAIN_BIND"] = bind
    return env


class Window:
    """A worker's measured window: its first report at step >= WARMUP_STEPS, and its last."""

    KEYS = ("t", "step", "samples", "bytes", "shared")

    def __init__(self):
        self.first = None
        self.last = None
        self.finished = False

    def add(self, t, e):
        point = {"t": t, "step": e["step"], "samples": e["samples"],
                 "bytes": e["bytes_pushed"] + e["bytes_pulled"],
                 "shared": e["bytes_pulled_shared"]}
        if self.first is None:
            if e["step"] >= WARMUP_STEPS:
                self.first = point
            return
        self.last = point

    def done(self, seconds):
        if self.finished:
            return True
        return (self.last is not None and self.last["t"] - self.first["t"] >= seconds
                and self.last["step"] - self.first["step"] >= 2)

    def measured(self):
        """{t, step, samples, bytes, shared} grown from first to last; None without two points."""
        if self.first is None or self.last is None or self.last["step"] <= self.first["step"]:
            return None
        return {k: self.last[k] - self.first[k] for k in self.KEYS}


def wait_ready(control, procs, servers, deadline):
    """Waits for every server's READY event; raises with the reason otherwise."""
    ready = set()
    while len(ready) < servers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"servers not ready: {sorted(set(range(servers)) - ready)}")
        for _, e in control.receive(200):
            if e["type"] == READY and e["role"] == "ps":
                ready.add(e["index"])
            if e["type"] == FAILED:
                raise RuntimeError(f"{e['role']}-{e['index']} failed: {e['message']}")
        bad = procs.failed()
        if bad:
            raise RuntimeError(f"{bad[0]} exited with {bad[1]}:\n{tail(bad[2])}")


def follow(control, procs, workers, window, deadline):
    """Each worker's Window, once every one of them is done (or raises on failure/timeout)."""
    windows = [Window() for _ in range(workers)]
    while not all(w.done(window) for w in windows):
        if time.monotonic() > deadline:
            raise RuntimeError("timed out before every worker was measured")
        for t, e in control.receive(200):
            if e["type"] == FAILED:
                raise RuntimeError(f"{e['role']}-{e['index']} failed: {e['message']}")
            if e["role"] != "worker" or e["index"] >= workers:
                continue
            if e["type"] in (PROGRESS, FINISHED):
                windows[e["index"]].add(t, e)
            if e["type"] == FINISHED:
                windows[e["index"]].finished = True
        bad = procs.failed()
        if bad:
            raise RuntimeError(f"{bad[0]} exited with {bad[1]}:\n{tail(bad[2])}")
    return windows


def summarize(windows):
    """samples/s over all workers, ms per worker step, MB pushed + pulled per worker step."""
    parts = [w.measured() for w in windows]
    if any(p is None for p in parts):
        raise RuntimeError("a worker made no progress within its window")
    n = len(parts)
    result = {"samples_per_second": sum(p["samples"] / p["t"] for p in parts),
              "ms_per_step": sum(p["t"] / p["step"] for p in parts) / n * 1000,
              "mb_per_step": sum(p["bytes"] / p["step"] for p in parts) / n / 1e6,
              "window_seconds": max(p["t"] for p in parts),
              "steps": min(p["step"] for p in parts)}
    shared = sum(p["shared"] for p in parts)
    if shared > 0:  # bytes that did not cross the shaped links: the figure is not this study's
        result["mb_pulled_through_shared_memory"] = shared / 1e6
    return result


def run_ringtrain(ctx, c, log_dir):
    spec = os.path.join(log_dir, "job.json")
    write_spec(spec, c)
    control = Control(ctx.zmq, ctx.work, f"control-{ctx.next_id()}")
    procs = Processes(log_dir)
    try:
        deadline = time.monotonic() + ctx.args.config_timeout
        endpoints = []
        for i in range(c.servers):
            slot = f"ps{i}"
            bind = f"tcp://{ctx.net.address(slot)}:{PS_PORT}"
            endpoints.append(bind)
            env = contract(c, "ps", i, spec, control.endpoint, bind=bind)
            procs.start(f"ps-{i}", ["ip", "netns", "exec", ctx.net.ns(slot), ctx.args.ringtrain,
                                    "ps"], launcher_env(env))
        wait_ready(control, procs, c.servers, deadline)
        for i in range(c.workers):
            env = contract(c, "worker", i, spec, control.endpoint, ps_endpoints=endpoints)
            cpu = str(ctx.cpus[i % len(ctx.cpus)])
            procs.start(f"worker-{i}", ["ip", "netns", "exec", ctx.net.ns(f"w{i}"), "taskset",
                                        "-c", cpu, ctx.args.ringtrain, "worker"],
                        launcher_env(env))
        windows = follow(control, procs, c.workers, ctx.args.window, deadline)
        return summarize(windows)
    finally:
        procs.stop()
        control.close()


# ---- one DDP configuration --------------------------------------------------------------------

DDP_LINE = re.compile(r"^ddp workers=\d+ .*samples=(\d+) seconds=([0-9.]+) "
                      r"samples_per_second=([0-9.]+)", re.M)


def run_ddp(ctx, c, log_dir):
    master = f"{ctx.net.address('w0')}:{DDP_PORT + ctx.next_id() % 1000}"
    procs = Processes(log_dir)
    try:
        deadline = time.monotonic() + ctx.args.config_timeout
        for r in range(c.workers):
            argv = ["ip", "netns", "exec", ctx.net.ns(f"w{r}"), "taskset", "-c",
                    str(ctx.cpus[r % len(ctx.cpus)]), SYSTEM_PYTHON,
                    os.path.join(HERE, "ddp_baseline.py"), "--workers", str(c.workers),
                    "--rank", str(r), "--master", master,
                    "--layers", ",".join(map(str, c.hidden)), "--batch-size", str(BATCH),
                    "--lr", "0.05", "--epochs", "1000", "--warmup-steps", str(WARMUP_STEPS),
                    "--seconds", str(ctx.args.window), "--skip-test"]
            env = dict(os.environ, GLOO_SOCKET_IFNAME="eth0", OMP_NUM_THREADS="1",
                       OPENBLAS_NUM_THREADS="1")
            procs.start(f"rank-{r}", argv, env)
        for name, p, log in procs.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                raise RuntimeError(f"timed out ({name} still running)")
            if p.returncode != 0:
                raise RuntimeError(f"{name} exited with {p.returncode}:\n{tail(log)}")
        with open(procs.procs[0][2], errors="replace") as f:
            out = f.read()
    finally:
        procs.stop()
    m = DDP_LINE.search(out)
    if not m:
        raise RuntimeError(f"no result line from rank 0:\n{out[-2000:]}")
    runtime = re.search(r"^ddp_runtime (.*)$", out, re.M)
    if runtime:
        ctx.torch_runtime = runtime.group(1)
    samples, seconds = int(m.group(1)), float(m.group(2))
    return {"samples_per_second": float(m.group(3)), "window_seconds": seconds,
            "ms_per_step": seconds / (samples / BATCH / c.workers) * 1000,
            "steps": samples // BATCH // c.workers}


# ---- the compute floor ------------------------------------------------------------------------

def compute_floor(binary, hidden):
    """compute_floor's figures for one step of one worker (batch 64) on one core."""
    argv = [binary, "--input", "784", "--classes", "10", "--batch", str(BATCH),
            "--steps-per-epoch", "1", "--workers", "1", "--test-rows", "0", "--cores", "1",
            "--seconds", "1", "--json"]
    for width in hidden:
        argv += ["--hidden", str(width)]
    return json.loads(sh(argv, timeout=60).stdout)


def floor_rate(floor, workers, cores, at_shapes=False):
    """The floor in samples/s: every worker's steps spread over min(workers, cores) cores."""
    key = "floor_epoch_seconds_at_job_shapes" if at_shapes else "floor_epoch_seconds"
    return BATCH * min(workers, cores) / floor[key]


# ---- the study --------------------------------------------------------------------------------

class Context:
    """What the runs share: arguments, network, CPUs, the private directory, a ZeroMQ context."""

    def __init__(self, args, net, work):
        self.args, self.net, self.work = args, net, work
        self.cpus = sorted(os.sched_getaffinity(0))
        self.zmq = zmq.Context()
        self.torch_runtime = "not run"
        self._id = 0

    def next_id(self):
        self._id += 1
        return self._id


def load_average():
    """The 1, 5 and 15 minute load averages, as /proc/loadavg says them."""
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unknown"


def machine():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
            model = m.group(1) if m else model
    except OSError:
        pass
    return {"cpu_model": model, "cpus_online": os.cpu_count(), "load_at_start": load_average(),
            "cpus_usable": sorted(os.sched_getaffinity(0)), "kernel": os.uname().release}


def run_one(ctx, c, log_dir):
    """One trial of configuration c: its figures and "status" ("ok" or why not)."""
    started = time.monotonic()
    try:
        r = (run_ringtrain if c.system == "ringtrain" else run_ddp)(ctx, c, log_dir)
        if r.get("mb_pulled_through_shared_memory"):
            raise RuntimeError(f"{r['mb_pulled_through_shared_memory']:.0f} MB were pulled "
                               "through the servers' shared memory, not the links")
        r["status"] = "ok"
        line = (f"{r['samples_per_second']:9.0f} samples/s  {r['ms_per_step']:8.1f} ms/step"
                f"  ({r['steps']} steps in {r['window_seconds']:.1f} s)")
    except RuntimeError as e:
        r = {"status": f"failed: {str(e).splitlines()[0]}"}
        line = f"FAILED: {e} (logs in {log_dir})"
    r["seconds"] = time.monotonic() - started
    return r, line


def combine(trials):
    """A configuration's trials: medians of the measured ones, the rate's lowest and highest,
    status "ok" when at least one was measured (else the first trial's reason)."""
    ok = [r for r in trials if r["status"] == "ok"]
    if not ok:
        return {"status": trials[0]["status"], "trials": trials}
    out = {"status": "ok", "trials": trials, "measured": len(ok)}
    for key in ("samples_per_second", "ms_per_step", "mb_per_step"):
        values = [r[key] for r in ok if key in r]
        if values:
            out[key] = statistics.median(values)
    rates = [r["samples_per_second"] for r in ok]
    out["low"], out["high"] = min(rates), max(rates)
    return out


def run_all(ctx, configs, out_logs):
    """Runs every configuration --trials times (the order reversed in every other trial);
    returns {Config: combine(its trials)}."""
    trials = {c: [] for c in configs}
    study_deadline = time.monotonic() + ctx.args.budget
    link, n, total = object(), 0, len(configs) * ctx.args.trials
    for trial in range(ctx.args.trials):
        for c in configs if trial % 2 == 0 else list(reversed(configs)):
            n += 1
            if time.monotonic() > study_deadline:
                trials[c].append({"status": "not run (the study's time budget was spent)"})
                continue
            if c.link != link:
                ctx.net.shape(LINKS[c.link])
                link = c.link
            log_dir = os.path.join(out_logs, f"{n:02d}-" + re.sub(r"[^\w.]+", "-", c.label()))
            os.makedirs(log_dir, exist_ok=True)
            r, line = run_one(ctx, c, log_dir)
            trials[c].append(r)
            print(f"  [{n}/{total}] {c.label():50s} {line}  [{r['seconds']:.0f} s]", flush=True)
    return {c: combine(rs) for c, rs in trials.items()}


def rate_of(results, c):
    r = results.get(c)
    return r["samples_per_second"] if r and r.get("status") == "ok" else None


def fmt(v, digits=0):
    return "–" if v is None else f"{v:,.{digits}f}"


def model_name(hidden):
    return "[" + ", ".join(map(str, hidden)) + "]"


def tables(results, floors, cores, quick):
    """The markdown tables, one per axis (lines)."""
    md = []
    present = {c.link for c in results}
    link_names = [name for name in LINKS if name in present]
    models = [h for h in MODELS if any(c.hidden == h for c in results)]
    md += ["### Model size × link (2 workers, 2 servers, sync, no compression)", "",
           "samples/s over both workers: ringtrain / DDP; the compute floor on "
           f"{min(2, cores)} cores at Eigen's peak (and at ringtrain's own shapes).", "",
           "| model | parameters | floor | " + " | ".join(link_names) + " |",
           "|---|---:|---:|" + "---:|" * len(link_names)]
    for h in models:
        cells = []
        for link in link_names:
            rt = rate_of(results, Config("ringtrain", h, link))
            ddp = rate_of(results, Config("ddp", h, link))
            cells.append(f"{fmt(rt)} / {fmt(ddp)}")
        f = floors.get(h)
        floor = (f"{fmt(floor_rate(f, 2, cores))} ({fmt(floor_rate(f, 2, cores, True))})"
                 if f else "–")
        md.append(f"| {model_name(h)} | {parameters(h):,} | {floor} | " + " | ".join(cells) + " |")
    md += ["", "–: not in this study's plan, or not measured (listed at the end).", "",
           "ringtrain's ms per worker step, MB pushed + pulled per worker step, and (on a shaped "
           "link) the ms those bytes take at the link's rate, push and pull one after the "
           "other as a sync step sends them (with 2 workers and 2 servers a server's link "
           "carries as much as a worker's):", "",
           "| model | " + " | ".join(link_names) + " |", "|---|" + "---:|" * len(link_names)]
    for h in models:
        cells = []
        for link in link_names:
            r = results.get(Config("ringtrain", h, link), {})
            if r.get("status") != "ok":
                cells.append("–")
                continue
            wire = (f" ({r['mb_per_step'] * 8e6 / LINKS[link] * 1000:.1f} ms on the wire)"
                    if LINKS[link] else "")
            cells.append(f"{r['ms_per_step']:.1f} ms, {r['mb_per_step']:.1f} MB{wire}")
        md.append(f"| {model_name(h)} | " + " | ".join(cells) + " |")
    if not quick:
        md += (processes_table(results, floors, cores) + codec_mode_table(results) +
               partition_table(results))
    else:
        md += codec_mode_table(results)
    return md


def processes_table(results, floors, cores):
    h, link = SCALE_MODEL, "1 Gbit/s"
    md = ["", f"### Workers and servers (hidden {model_name(h)}, {link}, sync)", "",
          "| workers | servers | ringtrain samples/s | ms/step | MB/step | DDP samples/s | "
          "floor |", "|---:|---:|---:|---:|---:|---:|---:|"]
    rows = [(w, 2) for w in (1, 2, 4)] + [(2, s) for s in (1, 4)]
    for w, s in rows:
        r = results.get(Config("ringtrain", h, link, workers=w, servers=s), {})
        ddp = rate_of(results, Config("ddp", h, link, workers=w)) if s == 2 else None
        ok = r.get("status") == "ok"
        f = floors.get(h)
        md.append(f"| {w} | {s} | {fmt(r.get('samples_per_second') if ok else None)} | "
                  f"{fmt(r.get('ms_per_step') if ok else None, 1)} | "
                  f"{fmt(r.get('mb_per_step') if ok else None, 1)} | "
                  f"{fmt(ddp) if s == 2 else 'n/a'} | "
                  f"{fmt(floor_rate(f, w, cores)) if f else '–'} |")
    md += ["", "DDP with one worker has nothing to all-reduce (no bytes on the link); ringtrain's "
               "one worker still pushes to and pulls from its servers over it."]
    return md


def codec_mode_table(results):
    h, link = SCALE_MODEL, "1 Gbit/s"
    base = rate_of(results, Config("ringtrain", h, link))
    md = ["", f"### Codecs and consistency modes (hidden {model_name(h)}, {link}, "
              "2 workers, 2 servers)", "",
          "| mode | codec | samples/s | ms/step | MB/step | vs sync, none |",
          "|---|---|---:|---:|---:|---:|"]
    rows = [("sync", "none")] + [("sync", k) for k in CODECS] + [(m, "none") for m in MODES]
    for mode, codec in rows:
        c = Config("ringtrain", h, link, mode=mode, codec=codec)
        if c not in results:
            continue
        r = results[c]
        ok = r.get("status") == "ok"
        rate = r.get("samples_per_second") if ok else None
        ratio = f"{rate / base:.2f}×" if rate and base else "–"
        name = "ssp (staleness 3)" if mode == "ssp" else mode
        md.append(f"| {name} | {codec + (' 1%' if codec == 'topk' else '')} | {fmt(rate)} | "
                  f"{fmt(r.get('ms_per_step') if ok else None, 1)} | "
                  f"{fmt(r.get('mb_per_step') if ok else None, 2)} | {ratio} |")
    return md


def partition_table(results):
    link = "1 Gbit/s"
    md = ["", f"### Partition size ({link}, 2 workers, 2 servers, sync, no compression)", "",
          "A sync push streams in chunks of whole partitions (pushChunkKiB, 64 by default, "
          "is below the default partition's 256 KiB), and a server answers a chunk once every "
          "worker has pushed it: what is left after the last chunk has arrived is its answer, "
          "to every worker, over the server's link. Smaller partitions make that tail "
          "shorter; each partition costs a little more on every message.", "",
          "| model | partitionSize | samples/s | ms/step | DDP samples/s | DDP ms/step |",
          "|---|---:|---:|---:|---:|---:|"]
    for h in PARTITION_MODELS:
        d = results.get(Config("ddp", h, link), {})
        d_ok = d.get("status") == "ok"
        for partition in [PARTITION] + PARTITIONS:
            r = results.get(Config("ringtrain", h, link, partition=partition), {})
            ok = r.get("status") == "ok"
            md.append(f"| {model_name(h)} | {partition} | "
                      f"{fmt(r.get('samples_per_second') if ok else None)} | "
                      f"{fmt(r.get('ms_per_step') if ok else None, 1)} | "
                      f"{fmt(d.get('samples_per_second') if d_ok else None)} | "
                      f"{fmt(d.get('ms_per_step') if d_ok else None, 1)} |")
    return md


# ---- plots ------------------------------------------------------------------------------------

def plots(results, floors, cores, out):
    """The PNGs in `out`; returns their file names, or a note why there are none."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return [], "no plots: matplotlib is not installed (Debian's python3-matplotlib)"
    names = [plot_models(plt, results, floors, cores, out)]
    if any(c.workers != 2 or c.servers != 2 for c in results):
        names.append(plot_processes(plt, results, floors, cores, out))
    names.append(plot_codecs_modes(plt, results, out))
    return [n for n in names if n], None


def plot_models(plt, results, floors, cores, out):
    fig, ax = plt.subplots(figsize=(7.5, 4.5), dpi=110)
    colours = {"unshaped": "tab:green", "10 Gbit/s": "tab:blue", "1 Gbit/s": "tab:red"}
    models = [h for h in MODELS if any(c.hidden == h for c in results)]
    xs = [parameters(h) for h in models]
    for link, colour in colours.items():
        for system, style in (("ringtrain", "-o"), ("ddp", "--s")):
            pts = [(x, results.get(Config(system, h, link))) for x, h in zip(xs, models)]
            pts = [(x, r) for x, r in pts if r and r["status"] == "ok"]
            if pts:
                ys = [r["samples_per_second"] for _, r in pts]
                spread = [[y - r["low"] for y, (_, r) in zip(ys, pts)],
                          [r["high"] - y for y, (_, r) in zip(ys, pts)]]
                ax.errorbar([x for x, _ in pts], ys, yerr=spread, fmt=style, color=colour,
                            capsize=3, label=f"{system}, {link}")
    fl = [(x, floor_rate(floors[h], 2, cores)) for x, h in zip(xs, models) if h in floors]
    if fl:
        ax.plot(*zip(*fl), ":", color="black", label=f"compute floor ({min(2, cores)} cores)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("parameters (MLP 784-hidden-10)")
    ax.set_ylabel("samples/s (2 workers)")
    ax.set_title("Throughput against model size, per link")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "scaling-model.png"))
    plt.close(fig)
    return "scaling-model.png"


def plot_processes(plt, results, floors, cores, out):
    h, link = SCALE_MODEL, "1 Gbit/s"
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 4), dpi=110, sharey=True)
    ws = [1, 2, 4]
    for system, style in (("ringtrain", "-o"), ("ddp", "--s")):
        pts = [(w, rate_of(results, Config(system, h, link, workers=w))) for w in ws]
        pts = [p for p in pts if p[1]]
        if pts:
            left.plot(*zip(*pts), style, label=f"{system}" + (" (2 servers)" if
                                                               system == "ringtrain" else ""))
    if h in floors:
        left.plot(ws, [floor_rate(floors[h], w, cores) for w in ws], ":", color="black",
                  label="compute floor")
    left.set_xlabel("workers")
    left.set_ylabel("samples/s")
    left.set_yscale("log")
    left.set_xticks(ws)
    left.legend(fontsize=8)
    pts = [(s, rate_of(results, Config("ringtrain", h, link, servers=s))) for s in (1, 2, 4)]
    pts = [p for p in pts if p[1]]
    if pts:
        right.plot(*zip(*pts), "-o", label="ringtrain (2 workers)")
    right.set_xlabel("parameter servers")
    right.set_xticks([1, 2, 4])
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.grid(alpha=0.3)
    fig.suptitle(f"Hidden {model_name(h)} at {link}, sync ({cores} cores shared by all)")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "scaling-processes.png"))
    plt.close(fig)
    return "scaling-processes.png"


def plot_codecs_modes(plt, results, out):
    h, link = SCALE_MODEL, "1 Gbit/s"
    rows = [("sync", "none")] + [("sync", k) for k in CODECS] + [(m, "none") for m in MODES]
    bars = [(f"{m}\n{k}", results.get(Config("ringtrain", h, link, mode=m, codec=k)))
            for m, k in rows]
    bars = [(name, r) for name, r in bars if r and r["status"] == "ok"]
    if not bars:
        return None
    fig, ax = plt.subplots(figsize=(7.5, 4), dpi=110)
    ys = [r["samples_per_second"] for _, r in bars]
    spread = [[y - r["low"] for y, (_, r) in zip(ys, bars)],
              [r["high"] - y for y, (_, r) in zip(ys, bars)]]
    ax.bar([name for name, _ in bars], ys, yerr=spread, capsize=4,
           color=["tab:grey"] + ["tab:blue"] * (len(bars) - 1))
    ax.set_ylabel("samples/s (2 workers; bars: lowest to highest trial)")
    ax.set_title(f"Codecs and consistency modes, hidden {model_name(h)}, {link}")
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "scaling-codecs-modes.png"))
    plt.close(fig)
    return "scaling-codecs-modes.png"


# ---- main -------------------------------------------------------------------------------------

def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ringtrain", required=True, help="the ringtrain binary")
    parser.add_argument("--floor", help="bench/compute_floor (without it: no compute floor)")
    parser.add_argument("--out", help="write scaling.json, scaling.md and the plots here")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--logs", help="the processes' logs, one directory per configuration "
                        "(default: DIR/logs with --out, else a temporary directory)")
    parser.add_argument("--quick", action="store_true", help="a handful of configurations")
    parser.add_argument("--window", type=float, help="seconds measured per configuration "
                        "(default 5, --quick 3)")
    parser.add_argument("--trials", type=int, help="runs of each configuration, every other "
                        "one in reverse order (default 2, --quick 1)")
    parser.add_argument("--config-timeout", type=float, default=60,
                        help="at most this long per configuration (default 60 s)")
    parser.add_argument("--budget", type=float, help="the study's time bound in seconds; "
                        "configurations left then are not run (default 840, --quick 120)")
    args = parser.parse_args()
    args.window = args.window or (3.0 if args.quick else 5.0)
    args.trials = args.trials or (1 if args.quick else 2)
    args.budget = args.budget or (120.0 if args.quick else 840.0)
    for path in (args.ringtrain, args.floor):
        if path is not None and not os.access(path, os.X_OK):
            parser.error(f"{path} is not an executable")
    args.ringtrain = os.path.abspath(args.ringtrain)
    return args


def links_check(net):
    """{link: measured bit/s of one TCP stream} for each shaping."""
    measured = {}
    for link, rate in LINKS.items():
        net.shape(rate)
        measured[link] = check_link(net)
    return measured


def report(args, info, measured, floors, results, ctx, configs, started):
    cores = len(info["cpus_usable"])
    md = [f"- machine: {info['cpu_model']}, {info['cpus_online']} CPUs online, "
          f"{cores} usable ({','.join(map(str, info['cpus_usable']))}); Linux {info['kernel']}; "
          f"load average {info['load_at_start']} at the start (other work on the machine "
          "takes CPU from the processes measured)",
          f"- caveat: all processes of a configuration share these {cores} cores; more workers "
          "or servers add processes, not CPUs, so beyond the links what grows is contention",
          f"- DDP's torch: {ctx.torch_runtime}",
          "- ringtrain's math: " + (next(iter(floors.values()))['math'] if floors else
                                     "unknown (no --floor: the compute floor was not measured)"),
          "- ringtrain's processes: each in a network namespace of its own, tcp:// endpoints, "
          "authentication none (plaintext), workers pinned to a CPU each as `ringtrain run` "
          "pins them",
          "", "Links (tbf on both ends of every veth), one TCP stream measured for 1 s:", "",
          "| link | measured |", "|---|---:|"]
    for link, bits in measured.items():
        md.append(f"| {link} | {fmt(bits / 1e9 if bits else None, 2)} Gbit/s |")
    md += [""] + tables(results, floors, cores, args.quick)
    md += every_configuration(results, args.trials)
    failed = []
    for c, r in results.items():
        bad = [t["status"] for t in r["trials"] if t["status"] != "ok"]
        if bad:
            failed.append(f"- {c.label()}: {len(bad)} of {len(r['trials'])} trials: {bad[0]}")
    if failed:
        md += ["", "Not measured:"] + failed
    md += ["", f"{len(configs)} configurations × {args.trials} trial"
               f"{'s' if args.trials > 1 else ''}, {args.window:g} s window each, "
               f"{time.monotonic() - started:.0f} s in all; load average "
               f"{load_average()} at the end."]
    return md


def every_configuration(results, trials):
    """The table of every configuration: median [lowest–highest] of its trials."""
    what = (f"median [lowest–highest] of {trials} trials" if trials > 1 else "one trial")
    md = ["", f"### Every configuration (samples/s: {what})", "",
          "| system | model | workers | servers | link | mode | codec | partitionSize | "
          "samples/s | ms/step | MB/step |", "|---|---|---:|---:|---|---|---|---:|---:|---:|---:|"]
    for c, r in results.items():
        ddp = c.system == "ddp"
        if r["status"] == "ok":
            rate = fmt(r["samples_per_second"]) + (
                f" [{fmt(r['low'])}–{fmt(r['high'])}]" if r["measured"] > 1 else "")
            cells = [rate, fmt(r.get("ms_per_step"), 1), fmt(r.get("mb_per_step"), 2)]
        else:
            cells = ["not measured", "–", "–"]
        md.append(f"| {c.system} | {model_name(c.hidden)} | {c.workers} | "
                  f"{'–' if ddp else c.servers} | {c.link} | {'all-reduce' if ddp else c.mode} | "
                  f"{'none' if ddp else c.codec} | {'–' if ddp else c.partition} | " +
                  " | ".join(cells) + " |")
    return md


def write_outputs(args, md, info, measured, floors, results, ctx):
    data = {"machine": info, "window_seconds": args.window, "quick": args.quick,
            "links_measured_bits_per_second": measured, "torch_runtime": ctx.torch_runtime,
            "floors": {model_name(h): f for h, f in floors.items()},
            "results": [dict(dataclasses.asdict(c), parameters=parameters(c.hidden), **r,
                             **({"partition": None} if c.system == "ddp" else {}))
                        for c, r in results.items()]}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(data, f, indent=1)
    if not args.out:
        return
    os.makedirs(args.out, exist_ok=True)
    names, note = plots(results, floors, len(info["cpus_usable"]), args.out)
    data["plots"] = names
    with open(os.path.join(args.out, "scaling.json"), "w") as f:
        json.dump(data, f, indent=1)
    with open(os.path.join(args.out, "scaling.md"), "w") as f:
        f.write("\n".join(md + [""] + [f"![{n}]({n})" for n in names] +
                          ([note] if note else [])) + "\n")
    print(f"\n{WHO}: wrote scaling.json, scaling.md and {', '.join(names) or 'no plots'} "
          f"to {args.out}" + (f" ({note})" if note else ""))


def study(args, net, work, started):
    info = machine()
    cores = len(info["cpus_usable"])
    configs = plan(args.quick)
    print(f"{WHO}: {len(configs)} configurations × {args.trials} trial(s), {args.window:g} s "
          f"measured each after {WARMUP_STEPS} warm-up steps. Bounded: no configuration starts "
          f"after {args.budget:.0f} s, each stops by {args.config_timeout:.0f} s, so the study "
          f"ends within about {args.budget + args.config_timeout + 30:.0f} s", flush=True)
    net.create()
    measured = links_check(net)
    print("links: " + ", ".join(f"{k} {fmt(v / 1e9 if v else None, 2)} Gbit/s"
                                for k, v in measured.items()), flush=True)
    floors = {}  # no --floor: none, and the tables say "–"
    for h in dict.fromkeys(c.hidden for c in configs) if args.floor else ():
        floors[h] = compute_floor(args.floor, h)
    ctx = Context(args, net, work)
    logs = args.logs or (os.path.join(args.out, "logs") if args.out else
                         os.path.join(work, "logs"))
    results = run_all(ctx, configs, logs)
    md = report(args, info, measured, floors, results, ctx, configs, started)
    print("\n" + "\n".join(md), flush=True)
    write_outputs(args, md, info, measured, floors, results, ctx)
    ctx.zmq.term()
    return all(r["status"] == "ok" for r in results.values())


def interrupted(signum, frame):
    """SIGTERM (a timeout, `kill`): tear down as on Ctrl-C."""
    raise KeyboardInterrupt()


def main():
    args = parse_args()
    if os.geteuid() != 0:
        sys.exit(f"{WHO}: needs root (it makes network namespaces and shapes veths with tc): "
                 "sudo python3 bench/scaling_bench.py ...")
    for tool in ("ip", "tc", "taskset"):
        if not shutil.which(tool, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin"):
            sys.exit(f"{WHO}: {tool} not found (Debian's iproute2, util-linux)")
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        if not os.path.isfile(os.path.join(DATA, name)):
            sys.exit(f"{WHO}: {DATA}/{name} is missing (Debian's dataset-fashion-mnist)")
    signal.signal(signal.SIGTERM, interrupted)
    started = time.monotonic()
    clean_stale()
    net = Network()
    work = tempfile.mkdtemp(prefix="ringtrain-scaling-")  # 0700: the control sockets
    ok = False
    try:
        ok = study(args, net, work, started)
    except KeyboardInterrupt:
        print(f"\n{WHO}: interrupted; tearing down", file=sys.stderr)
    finally:
        net.destroy()
        if args.out:
            subprocess.run(["rm", "-rf", work], timeout=30, check=False)
        else:
            print(f"{WHO}: logs in {work}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
