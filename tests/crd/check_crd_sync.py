#!/usr/bin/env python3
"""Static checks that the TrainingJob CRD, its Helm copy, the examples and the C++ parser agree.

Usage: check_crd_sync.py [REPO_ROOT]

Checks (each prints "ok ..." or "FAIL ...", then "N passed, M failed" last; exit 1 on failure):
  sync      charts/ringtrain/crds/ holds byte-identical copies of crds/ (same file names).
  examples  every field of every examples/*.yaml document exists in the CRD schema (the API
            server would prune it silently otherwise), and enum values are allowed ones.
  enums     every enum of the CRD spec equals the Name() strings of contract/src/spec.cc.
  fields    every CheckFields({...}) list of the C++ parser equals the properties of one object
            of the CRD schema (a field the C++ knows but the CRD lacks would be pruned).
  ranges    GetInt/ReadInt bounds of the C++ parser equal the CRD minimum/maximum (a field
            name used by several objects, such as warmupSteps, is matched to the object whose
            properties equal the CheckFields list of the same parser function).
  defaults  member defaults of contract/include/ringtrain/job/spec.h equal the CRD defaults,
            except the conditional ones listed in CONDITIONAL_DEFAULTS.
  columns   every additionalPrinterColumns jsonPath names a field of the schema.
  docs      every field below spec and status has a description (`kubectl explain`).

Needs PyYAML (Debian: python3-yaml).
"""
import os
import re
import sys

try:
    import yaml
except ImportError:  # pragma: no cover - environment problem, reported plainly
    sys.stderr.write("check_crd_sync.py: needs PyYAML; install the Debian package python3-yaml\n")
    sys.exit(2)

CRD_FILE = "ringtrain.io_trainingjobs.yaml"

# C++ enum type -> CRD path of the field that holds it.
ENUM_FIELDS = {
    "ModelType": "spec.model.type",
    "DataFormat": "spec.dataset.format",
    "Sharding": "spec.dataset.sharding",
    "OptimizerType": "spec.training.optimizer.type",
    "ScheduleType": "spec.training.schedule.type",
    "CompressionType": "spec.training.compression.type",
    "SyncMode": "spec.training.syncMode",
    "RestartPolicy": "spec.runPolicy.restartPolicy",
    "CleanPodPolicy": "spec.runPolicy.cleanPodPolicy",
}

# spec.h struct -> CRD paths of the objects it describes.
STRUCT_PATHS = {
    "ModelSpec": ["spec.model"],
    "DatasetSpec": ["spec.dataset"],
    "OptimizerSpec": ["spec.training.optimizer"],
    "LearningRateScalingSpec": ["spec.training.optimizer.scaleLearningRate"],
    "ScheduleSpec": ["spec.training.schedule"],
    "CompressionSpec": ["spec.training.compression"],
    "TrainingSpec": ["spec.training"],
    "ReplicaSpec": ["spec.workers", "spec.parameterServers"],
    "ParameterServerSpec": ["spec.parameterServers"],
    "RunPolicy": ["spec.runPolicy"],
    "TrainingJobSpec": ["spec"],
}

# Defaults that depend on another field: a schema default would be wrong for the other
# variant, so the CRD has none and the C++ parser applies them.
CONDITIONAL_DEFAULTS = {
    "spec.training.optimizer.momentum": "0.9 for momentum and nesterov only",
    "spec.training.optimizer.beta1": "0.9 for adam only",
    "spec.training.optimizer.beta2": "0.999 for adam only",
    "spec.training.optimizer.epsilon": "1e-8 for adam, 1e-10 for adagrad, absent otherwise",
    "spec.training.schedule.stepSize": "required when type is step, absent otherwise",
    "spec.training.schedule.gamma": "step only",
    "spec.training.schedule.minLearningRate": "cosine only",
    "spec.training.staleness": "3 for ssp only, absent otherwise",
    "spec.training.stalenessAwareLR": "false for async and ssp only, absent for sync",
    "spec.training.compression.ratio": "0.01 for topk only",
    "spec.training.compression.block": "256 for int8 and onebit only",
    "spec.training.compression.errorFeedback": "true for onebit and topk, false for fp16 and "
                                               "int8, absent for none",
    "spec.training.compression.warmupSteps": "0 for topk only",
    "spec.model.type": "required",
}


class Checker:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   {what}")
        else:
            self.failed += 1
            print(f"FAIL {what}: {detail}")


def schema_at(root, path):
    """The schema node at a dotted path below the openAPIV3Schema root, or None."""
    node = root
    for key in path.split("."):
        node = (node.get("properties") or {}).get(key)
        if node is None:
            return None
    return node


def objects(node, path="", out=None):
    """(path, schema) of every object schema with properties, depth first."""
    out = [] if out is None else out
    if node.get("properties"):
        out.append((path, node))
        for key, child in node["properties"].items():
            objects(child, f"{path}.{key}" if path else key, out)
    for sub in ("items", "additionalProperties"):
        if isinstance(node.get(sub), dict):
            objects(node[sub], f"{path}[]", out)
    return out


def walk_document(value, schema, path, problems):
    """Reports fields of `value` the schema lacks and enum values it does not allow."""
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{path}: value {value!r} not in enum {schema['enum']}")
    if isinstance(value, dict):
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, child in value.items():
            child_path = f"{path}.{key}"
            if props is not None and key in props:
                walk_document(child, props[key], child_path, problems)
            elif isinstance(extra, dict):
                walk_document(child, extra, child_path, problems)
            elif schema.get("x-kubernetes-preserve-unknown-fields") or (
                props is None and schema.get("type") == "object" and extra is None
            ):
                continue  # free-form object (metadata)
            else:
                problems.append(f"{child_path}: field not in the CRD schema")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            walk_document(item, schema["items"], f"{path}[{i}]", problems)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def cpp_enum_names(spec_cc):
    """{EnumType: {enumerator: "name"}} from the Name() switch statements of spec.cc."""
    names = {}
    for m in re.finditer(r"const char\* Name\((\w+) v\) \{(.*?)\n\}", spec_cc, re.S):
        cases = re.findall(r"case \w+::(\w+):\s*return \"([^\"]*)\";", m.group(2))
        names[m.group(1)] = dict(cases)
    return names


def cpp_constants(*sources):
    consts = {}
    for src in sources:
        for m in re.finditer(r"constexpr (?:int|int64_t|size_t) (k\w+) = (\d+);", src):
            consts[m.group(1)] = int(m.group(2))
    return consts


def cpp_bound(token, consts):
    """An integer bound token of the parser: 5, int64_t{5}, kName; None for kInt64Max."""
    token = token.strip()
    m = re.fullmatch(r"int64_t\{(.+)\}", token)
    if m:
        token = m.group(1).strip()
    if token == "kInt64Max":
        return None
    if re.fullmatch(r"-?\d+", token):
        return int(token)
    if token in consts:
        return consts[token]
    raise ValueError(f"cannot resolve bound {token!r}")


def check_sync(c, root):
    src_dir = os.path.join(root, "crds")
    copy_dir = os.path.join(root, "charts", "ringtrain", "crds")
    src = sorted(os.listdir(src_dir)) if os.path.isdir(src_dir) else []
    copy = sorted(os.listdir(copy_dir)) if os.path.isdir(copy_dir) else []
    c.check(src == copy, "sync: charts/ringtrain/crds/ has the files of crds/",
            f"crds/ has {src}, charts/ringtrain/crds/ has {copy}")
    for name in sorted(set(src) & set(copy)):
        same = read(os.path.join(src_dir, name)) == read(os.path.join(copy_dir, name))
        c.check(same, f"sync: charts/ringtrain/crds/{name} is identical to crds/{name}",
                f"they differ; run: cp crds/{name} charts/ringtrain/crds/{name}")


def check_examples(c, root, schema):
    ex_dir = os.path.join(root, "examples")
    files = sorted(f for f in os.listdir(ex_dir) if f.endswith((".yaml", ".yml")))
    c.check(bool(files), "examples: examples/*.yaml exist", "none found")
    for name in files:
        for i, doc in enumerate(yaml.safe_load_all(read(os.path.join(ex_dir, name)))):
            if doc is None:
                continue
            problems = []
            for key in ("apiVersion", "kind", "metadata", "spec"):
                if key not in doc:
                    problems.append(f"{key}: missing")
            for key in doc:
                if key not in schema["properties"]:
                    problems.append(f"{key}: field not in the CRD schema")
            if isinstance(doc.get("spec"), dict):
                walk_document(doc["spec"], schema["properties"]["spec"], "spec", problems)
            c.check(not problems, f"examples: examples/{name}[{i}] fits the CRD schema",
                    "; ".join(problems))


def check_enums(c, schema, names):
    for enum_type, path in ENUM_FIELDS.items():
        node = schema_at(schema, path)
        crd = list(node.get("enum", [])) if node else None
        cpp = list(names.get(enum_type, {}).values())
        c.check(crd is not None and sorted(crd) == sorted(cpp),
                f"enums: {path} == Name({enum_type}) values {cpp}",
                f"CRD has {crd}" if crd is not None else "no such field in the CRD")
    mapped = set(ENUM_FIELDS)
    unmapped = sorted(set(names) - mapped)
    c.check(not unmapped, "enums: every enum of spec.cc is mapped to a CRD field",
            f"add {unmapped} to ENUM_FIELDS in tests/crd/check_crd_sync.py")


def check_fields(c, schema, parser_sources):
    crd_objects = objects(schema)
    for src_name, src in parser_sources.items():
        for m in re.finditer(r"CheckFields\(\s*\{([^}]*)\}", src):
            cpp = set(re.findall(r"\"(\w+)\"", m.group(1)))
            best_path, best = max(
                ((p, set(n["properties"])) for p, n in crd_objects),
                key=lambda pn: len(pn[1] & cpp) - len(pn[1] ^ cpp) / 100,
            )
            where = best_path or "<root>"
            c.check(best == cpp, f"fields: {src_name} CheckFields({sorted(cpp)}) == {where}",
                    f"C++ only: {sorted(cpp - best)}; CRD only: {sorted(best - cpp)}")


def check_chunk_ranges(c, chunk, known, spec_objects, consts):
    """Checks the GetInt bounds of one parser function against the CRD; `known` is the
    function's CheckFields list (None if it has none)."""
    for m in re.finditer(r"GetInt\(\s*\"(\w+)\",\s*([^,]+),\s*([^,]+),", chunk):
        field, lo_tok, hi_tok = m.groups()
        if hi_tok.strip() == "max_replicas":
            continue  # checked per role in check_ranges
        lo, hi = cpp_bound(lo_tok, consts), cpp_bound(hi_tok, consts)
        hits = [(f"{p}.{field}", n) for p, n in spec_objects if field in n["properties"]]
        if len(hits) > 1 and known is not None:
            hits = [(p, n) for p, n in hits if set(n["properties"]) == known]
        c.check(len(hits) == 1, f"ranges: {field} is one CRD field",
                f"found {[h[0] for h in hits]}")
        for path, obj in hits:
            node = obj["properties"][field]
            got = (node.get("minimum"), node.get("maximum"))
            c.check(got == (lo, hi), f"ranges: {path} in [{lo}, {hi}]",
                    f"CRD has minimum {got[0]}, maximum {got[1]}")


def check_ranges(c, schema, parser_sources, consts):
    spec = schema["properties"]["spec"]
    spec_objects = objects(spec, "spec")
    for src_name, src in parser_sources.items():
        # A closing brace in column 0 ends a function (or a namespace): each chunk holds at
        # most one parser function, whose CheckFields list names the object it reads.
        for chunk in re.split(r"(?m)^\}.*$", src):
            known = re.search(r"CheckFields\(\s*\{([^}]*)\}", chunk)
            known = set(re.findall(r"\"(\w+)\"", known.group(1))) if known else None
            check_chunk_ranges(c, chunk, known, spec_objects, consts)
    m = re.search(r"GetInt\(\"replicas\",\s*([^,]+),\s*max_replicas", src_concat(parser_sources))
    lo = cpp_bound(m.group(1), consts) if m else None
    for role, const in (("parameterServers", "kMaxParameterServers"), ("workers", "kMaxWorkers")):
        node = schema_at(schema, f"spec.{role}.replicas") or {}
        want = (lo, consts.get(const))
        got = (node.get("minimum"), node.get("maximum"))
        c.check(got == want, f"ranges: spec.{role}.replicas in [{want[0]}, {want[1]}] ({const})",
                f"CRD has minimum {got[0]}, maximum {got[1]}")
    layers = schema_at(schema, "spec.model.hiddenLayers") or {}
    want = (1, consts.get("kMaxHiddenLayers"), 1, consts.get("kMaxLayerUnits"))
    items = layers.get("items") or {}
    got = (layers.get("minItems"), layers.get("maxItems"), items.get("minimum"), items.get("maximum"))
    c.check(got == want, "ranges: spec.model.hiddenLayers 1..kMaxHiddenLayers of 1..kMaxLayerUnits",
            f"want {want}, CRD has {got}")


def src_concat(sources):
    return "\n".join(sources.values())


def cpp_struct_defaults(spec_h, names):
    """[(struct, camelCaseField, value)] for members with an initializer in spec.h."""
    out = []
    struct = None
    block_start = ""  # first line of the comment block just above, "" if none
    for line in spec_h.splitlines():
        m = re.match(r"struct (\w+)", line)
        if m:
            struct = m.group(1)
            continue
        m = re.match(r"\s+[\w:<>, ]+? (\w+) = ([^;]+);\s*(?://\s*(\w+)\b(.*))?$", line)
        if struct and m:
            field = m.group(3)
            comment = m.group(4) or ""
            if field is None:  # the field name opens the comment block above
                fm = re.match(r"\s*//\s*(\w+):", block_start)
                field = fm.group(1) if fm else None
            if field:
                out.append((struct, field, m.group(2).strip(), "(required)" in comment))
        if not line.strip().startswith("//"):
            block_start = ""
        elif not block_start:
            block_start = line
    values = []
    for struct, field, text, required in out:
        em = re.fullmatch(r"(\w+)::(\w+)", text)
        if em and em.group(1) in names:
            value = names[em.group(1)].get(em.group(2))
        elif text in ("true", "false"):
            value = text == "true"
        elif re.fullmatch(r"-?\d+", text):
            value = int(text)
        elif re.fullmatch(r"-?[\d.]+(e-?\d+)?", text):
            value = float(text)
        else:
            continue  # constants such as kApiVersion: not part of the spec schema
        values.append((struct, field, value, required))
    return values


def check_defaults(c, schema, spec_h, names):
    for struct, field, value, required in cpp_struct_defaults(spec_h, names):
        for base in STRUCT_PATHS.get(struct, []):
            path = f"{base}.{field}"
            node = schema_at(schema, path)
            if node is None:
                c.check(False, f"defaults: {path} exists in the CRD", "no such field")
                continue
            if path in CONDITIONAL_DEFAULTS or required:
                reason = CONDITIONAL_DEFAULTS.get(path, "required")
                c.check("default" not in node, f"defaults: {path} has no schema default ({reason})",
                        f"CRD default {node.get('default')!r} would apply to every variant")
                continue
            got = node.get("default")
            if isinstance(value, bool) or isinstance(got, bool):
                same = got is value
            elif isinstance(value, (int, float)) and isinstance(got, (int, float)):
                same = float(got) == float(value)
            else:
                same = got == value
            c.check(same, f"defaults: {path} defaults to {value!r}", f"CRD default is {got!r}")


def check_columns(c, version, schema):
    for col in version.get("additionalPrinterColumns", []):
        path = col["jsonPath"].lstrip(".")
        ok = path == "metadata.creationTimestamp" or schema_at(schema, path) is not None
        c.check(ok, f"columns: {col['name']} ({col['jsonPath']}) names a schema field",
                "no such field in the schema")


def check_descriptions(c, schema):
    missing = []

    def walk(node, path):
        for key, child in (node.get("properties") or {}).items():
            if "description" not in child:
                missing.append(f"{path}.{key}")
            walk(child, f"{path}.{key}")
        for sub in ("items", "additionalProperties"):
            if isinstance(node.get(sub), dict):
                walk(node[sub], f"{path}[]")

    for top in ("spec", "status"):
        walk(schema["properties"][top], top)
    c.check(not missing, "docs: every spec and status field has a description",
            f"missing: {missing}")


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(os.path.dirname(__file__), "..", ".."))
    c = Checker()
    crd = yaml.safe_load(read(os.path.join(root, "crds", CRD_FILE)))
    version = crd["spec"]["versions"][0]
    schema = version["schema"]["openAPIV3Schema"]
    job = os.path.join(root, "contract", "src")
    spec_cc = read(os.path.join(job, "spec.cc"))
    spec_h = read(os.path.join(root, "contract", "include", "ringtrain", "job", "spec.h"))
    parser_sources = {n: read(os.path.join(job, n)) for n in ("parse.cc", "parse_training.cc",
                                                               "parse_volumes.cc")}
    names = cpp_enum_names(spec_cc)
    consts = cpp_constants(*parser_sources.values())

    check_sync(c, root)
    check_examples(c, root, schema)
    check_enums(c, schema, names)
    check_fields(c, schema, parser_sources)
    check_ranges(c, schema, parser_sources, consts)
    check_defaults(c, schema, spec_h, names)
    check_columns(c, version, schema)
    check_descriptions(c, schema)
    print(f"{c.passed} passed, {c.failed} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
