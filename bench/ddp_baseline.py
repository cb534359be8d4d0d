#!/usr/bin/env python3
"""PyTorch DistributedDataParallel baseline for ringtrain's Fashion-MNIST benchmark.

What it measures: training throughput (samples/s over all workers) of the same MLP
(784 -> hidden, ReLU -> 10, softmax cross-entropy, SGD with momentum 0.9, constant learning
rate) on the same Fashion-MNIST files, batch size per worker and number of workers as a
ringtrain run with 2 parameter servers and N workers in sync mode. It prints one line on
stdout, e.g.

  ddp workers=4 epochs=1 batch=32 samples=59904 seconds=12.34 samples_per_second=4854.6 test_accuracy=0.8512

preceded by one line saying what rank 0 ran on, since DDP's speed depends on it: torch's version,
its intra-op and inter-op threads, the BLAS torch was built for and the BLAS and LAPACK
libraries the process actually has loaded (from /proc/self/maps, after training, so after
many matrix products; symlinks and Debian's libblas.so.3 alternative resolved), e.g.

  ddp_runtime torch=1.13.1 threads=1 interop_threads=2 blas_build=generic blas=openblas blas_libs=/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3,...

blas= is openblas, mkl, reference (Debian's reference BLAS, /usr/lib/.../blas/libblas.so.3:
several times slower) or unknown. `--runtime-only` prints that line for one process and exits.

How it corresponds to ringtrain: ringtrain's workers push gradients to parameter servers,
which apply the update and send back the parameters; here N worker processes (gloo over
TCP on 127.0.0.1, CPU only) all-reduce their gradients and each applies the same update, with
no parameter servers. So the comparison is "same model, data, batch and workers; different
synchronisation architecture". Differences to keep in mind:
  * each rank runs floor(smallest shard / batch) steps per epoch, all full batches, so every
    rank runs the same number of steps (ringtrain runs ceil(largest shard / batch) steps with
    a partial last batch); samples= counts what was actually processed;
  * constant learning rate, no schedule or warm-up;
  * the clock covers the training steps only (barrier before start and before stop), not
    process start-up, data loading or the final test evaluation.

Usage: python3 bench/ddp_baseline.py [--workers 4] [--epochs 1] [--batch-size 32]
       [--hidden 256] [--lr 0.05] [--seed 1] [--data-dir /usr/share/datasets/fashion-mnist]
       [--runtime-only]

For bench/scaling_bench.py, which runs each rank in a network namespace of its own, over
shaped links (none of these change what the command above does):
  --layers 4096,2048     the hidden layers' widths (instead of --hidden's one layer);
  --rank R --master A:P  run only rank R of --workers ranks in this process, meeting the others
                         at tcp://A:P (rank 0 listens there; GLOO_SOCKET_IFNAME picks the
                         interface gloo's pairs use), instead of spawning every rank;
  --warmup-steps K       steps run before the clock starts (and not counted);
  --seconds S            stop once the clocked steps took about S seconds (rank 0 decides
                         and tells the others with a small all-reduce every ~0.25 s of
                         steps), or at the end of --epochs, whichever comes first;
  --skip-test            no test-set evaluation at the end (test_accuracy=nan).
Needs the Debian packages python3-torch, python3-numpy and dataset-fashion-mnist (run with
another python3, it re-executes itself with /usr/bin/python3, where those packages live), and
for a fair comparison libopenblas0-pthread (`make bench` installs it): without it Debian's
libblas.so.3 is the reference BLAS, and DDP runs several times slower than it can.
"""

import argparse
import gzip
import os
import socket
import struct
import sys
import time

try:
    import numpy as np
    import torch
    import torch.distributed as dist
    import torch.multiprocessing as mp
    import torch.nn as nn
    from torch.nn.parallel import DistributedDataParallel
except ImportError as e:
    # The Debian packages install into the system Python; another python3 first on PATH
    # (pyenv, a virtualenv) does not see them, so retry once with the system interpreter.
    SYSTEM_PYTHON = "/usr/bin/python3"
    if os.path.isfile(SYSTEM_PYTHON) and \
            os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PYTHON):
        os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON] + sys.argv)
    sys.exit(f"ddp_baseline: {e}; install the Debian packages python3-torch and python3-numpy")

DATA_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
              "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def read_idx(path, magic):
    """Reads a gzip IDX file: images (magic 2051) as uint8 [n, rows*cols], labels (2049) [n]."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    header = 16 if magic == 2051 else 8
    fields = struct.unpack(">" + "I" * (header // 4), data[:header])
    if fields[0] != magic:
        raise ValueError(f"{path}: magic {fields[0]}, expected {magic}")
    array = np.frombuffer(data, dtype=np.uint8, offset=header)
    if magic == 2051:
        return array.reshape(fields[1], fields[2] * fields[3])
    return array.reshape(fields[1])


def load(data_dir):
    paths = [os.path.join(data_dir, name) for name in DATA_FILES]
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        sys.exit("ddp_baseline: missing data files (Debian package dataset-fashion-mnist): "
                 + " ".join(missing))
    train_x, train_y = read_idx(paths[0], 2051), read_idx(paths[1], 2049)
    test_x, test_y = read_idx(paths[2], 2051), read_idx(paths[3], 2049)
    if len(train_x) != len(train_y) or len(test_x) != len(test_y):
        sys.exit("ddp_baseline: image and label files have different numbers of rows")
    return train_x, train_y, test_x, test_y


def to_tensors(x, y):
    # Pixels to [0, 1] as ringtrain does (divides by 255).
    return (torch.from_numpy(x.astype(np.float32) / 255.0),
            torch.from_numpy(y.astype(np.int64)))


def loaded_blas_libraries(maps_path="/proc/self/maps"):
    """Real paths of the BLAS/LAPACK libraries mapped into this process, in load order."""
    libs = []
    try:
        with open(maps_path) as f:
            for line in f:
                fields = line.split(maxsplit=5)
                if len(fields) < 6:
                    continue
                path = fields[5].strip()
                name = os.path.basename(path)
                if any(k in name for k in ("blas", "lapack", "mkl")) and path not in libs:
                    libs.append(path)
    except OSError:
        pass
    return libs


def blas_kind(libs):
    """openblas / mkl / reference (Debian's libblas3, in a blas/ directory) / unknown."""
    if any("openblas" in p for p in libs):
        return "openblas"
    if any("mkl" in os.path.basename(p) for p in libs):
        return "mkl"
    if any(os.path.basename(os.path.dirname(p)) == "blas" for p in libs):
        return "reference"
    return "unknown"


def runtime_line():
    """The `ddp_runtime ...` line: what this process's math runs on."""
    a = torch.randn(64, 64)
    (a @ a).sum().item()  # a matrix product, so that the BLAS torch calls is loaded
    build = "unknown"
    for line in torch.__config__.show().splitlines():
        if "BLAS_INFO=" in line:
            build = line.split("BLAS_INFO=", 1)[1].split(",", 1)[0].strip()
    libs = loaded_blas_libraries()
    return (f"ddp_runtime torch={torch.__version__} threads={torch.get_num_threads()} "
            f"interop_threads={torch.get_num_interop_threads()} blas_build={build} "
            f"blas={blas_kind(libs)} blas_libs={','.join(libs) or 'none'}")


def parse_widths(text):
    """'4096,2048' -> [4096, 2048]; every width at least 1."""
    widths = [int(w) for w in text.split(",") if w.strip()]
    if not widths or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"expected widths like 4096,2048 (got {text!r})")
    return widths


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_mlp(widths):
    """784 -> widths[0] -> ... -> widths[-1] -> 10, a ReLU after each hidden layer."""
    layers, fan_in = [], 784
    for width in widths:
        layers += [nn.Linear(fan_in, width), nn.ReLU()]
        fan_in = width
    return nn.Sequential(*layers, nn.Linear(fan_in, 10))


class StopClock:
    """--seconds: whether to stop, agreed by every rank. Rank 0 looks at its clock; every
    `interval` steps (about 0.25 s of them) all ranks all-reduce [stop, next interval], which
    only rank 0 fills in, so all ranks stop after the same step."""

    def __init__(self, rank, seconds):
        self.rank, self.seconds = rank, seconds
        self.interval, self.next_check = 1, 1

    def should_stop(self, steps_timed, elapsed):
        if self.seconds is None or steps_timed < self.next_check:
            return False
        flags = torch.zeros(2, dtype=torch.int64)
        if self.rank == 0:
            per_step = elapsed / max(steps_timed, 1)
            flags[0] = int(elapsed >= self.seconds)
            flags[1] = max(1, min(1000, int(0.25 / max(per_step, 1e-6))))
        dist.all_reduce(flags)  # the others add zeros: everyone gets rank 0's values
        self.interval = int(flags[1])
        self.next_check = steps_timed + self.interval
        return bool(flags[0])


def worker(rank, args, port, data):
    # The benchmark machine has 2 cores shared by all workers: one compute thread per process,
    # like one ringtrain worker process, instead of every process spawning a thread per core.
    torch.set_num_threads(1)
    init = f"tcp://{args.master}" if args.master else f"tcp://127.0.0.1:{port}"
    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=args.workers)
    train_x, train_y, test_x, test_y = data
    rows = len(train_x)
    # Contiguous row shard, as ringtrain's row sharding: rows [r*rows/N, (r+1)*rows/N).
    lo, hi = rank * rows // args.workers, (rank + 1) * rows // args.workers
    x, y = to_tensors(train_x[lo:hi], train_y[lo:hi])
    # Same number of full batches on every rank (the smallest shard has rows // N rows).
    steps_per_epoch = (rows // args.workers) // args.batch_size

    torch.manual_seed(args.seed)  # DDP also broadcasts rank 0's initial parameters
    model = DistributedDataParallel(make_mlp(args.layers or [args.hidden]))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    shuffle = torch.Generator().manual_seed(args.seed * 1000 + rank)
    stop = StopClock(rank, args.seconds)

    samples, steps_done, steps_timed, start = 0, 0, 0, None
    if args.warmup_steps == 0:
        dist.barrier()
        start = time.perf_counter()
    for _ in range(args.epochs):
        order = torch.randperm(len(x), generator=shuffle)
        for s in range(steps_per_epoch):
            idx = order[s * args.batch_size:(s + 1) * args.batch_size]
            optimizer.zero_grad()
            loss_fn(model(x[idx]), y[idx]).backward()  # backward() all-reduces the gradients
            optimizer.step()
            steps_done += 1
            if start is None:
                if steps_done == args.warmup_steps:  # warm-up over: the clock starts now
                    dist.barrier()
                    start = time.perf_counter()
                continue
            samples += len(idx)
            steps_timed += 1
            if stop.should_stop(steps_timed, time.perf_counter() - start):
                break
        else:
            continue
        break  # --seconds reached
    dist.barrier()
    if start is None:
        sys.exit("ddp_baseline: --warmup-steps is not below the steps of --epochs")
    seconds = time.perf_counter() - start

    total = torch.tensor([samples], dtype=torch.int64)
    dist.all_reduce(total)
    if rank == 0:
        accuracy = float("nan")
        if not args.skip_test:
            tx, ty = to_tensors(test_x, test_y)
            with torch.no_grad():
                accuracy = (model.module(tx).argmax(dim=1) == ty).float().mean().item()
        total = total.item()
        print(runtime_line(), flush=True)
        print(f"ddp workers={args.workers} epochs={args.epochs} batch={args.batch_size} "
              f"samples={total} seconds={seconds:.2f} "
              f"samples_per_second={total / seconds:.1f} test_accuracy={accuracy:.4f}",
              flush=True)
    dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=32, help="per worker")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--lr", type=float, default=0.05, help="constant learning rate")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--runtime-only", action="store_true",
                        help="print the ddp_runtime line (torch, threads, BLAS) and exit")
    # For bench/scaling_bench.py (see the top of this file); the defaults change nothing.
    parser.add_argument("--layers", type=parse_widths, default=None,
                        help="hidden layer widths, comma-separated (instead of --hidden)")
    parser.add_argument("--rank", type=int, default=None,
                        help="run only this rank (with --master) instead of spawning all")
    parser.add_argument("--master", default=None, help="HOST:PORT where rank 0 listens")
    parser.add_argument("--warmup-steps", type=int, default=0, help="untimed steps first")
    parser.add_argument("--seconds", type=float, default=None,
                        help="stop once the timed steps took about this long")
    parser.add_argument("--skip-test", action="store_true",
                        help="no test-set evaluation at the end")
    args = parser.parse_args()
    if args.runtime_only:
        torch.set_num_threads(1)  # as each worker does
        print(runtime_line(), flush=True)
        return
    if min(args.workers, args.epochs, args.batch_size, args.hidden) < 1:
        parser.error("--workers, --epochs, --batch-size and --hidden must be at least 1")

    data = load(args.data_dir)
    if len(data[0]) // args.workers < args.batch_size:
        parser.error("a worker's shard is smaller than one batch")
    if (args.rank is None) != (args.master is None):
        parser.error("--rank and --master go together")
    if args.rank is not None:
        if not 0 <= args.rank < args.workers:
            parser.error("--rank must be in [0, --workers)")
        worker(args.rank, args, None, data)
        return
    # Raises (non-zero exit, traceback on stderr) and stops the other ranks if any rank fails.
    mp.spawn(worker, args=(args, free_port(), data), nprocs=args.workers, join=True)


if __name__ == "__main__":
    main()
