#!/usr/bin/env python3
"""Runs TrainingJob documents through the C++ parser (`ringtrain validate`) and compares its
verdict with the one the document declares.

Usage: crosscheck.py RINGTRAIN_BINARY [--defaulted DIR] FILE.yaml...

Each YAML document of each FILE is validated on its own. Its expected outcome is the
annotation test.ringtrain.io/cxx-error: absent, `ringtrain validate` must accept it; present,
it must reject it with an error containing that text. Every *.json file of the --defaulted
directory (objects after the API server's pruning and defaulting, written by schemacheck) must
be accepted — that is what the operator reads back from the API server — unless it carries the
annotation test.ringtrain.io/cxx-error-stored (a rule the CRD cannot express, such as the
memory floor): then it must be refused with that error, as the operator will (InvalidSpec).
Prints one line per document ("ok"/"FAIL") and "N passed, M failed" last; exit 1 on failure.
"""
import os
import re
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:  # pragma: no cover
    sys.stderr.write("crosscheck.py: needs PyYAML; install the Debian package python3-yaml\n")
    sys.exit(2)

EXPECT = "test.ringtrain.io/cxx-error"
# On a case the API server accepts: what the C++ parser says of the object as stored.
EXPECT_STORED = "test.ringtrain.io/cxx-error-stored"


def validate(binary, path):
    """(accepted, error text) of `ringtrain validate path`."""
    r = subprocess.run([binary, "validate", path], capture_output=True, text=True, timeout=60)
    return r.returncode == 0, (r.stderr + r.stdout).strip()


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    binary, rest = argv[0], argv[1:]
    defaulted = None
    if rest[:1] == ["--defaulted"]:
        defaulted, rest = rest[1], rest[2:]
    passed = failed = 0

    def report(ok, what, detail):
        nonlocal passed, failed
        if ok:
            passed += 1
            print(f"ok   {what}")
        else:
            failed += 1
            print(f"FAIL {what}: {detail}")

    with tempfile.TemporaryDirectory() as tmp:
        for path in rest:
            with open(path, encoding="utf-8") as f:
                text = f.read()
            # Split on document markers, keeping each document's text (and comments) as written.
            for i, doc_text in enumerate(re.split(r"(?m)^---[ \t]*$", text)):
                doc = yaml.safe_load(doc_text)
                if doc is None:
                    continue
                meta = doc.get("metadata") or {}
                expect = (meta.get("annotations") or {}).get(EXPECT)
                what = f"{os.path.basename(path)}[{i}] {meta.get('name', '')}"
                file = os.path.join(tmp, f"doc-{i}.yaml")
                with open(file, "w", encoding="utf-8") as f:
                    f.write(doc_text)
                accepted, err = validate(binary, file)
                if expect is None:
                    report(accepted, what, f"want accepted, got: {err}")
                elif accepted:
                    report(False, what, f"want error containing {expect!r}, got accepted")
                else:
                    report(expect in err, what, f"want error containing {expect!r}, got: {err}")
    if defaulted:
        for name in sorted(os.listdir(defaulted)):
            if name.endswith(".json"):
                path = os.path.join(defaulted, name)
                with open(path, encoding="utf-8") as f:
                    meta = (yaml.safe_load(f) or {}).get("metadata") or {}
                # A rule the CRD cannot express: the operator reads the object back and refuses
                # it (InvalidSpec) with the error its case declares.
                expect = (meta.get("annotations") or {}).get(EXPECT_STORED)
                accepted, err = validate(binary, path)
                if expect is None:
                    report(accepted, f"defaulted {name}", f"want accepted, got: {err}")
                else:
                    report(not accepted and expect in err, f"defaulted {name}",
                           f"want error containing {expect!r}, got: {err or 'accepted'}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
