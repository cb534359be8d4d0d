#!/usr/bin/env python3
"""PyTorch DDP running the `make run` example as ringtrain runs it (issue 15's baseline).

The example (examples/fashion-mnist.yaml): an MLP 784 -> hidden, ReLU -> 10 on Fashion-MNIST,
softmax cross-entropy, N workers of `batch` rows each, SGD with momentum (torch.optim.SGD: the
same heavy-ball rule ringtrain's servers apply) and ringtrain's learning-rate schedule: a linear
warm-up over `warmup` steps, then cosine to 0 at the last step (optim/schedule.h). Here N
processes all-reduce their gradients with DistributedDataParallel over gloo (TCP on 127.0.0.1),
one compute thread each, as ringtrain's workers are one process each.

Made the same as ringtrain's job:
  * each rank trains on the contiguous rows [r*rows/N, (r+1)*rows/N) (row sharding), shuffled
    each epoch, ceil(shard / batch) steps per epoch, the last batch partial;
  * weights start uniform in +-sqrt(6 / fan_in) (He, before a ReLU) and +-sqrt(6 / (fan_in +
    fan_out)) (Glorot, the logits), biases at 0, as model/init.h does; DDP broadcasts rank 0's;
  * pixels divided by 255; rank 0 evaluates the test set after every epoch while the other
    ranks wait at their next all-reduce, as ringtrain's worker 0 does in sync mode.

Prints (flushed as they happen, so that a caller can timestamp them):
  ddp_runtime ...                               (torch, threads, the BLAS loaded; ddp_baseline)
  ddp_epoch 1/10 test_accuracy=0.8123 train_seconds=2.345    (per epoch: the loop alone)
  ddp_done epochs=10 train_seconds=23.45 samples=600000

Usage: ddp_example.py [--workers 2] [--batch-size 64] [--epochs 10] [--hidden 256] [--lr 0.05]
       [--momentum 0.9] [--warmup 200] [--seed 1] [--pin]
       [--data-dir /usr/share/datasets/fashion-mnist]
"""

import argparse
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# Re-executes with /usr/bin/python3 when torch is missing from this interpreter.
from ddp_baseline import free_port, load, runtime_line, to_tensors  # noqa: E402

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402
import torch.nn as nn  # noqa: E402
from torch.nn.parallel import DistributedDataParallel  # noqa: E402


def learning_rate(base, warmup, total, step):
    """optim/schedule.h's cosine schedule with linear warm-up, min_lr 0."""
    if step < warmup:
        return base * (step + 1) / warmup
    t, span = step - warmup, total - warmup
    if span <= 0 or t >= span:
        return 0.0
    return base * (1 + math.cos(math.pi * t / span)) / 2


def make_model(hidden, seed):
    torch.manual_seed(seed)
    first, logits = nn.Linear(784, hidden), nn.Linear(hidden, 10)
    with torch.no_grad():
        first.weight.uniform_(-math.sqrt(6 / 784), math.sqrt(6 / 784))
        logits.weight.uniform_(-math.sqrt(6 / (hidden + 10)), math.sqrt(6 / (hidden + 10)))
        first.bias.zero_()
        logits.bias.zero_()
    return nn.Sequential(first, nn.ReLU(), logits)


def worker(rank, args, port, data):
    if args.pin:
        # As `ringtrain run` pins its workers: rank r on the r-th CPU this process may use.
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpus[rank % len(cpus)]})
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=args.workers)
    train_x, train_y, test_x, test_y = data
    rows = len(train_x)
    lo, hi = rank * rows // args.workers, (rank + 1) * rows // args.workers
    x, y = to_tensors(train_x[lo:hi], train_y[lo:hi])
    # ringtrain's StepsPerEpoch: ceil(ceil(rows / N) / batch), the same on every rank.
    largest_shard = -(-rows // args.workers)
    steps_per_epoch = -(-largest_shard // args.batch_size)
    total_steps = steps_per_epoch * args.epochs
    model = DistributedDataParallel(make_model(args.hidden, args.seed))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    shuffle = torch.Generator().manual_seed(args.seed * 1000 + rank)
    tx, ty = to_tensors(test_x, test_y) if rank == 0 else (None, None)
    if rank == 0:
        print(runtime_line(), flush=True)
    step, samples, loop_seconds = 0, 0, 0.0
    for epoch in range(args.epochs):
        dist.barrier()
        start = time.perf_counter()
        order = torch.randperm(len(x), generator=shuffle)
        for s in range(steps_per_epoch):
            idx = order[s * args.batch_size:(s + 1) * args.batch_size]
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(args.lr, args.warmup, total_steps, step)
            optimizer.zero_grad()
            # backward() all-reduces the gradients; a rank whose shard ran out (rows not a
            # multiple of N) pushes a zero gradient, as a ringtrain worker pushes 0 samples.
            if len(idx) > 0:
                loss_fn(model(x[idx]), y[idx]).backward()
            else:
                (model(x[:1]).sum() * 0).backward()
            optimizer.step()
            samples += len(idx)
            step += 1
        seconds = time.perf_counter() - start
        loop_seconds += seconds
        if rank == 0:
            with torch.no_grad():
                accuracy = (model.module(tx).argmax(dim=1) == ty).float().mean().item()
            print(f"ddp_epoch {epoch + 1}/{args.epochs} test_accuracy={accuracy:.4f} "
                  f"train_seconds={seconds:.3f}", flush=True)
    total = torch.tensor([samples], dtype=torch.int64)
    dist.all_reduce(total)
    if rank == 0:
        print(f"ddp_done epochs={args.epochs} train_seconds={loop_seconds:.3f} "
              f"samples={total.item()}", flush=True)
    dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64, help="per worker")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pin", action="store_true",
                        help="pin rank r to the r-th CPU this process may use")
    parser.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()
    if min(args.workers, args.epochs, args.batch_size, args.hidden) < 1 or args.warmup < 0:
        parser.error("--workers, --epochs, --batch-size and --hidden must be at least 1, "
                     "--warmup at least 0")
    data = load(args.data_dir)
    mp.spawn(worker, args=(args, free_port(), data), nprocs=args.workers, join=True)


if __name__ == "__main__":
    main()
