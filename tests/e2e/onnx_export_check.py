#!/usr/bin/env python3
"""Checks ringtrain's exported ONNX models with other people's code.

  onnx_export_check.py checker MODEL.onnx...
      Debian's python3-onnx (run it with /usr/bin/python3): onnx.checker.check_model with
      full_check (shape inference too) must accept each file.

  onnx_export_check.py runtime MANIFEST.json RESULTS.json
      onnxruntime (run it with the venv of tests/onnxruntime/venv.sh): for each model the
      manifest names, feeds the test set's raw pixels (the IDX bytes as float32, 0..255, as a
      user would) and compares with what ringtrain computed: the same number of correct
      predictions, logits within the manifest's tolerance, probabilities that are the softmax of
      the logits. Writes the figures to RESULTS.json and prints them.

  onnx_export_check.py sparse MANIFEST.json RESULTS.json
      onnxruntime on exported click-through models (export/sparse_onnx.h): for each model,
      feeds the test rows ringtrain read (keys int64 [N, S], values float32 [N, S] and for
      deepfm fields int64 [N, S], raw files the test wrote) and compares the logits with
      ringtrain's within the tolerance and the probabilities with their sigmoid; reports the
      AUC and log-loss onnxruntime's logits give. Manifest:
        {"tolerance": 1e-4, "models": [{"name": "fm", "onnx": "...", "rows": N, "width": S,
          "keys": "...", "values": "...", "fields": "..." (deepfm), "logits": "...",
          "labels": "... (float32 [N])"}]}

The manifest (written by tests/e2e/onnx_export_test.cc):
  {"test_images": ".../t10k-images-idx3-ubyte.gz", "test_labels": "...", "tolerance": 1e-4,
   "models": [{"name": "softmax", "onnx": "...", "logits": "... (float32 [N, C], row-major)",
               "correct": 8123, "count": 10000}]}
Exits 1 with the reasons when a check fails.
"""
import gzip
import json
import struct
import sys


def read_idx(path):
    """The array an IDX file holds (uint8; gzip or raw), shaped by its header."""
    import numpy as np

    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an IDX file of uint8")
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def check_runtime(manifest_path, results_path):
    import numpy as np
    import onnxruntime as ort

    with open(manifest_path) as f:
        manifest = json.load(f)
    images = read_idx(manifest["test_images"])
    labels = read_idx(manifest["test_labels"]).astype(np.int64)
    # What a user feeds: the raw pixels, one image per row, as float32.
    pixels = images.reshape(images.shape[0], -1).astype(np.float32)
    tolerance = manifest["tolerance"]
    failures, results = [], {}
    for m in manifest["models"]:
        name = m["name"]
        session = ort.InferenceSession(m["onnx"], providers=["CPUExecutionProvider"])
        inputs = [(i.name, i.shape, i.type) for i in session.get_inputs()]
        outputs = [o.name for o in session.get_outputs()]
        if [i[0] for i in inputs] != ["pixels"] or outputs != ["logits", "probabilities"]:
            failures.append(f"{name}: inputs {inputs}, outputs {outputs}")
            continue
        logits, probabilities = session.run(None, {"pixels": pixels})
        expected = np.fromfile(m["logits"], dtype=np.float32).reshape(logits.shape)
        # argmax takes the lowest index on ties, as ringtrain's evaluation does.
        correct = int((logits.argmax(axis=1) == labels).sum())
        count = int(labels.shape[0])
        max_diff = float(np.abs(logits - expected).max())
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        softmax = shifted / shifted.sum(axis=1, keepdims=True)
        max_prob_diff = float(np.abs(probabilities - softmax).max())
        agree = float((probabilities.argmax(axis=1) == logits.argmax(axis=1)).mean())
        results[name] = {
            "correct": correct,
            "count": count,
            "accuracy": correct / count,
            "ringtrain_correct": m["correct"],
            "ringtrain_accuracy": m["correct"] / m["count"],
            "max_logit_diff": max_diff,
            "max_probability_diff": max_prob_diff,
        }
        print(
            f"{name:8s} onnxruntime {ort.__version__}: accuracy {correct / count:.4f} "
            f"({correct}/{count}), ringtrain {m['correct'] / m['count']:.4f} "
            f"({m['correct']}/{m['count']}); max |logit difference| {max_diff:.3g}; "
            f"max |probability - softmax(logits)| {max_prob_diff:.3g}"
        )
        if count != m["count"] or correct != m["correct"]:
            failures.append(f"{name}: {correct}/{count} correct, ringtrain {m['correct']}/{m['count']}")
        if not max_diff <= tolerance:
            failures.append(f"{name}: logits differ by up to {max_diff:.3g} > {tolerance:g}")
        if not max_prob_diff <= 1e-5 or agree != 1.0:
            failures.append(f"{name}: probabilities are not the softmax of the logits")
    with open(results_path, "w") as f:
        json.dump(results, f, indent=2)
    return failures


def auc_of(scores, labels):
    """The area under the ROC curve, ties counted half (as model::Auc does)."""
    import numpy as np

    order = np.argsort(scores, kind="mergesort")
    s, y = scores[order], labels[order]
    ranks = np.empty(len(s))
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[i : j + 1] = (i + j) / 2 + 1
        i = j + 1
    pos = y == 1
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def check_sparse(manifest_path, results_path):
    import numpy as np
    import onnxruntime as ort

    with open(manifest_path) as f:
        manifest = json.load(f)
    tolerance = manifest["tolerance"]
    failures, results = [], {}
    for m in manifest["models"]:
        name, n, width = m["name"], m["rows"], m["width"]
        session = ort.InferenceSession(m["onnx"], providers=["CPUExecutionProvider"])
        names = [i.name for i in session.get_inputs()]
        expected_inputs = ["keys", "values"] + (["fields"] if "fields" in m else [])
        outputs = [o.name for o in session.get_outputs()]
        if names != expected_inputs or outputs != ["logits", "probabilities"]:
            failures.append(f"{name}: inputs {names}, outputs {outputs}")
            continue
        feeds = {
            "keys": np.fromfile(m["keys"], dtype=np.int64).reshape(n, width),
            "values": np.fromfile(m["values"], dtype=np.float32).reshape(n, width),
        }
        if "fields" in m:
            feeds["fields"] = np.fromfile(m["fields"], dtype=np.int64).reshape(n, width)
        logits, probabilities = session.run(None, feeds)
        expected = np.fromfile(m["logits"], dtype=np.float32)
        labels = np.fromfile(m["labels"], dtype=np.float32)
        max_diff = float(np.abs(logits - expected).max())
        max_prob_diff = float(np.abs(probabilities - 1 / (1 + np.exp(-logits))).max())
        loss = float(np.mean(labels * np.logaddexp(0, -logits) + (1 - labels) * np.logaddexp(0, logits)))
        auc = auc_of(logits.astype(np.float64), labels)
        results[name] = {"max_logit_diff": max_diff, "max_probability_diff": max_prob_diff,
                         "auc": auc, "log_loss": loss, "rows": n}
        print(f"{name:8s} onnxruntime {ort.__version__}: {n} rows of up to {width} features: AUC "
              f"{auc:.4f}, log-loss {loss:.4f}; max |logit difference| {max_diff:.3g}; "
              f"max |probability - sigmoid(logit)| {max_prob_diff:.3g}")
        if not max_diff <= tolerance:
            failures.append(f"{name}: logits differ by up to {max_diff:.3g} > {tolerance:g}")
        if not max_prob_diff <= 1e-5:
            failures.append(f"{name}: probabilities are not the sigmoid of the logits")
    with open(results_path, "w") as f:
        json.dump(results, f, indent=2)
    return failures


def check_models(paths):
    import onnx
    import onnx.checker

    failures = []
    for path in paths:
        try:
            onnx.checker.check_model(path, full_check=True)
            model = onnx.load(path)
            print(f"{path}: onnx {onnx.__version__} checker accepts it (IR {model.ir_version}, "
                  f"opset {model.opset_import[0].version}, producer {model.producer_name} "
                  f"{model.producer_version})")
        except Exception as e:  # the checker's ValidationError, or a file it cannot parse
            failures.append(f"{path}: {e}")
    return failures


def main(argv):
    if len(argv) >= 2 and argv[0] == "checker":
        failures = check_models(argv[1:])
    elif len(argv) == 3 and argv[0] == "runtime":
        failures = check_runtime(argv[1], argv[2])
    elif len(argv) == 3 and argv[0] == "sparse":
        failures = check_sparse(argv[1], argv[2])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for failure in failures:
        print("FAILED: " + failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
