#!/usr/bin/env python3
"""The PyTorch peer of ringtrain's factorization machine: the same FM, written the way a PyTorch
user would, trained on the same CSV files with the same feature schema, optimizer, learning
rate, batch, epochs and embedding size, read from the same TrainingJob YAML.

  * Features: every field of spec.dataset.fields encoded as ringtrain's reader does
    (runtime/include/ringtrain/data/feature_schema.h): a categorical token, each token of a
    multi-valued cell (value 1/n with combiner mean, 1 with sum), a numeric bucket (value 1) or
    a numeric value (value x); empty cells give nothing. Each (field, token) gets a row of one
    table (vocabulary over the train and test files; a row no training row touches keeps its
    initial value, as a key the servers never saw reads as its initial value in ringtrain).
    hashSpace is applied with the same hash (FNV-1a 64, MurmurHash3 fmix64, fast range).
  * Model: z = b + sum_e w_e x_e + 1/2 sum_f [(sum_e v_ef x_e)^2 - sum_e v_ef^2 x_e^2], one
    table row [w, v_1..v_k] per feature (as ringtrain's sparse table holds it); the sums over a
    row's entries are an nn.EmbeddingBag (mode sum, per_sample_weights = x, sparse gradients),
    the squares' sum an F.embedding (sparse gradients) added up per row. w and b start at 0,
    v uniform in [-0.01, 0.01] (ringtrain: the same distribution, other draws).
  * Training: mean binary cross-entropy per batch of batchSize x workers rows (what one sync
    round of ringtrain averages), rows shuffled every epoch, torch.optim.Adagrad (eps 1e-10,
    PyTorch's sparse path) or SGD, constant learning rate. One process.
  * Evaluation after every epoch on the whole test file: AUC (Mann-Whitney, ties count one
    half) and log-loss.

Prints (stdout, flushed line by line, so a caller can time each line's arrival):
  fm_runtime torch=... threads=... blas=... (what the math ran on; bench/ddp_baseline.py)
  fm_data train_rows=... test_rows=... features=... seconds=...
  fm_epoch epoch=1 test_auc=0.7712 test_logloss=0.5693 train_seconds=0.91
  ...
Usage: python3 bench/fm_torch.py JOB.yaml [--seed 1] [--threads N]
  (data URIs in the job must be local paths; relative ones are taken from the current directory)
"""

import argparse
import bisect
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ddp_baseline import runtime_line  # noqa: E402  (re-executes with /usr/bin/python3)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import yaml  # noqa: E402

FNV_OFFSET = 0xcbf29ce484222325
FNV_PRIME = 0x100000001b3
MASK = (1 << 64) - 1


def hash64(text):
    """common/hash.h's Hash64: FNV-1a 64 of the UTF-8 bytes, then MurmurHash3's fmix64."""
    h = FNV_OFFSET
    for byte in text.encode():
        h = ((h ^ byte) * FNV_PRIME) & MASK
    h ^= h >> 33
    h = (h * 0xff51afd7ed558ccd) & MASK
    h ^= h >> 33
    h = (h * 0xc4ceb9fe1a85ec53) & MASK
    h ^= h >> 33
    return h


def local_path(uri):
    if uri.startswith("file://"):
        return uri[len("file://"):]
    if "://" in uri:
        sys.exit(f"fm_torch: {uri}: only local files")
    return uri


class Encoder:
    """(field, token) -> table row, shared by the train and test files."""

    def __init__(self, fields):
        self.fields = fields
        self.vocab = {}

    def row(self, key):
        return self.vocab.setdefault(key, len(self.vocab))

    def read(self, path, label_column):
        labels, offsets, indices, values = [], [0], [], []
        with open(path) as f:
            header = [c.strip().strip('"') for c in f.readline().rstrip("\r\n").split(",")]
            col = {name: i for i, name in enumerate(header)}
            label_at = (int(label_column[1:]) - 1 if label_column.startswith("#")
                        else col[label_column])
            at = [col[field["column"]] for field in self.fields]
            for line in f:
                line = line.rstrip("\r\n")
                if not line:
                    continue
                cells = [c.strip().strip('"') for c in line.split(",")]
                labels.append(1.0 if float(cells[label_at]) == 1 else 0.0)
                for fi, field in enumerate(self.fields):
                    self.encode(fi, field, cells[at[fi]], indices, values)
                offsets.append(len(indices))
        return (np.array(labels, np.float32), np.array(offsets, np.int64),
                np.array(indices, np.int64), np.array(values, np.float32))

    def encode(self, fi, field, cell, indices, values):
        if cell == "":
            return
        if field.get("type", "categorical") == "numeric":
            x = float(cell)
            buckets = field.get("buckets")
            if buckets:
                indices.append(self.row((fi, "#%d" % bisect.bisect_right(buckets, x))))
                values.append(1.0)
            else:
                indices.append(self.row((fi, "")))
                values.append(x)
            return
        sep = field.get("separator")
        tokens = [t.strip() for t in cell.split(sep)] if sep else [cell]
        tokens = [t for t in tokens if t]
        share = 1.0
        if sep and len(tokens) > 1 and field.get("combiner", "mean") == "mean":
            share = 1.0 / len(tokens)
        space = field.get("hashSpace")
        for t in tokens:
            key = (fi, (hash64(t) * space) >> 64) if space else (fi, t)
            indices.append(self.row(key))
            values.append(share)


class FM(nn.Module):
    def __init__(self, rows, k, generator):
        super().__init__()
        self.k = k
        self.table = nn.EmbeddingBag(rows, 1 + k, mode="sum", sparse=True)
        with torch.no_grad():
            self.table.weight.zero_()
            self.table.weight[:, 1:].uniform_(-0.01, 0.01, generator=generator)
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, idx, offsets, x, entry_row, batch):
        sums = self.table(idx, offsets, per_sample_weights=x)  # [B, 1+k]: sum w x, sum v x
        v = F.embedding(idx, self.table.weight, sparse=True)[:, 1:]
        squares = torch.zeros(batch, self.k).index_add_(0, entry_row, v * v * (x * x)[:, None])
        return self.bias + sums[:, 0] + 0.5 * (sums[:, 1:].pow(2) - squares).sum(1)


def gather(data, rows):
    """The CSR slice of `rows`: entry indices, bag offsets, values, each entry's row."""
    labels, offsets, indices, values = data
    starts, ends = offsets[rows], offsets[rows + 1]
    lengths = ends - starts
    bag = np.zeros(len(rows), np.int64)
    np.cumsum(lengths[:-1], out=bag[1:])
    entry_row = np.repeat(np.arange(len(rows)), lengths)
    pick = starts[entry_row] + (np.arange(lengths.sum()) - bag[entry_row])
    return (torch.from_numpy(indices[pick]), torch.from_numpy(bag), torch.from_numpy(values[pick]),
            torch.from_numpy(entry_row), torch.from_numpy(labels[rows]))


def auc(labels, scores):
    order = np.argsort(scores, kind="mergesort")
    s = scores[order]
    ranks = np.empty(len(s), np.float64)
    i = 0
    while i < len(s):  # average ranks over ties
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1
        i = j + 1
    pos = labels == 1
    n_pos, n_neg = pos.sum(), (~pos).sum()
    return (ranks[pos].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def evaluate(model, data):
    labels = data[0]
    logits = []
    with torch.no_grad():
        for first in range(0, len(labels), 8192):
            rows = np.arange(first, min(first + 8192, len(labels)))
            idx, bag, x, entry_row, _ = gather(data, rows)
            logits.append(model(idx, bag, x, entry_row, len(rows)).numpy())
    z = np.concatenate(logits).astype(np.float64)
    loss = np.mean(np.logaddexp(0, z) - labels * z)
    return auc(labels, z), loss


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("job")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(runtime_line().replace("ddp_runtime", "fm_runtime"), flush=True)

    with open(args.job) as f:
        spec = yaml.safe_load(f)["spec"]
    model_spec, dataset, training = spec["model"], spec["dataset"], spec.get("training", {})
    if model_spec["type"] != "fm":
        sys.exit("fm_torch: model.type must be fm")
    if dataset.get("format") != "csv":
        sys.exit("fm_torch: dataset.format must be csv")
    optimizer_spec = training.get("optimizer", {})
    workers = spec.get("workers", {}).get("replicas", 1)
    batch = training.get("batchSize", 32) * workers
    epochs = training.get("epochs", 1)
    lr = optimizer_spec.get("learningRate", 0.01)
    k = model_spec.get("embeddingSize", 8)

    start = time.monotonic()
    encoder = Encoder(dataset["fields"])
    label_column = dataset.get("labelColumn", "label")
    train = encoder.read(local_path(dataset["train"]["uri"]), label_column)
    test = encoder.read(local_path(dataset["test"]["uri"]), label_column)
    print(f"fm_data train_rows={len(train[0])} test_rows={len(test[0])} "
          f"features={len(encoder.vocab)} seconds={time.monotonic() - start:.2f}", flush=True)

    generator = torch.Generator().manual_seed(args.seed)
    model = FM(len(encoder.vocab), k, generator)
    kind = optimizer_spec.get("type", "sgd")
    if kind == "adagrad":
        optimizer = torch.optim.Adagrad(model.parameters(), lr=lr,
                                        eps=optimizer_spec.get("epsilon", 1e-10))
    elif kind == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    else:
        sys.exit(f"fm_torch: optimizer {kind} has no sparse PyTorch peer here")

    n = len(train[0])
    order_rng = np.random.default_rng(args.seed)
    for epoch in range(1, epochs + 1):
        t0 = time.monotonic()
        order = order_rng.permutation(n)
        for first in range(0, n, batch):
            rows = order[first:first + batch]
            idx, bag, x, entry_row, y = gather(train, rows)
            optimizer.zero_grad(set_to_none=True)
            loss = F.binary_cross_entropy_with_logits(
                model(idx, bag, x, entry_row, len(rows)), y)
            loss.backward()
            optimizer.step()
        train_seconds = time.monotonic() - t0
        test_auc, test_loss = evaluate(model, test)
        if not math.isfinite(test_loss):
            sys.exit("fm_torch: the loss diverged")
        print(f"fm_epoch epoch={epoch} test_auc={test_auc:.4f} test_logloss={test_loss:.4f} "
              f"train_seconds={train_seconds:.2f}", flush=True)


if __name__ == "__main__":
    main()
