#!/usr/bin/env python3
"""Writes the seed inputs of the fuzz targets (tests/fuzz/corpus/<target>/seed-*).

Run once by hand when a target's input format changes; the seeds are kept in the repository.
Protobuf messages are encoded here by hand (varints and length-delimited fields), so nothing
beyond Python is needed.
"""
import gzip
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))


def varint(v):
    out = b""
    v &= (1 << 64) - 1
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(num, value):
    if isinstance(value, int):
        return varint(num << 3) + varint(value)
    if isinstance(value, str):
        value = value.encode()
    return varint((num << 3) | 2) + varint(len(value)) + value


def fixed64(num, value):
    return varint((num << 3) | 1) + struct.pack("<Q", value)


def double(num, value):
    return varint((num << 3) | 1) + struct.pack("<d", value)


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


SEP = b"\xff\xfe\xfd"


def partition(pid, n, payload_bytes):
    return field(1, pid) + field(2, n) + field(3, payload_bytes)


def header(kind, codec=0, parts=(), block=0, clock=0):
    h = field(1, 1) + field(2, kind) + field(3, "fashion-mnist") + field(4, 1) + field(5, 7)
    h += field(6, clock) + field(7, 64) + field(8, codec)
    for p in parts:
        h += field(9, p)
    h += fixed64(12, 0x1234567890ABCDEF)
    if block:
        h += field(14, block)
    return h


# wire_fuzz: header, then payload frames.
floats = struct.pack("<4f", 0.5, -1.0, 2.0, 0.0)
write("wire_fuzz", "push-none", header(1, 0, [partition(0, 4, 16)]) + SEP + floats)
write("wire_fuzz", "push-fp16", header(1, 1, [partition(1, 4, 8)]) + SEP + bytes(8))
write("wire_fuzz", "push-int8",
      header(1, 2, [partition(0, 4, 8)], block=4) + SEP + struct.pack("<f", 0.1) + bytes([1, 2, 3, 4]))
write("wire_fuzz", "push-onebit",
      header(1, 3, [partition(0, 8, 5)], block=8) + SEP + struct.pack("<f", 0.1) + bytes([0xA5]))
write("wire_fuzz", "push-topk",
      header(1, 4, [partition(0, 8, 8)]) + SEP + struct.pack("<If", 3, 1.5))
write("wire_fuzz", "pull", header(3, 0, [partition(0, 4, 0), partition(1, 4, 0)], clock=3))
write("wire_fuzz", "stats", field(1, 1) + field(2, 9) + field(5, 77))


def sparse(table, num_keys, dim, version=0):
    return field(1, table) + field(2, num_keys) + field(3, dim) + field(4, version)


keys = struct.pack("<2Q", 5, 0x0100000000000007)
write("wire_fuzz", "push-sparse",
      header(1, 0, [partition(0, 4, 16)]) + field(27, sparse(0, 2, 1)) + SEP + floats + SEP + keys
      + SEP + struct.pack("<2f", 0.25, -0.5))
write("wire_fuzz", "pull-sparse",
      header(3, 0, [partition(0, 4, 0)]) + field(27, sparse(0, 2, 3)) + SEP + keys)
# Sparse gradients encoded (SparseSlice.value_codec 5, value_codec_block 6): 2 keys of dim 2.
write("wire_fuzz", "push-sparse-fp16",
      header(1, 0, [partition(0, 4, 16)]) + field(27, sparse(0, 2, 2) + field(5, 1)) + SEP
      + floats + SEP + keys + SEP + bytes([0, 0x3C, 0, 0xBC, 0, 0x40, 0, 0]))
write("wire_fuzz", "push-sparse-int8",
      header(1, 0, [partition(0, 4, 16)]) + field(27, sparse(0, 2, 2) + field(5, 2) + field(6, 2))
      + SEP + floats + SEP + keys + SEP + struct.pack("<2f", 0.1, 0.2) + bytes([1, 255, 3, 4]))

# codec_fuzz: [type][block x3][n x3][payload]
def codec_input(t, block, n, payload):
    return bytes([t]) + block.to_bytes(3, "big") + n.to_bytes(3, "big") + payload


write("codec_fuzz", "none", codec_input(0, 0, 4, floats))
write("codec_fuzz", "fp16", codec_input(1, 0, 4, bytes([0, 0x3C, 0, 0xBC, 0, 0x40, 0, 0])))
write("codec_fuzz", "int8", codec_input(2, 2, 4, struct.pack("<2f", 0.1, 0.2) + bytes([1, 255, 3, 4])))
write("codec_fuzz", "onebit", codec_input(3, 8, 8, struct.pack("<f", 0.3) + bytes([0x5A])))
write("codec_fuzz", "topk", codec_input(4, 0, 8, struct.pack("<IfIf", 1, 0.5, 6, -2.0)))

# spec_yaml_fuzz and spec_json_fuzz: the examples, and a job with every section.
for name in ("fashion-mnist.yaml", "fashion-mnist-softmax.yaml", "fashion-mnist-ssp-topk.yaml"):
    with open(os.path.join(SRC, "examples", name), "rb") as f:
        write("spec_yaml_fuzz", name, f.read())
write("spec_yaml_fuzz", "full.yaml", b"""apiVersion: ringtrain.io/v1alpha1
kind: TrainingJob
metadata: {name: full, namespace: ml, labels: {team: a}}
spec:
  image: ringtrain/runtime:0.1.0
  model: {type: mlp, hiddenLayers: [64, 32]}
  dataset:
    train: {images: /data/a.gz, labels: /data/b.gz}
    test: {images: /data/c.gz, labels: /data/d.gz}
    shuffle: false
  training:
    epochs: 2
    batchSize: 16
    syncMode: ssp
    staleness: 2
    optimizer: {type: adam, learningRate: 0.001, scaleLearningRate: {referenceBatchSize: 32}}
    schedule: {type: cosine, warmupSteps: 10, minLearningRate: 0.0001}
    compression: {type: int8, block: 128, errorFeedback: true}
  parameterServers: {replicas: 2, replication: 1, partitionSize: 4096,
                     resources: {limits: {memory: 1Gi}},
                     volumeMounts: [{name: ck, mountPath: /ck}]}
  workers: {replicas: 3, resources: {requests: {cpu: 500m}},
            volumeMounts: [{name: data, mountPath: /data, readOnly: true}]}
  volumes:
    - {name: data, persistentVolumeClaim: {claimName: mnist, readOnly: true}}
    - {name: ck, nfs: {server: nfs.local, path: /exports/ck}}
  checkpoint: {path: /ck/runs, everySteps: 100, keep: 2}
  runPolicy: {restartPolicy: ExitCode, backoffLimit: 2, activeDeadlineSeconds: 600}
anchors: &a [1, 2]
more: *a
""")
write("spec_json_fuzz", "object.json", b"""{"apiVersion": "ringtrain.io/v1alpha1", "kind": "TrainingJob",
 "metadata": {"name": "mnist", "namespace": "default", "uid": "u-1", "generation": 2,
              "resourceVersion": "17"},
 "spec": {"model": {"type": "mlp", "hiddenLayers": [128]},
          "dataset": {"train": {"images": "/d/a", "labels": "/d/b"}},
          "workers": {"replicas": 2}, "parameterServers": {"replicas": 2}},
 "status": {"conditions": [{"type": "Running", "status": "True", "reason": "Running",
                            "message": "m", "lastTransitionTime": "2026-11-25T01:02:04Z"}],
            "replicaStatuses": {"workers": {"active": 2, "ready": 2, "restarts": 1}},
            "progress": {"step": 120, "epoch": 1, "totalSteps": 900},
            "startTime": "2026-11-25T01:02:04Z", "observedGeneration": 2}}""")


# idx_fuzz: [images length x2][images][labels]
def idx_images(n, rows, cols):
    return struct.pack(">IIII", 0x803, n, rows, cols) + bytes((i * 37) % 256 for i in range(n * rows * cols))


def idx_labels(labels):
    return struct.pack(">II", 0x801, len(labels)) + bytes(labels)


def idx_input(images, labels):
    return len(images).to_bytes(2, "big") + images + labels


write("idx_fuzz", "raw", idx_input(idx_images(3, 2, 3), idx_labels([9, 0, 4])))
write("idx_fuzz", "gzip", idx_input(gzip.compress(idx_images(2, 4, 4), mtime=0),
                                    gzip.compress(idx_labels([1, 2]), mtime=0)))
write("idx_fuzz", "mixed", idx_input(idx_images(1, 1, 3), gzip.compress(idx_labels([7]), mtime=0)))

# kubeconfig_fuzz
write("kubeconfig_fuzz", "token", b"""apiVersion: v1
kind: Config
current-context: test
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}
users:
- name: u
  user: {token: abc}
contexts:
- name: test
  context: {cluster: c, user: u, namespace: ml}
""")
write("kubeconfig_fuzz", "data", b"""apiVersion: v1
kind: Config
current-context: x
clusters:
- name: c
  cluster: {server: "https://k:6443", certificate-authority-data: "LS0tLS1CRUdJTg=="}
users:
- name: u
  user: {client-certificate-data: "QUJD", client-key-data: "REVG"}
contexts:
- {name: x, context: {cluster: c, user: u}}
""")

# watch_event_fuzz
write("watch_event_fuzz", "added",
      b'{"type":"ADDED","object":{"kind":"TrainingJob","metadata":{"name":"a","resourceVersion":"5"}}}')
write("watch_event_fuzz", "bookmark",
      b'{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"12"}}}')
write("watch_event_fuzz", "error",
      b'{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old"}}')


# control_event_fuzz: proto Event
def event(t, role, index, **kw):
    e = field(1, t) + field(2, role) + field(3, index)
    if "endpoint" in kw:
        e += field(4, kw["endpoint"])
    if "step" in kw:
        e += field(5, kw["step"]) + field(6, kw["total"]) + field(7, kw["epoch"])
        e += double(8, 0.5) + field(10, kw["step"] * 64) + double(11, 0.05)
    if "accuracy" in kw:
        e += field(7, kw["epoch"]) + double(9, kw["accuracy"]) + double(16, 0.4)
    return e


write("control_event_fuzz", "ready", event(1, "ps", 1, endpoint="tcp://127.0.0.1:7070"))
write("control_event_fuzz", "progress", event(2, "worker", 0, step=100, total=4690, epoch=1))
write("control_event_fuzz", "eval", event(3, "worker", 0, epoch=2, accuracy=0.85))
write("control_event_fuzz", "failed", field(1, 5) + field(2, "worker") + field(3, 1) + field(12, "boom"))


# keys_fuzz: a job's public keys file (Z85 keys of 40 characters; these are examples, not keys
# of anything)
K1 = b"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
K2 = b"Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
K3 = b"JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"
write("keys_fuzz", "job",
      b"# ringtrain job public keys (CURVE, Z85): <identity> <key>\n"
      b"supervisor " + K1 + b"\nps-0 " + K2 + b"\nworker-0 " + K3 + b"\n")
write("keys_fuzz", "crlf", b"ps-12\t" + K2 + b"  \r\n\r\n# end\r\n")
write("keys_fuzz", "secret", K1)


# text_data_fuzz: [selector][file]; selector bit 0 the LibSVM index base, bit 1 a 64-feature
# limit, bit 2 the CSV label column "#1"; the file gzip or plain.
write("text_data_fuzz", "libsvm", b"\x00" + b"1 1:0.5 3:2\n-1 2:1 # c\n")
write("text_data_fuzz", "csv", b"\x04" + b"label,a,b\n1,2,3\n0,\"4\",5e-1\n")
write("text_data_fuzz", "criteo",
      b"\x02" + b"\t".join([b"1", b"1", b""] + [str(i).encode() for i in range(3, 13)] +
                           [b"68fd1e64", b"80e26c9b", b""] + [str(i).encode() for i in range(23)])
      + b"\n")
write("text_data_fuzz", "gzip", b"\x01" + gzip.compress(b"1 1:1\n0 2:1\n", mtime=0))
write("text_data_fuzz", "sparse-csv",
      b"\x00" + b"label,user,age,genres,year\n1,196,49,Comedy|Drama,1996\n0,7,,|,\n")
