#!/usr/bin/env bash
# venv.sh — a Python virtual environment holding onnxruntime from PyPI at the versions
# requirements.txt pins (every dependency too), for the tests that run exported models:
#   ${RINGTRAIN_CACHE_DIR:-$HOME/.cache/ringtrain}/onnxruntime/<key>/
# where <key> names the Python version and a hash of requirements.txt, so a changed pin gets a
# venv of its own. It runs on Debian's Python (python3-venv, in the Makefile's deps); Debian's
# python3-onnx stays outside it, in the system Python, where the tests run its checker.
#
# Idempotent: a venv that finished installing (it holds .complete) is reused at once; an
# interrupted one is rebuilt. Concurrent runs are serialised with flock. pip's own cache
# (~/.cache/pip) makes a rebuild cheap. Progress goes to stderr; the last line of stdout is
# the venv's python.
#
# Usage: venv.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${RINGTRAIN_VENV_PYTHON:-/usr/bin/python3}"
req="$here/requirements.txt"

pyver="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
key="py${pyver}-$(sha256sum "$req" | cut -c1-12)"
root="${RINGTRAIN_CACHE_DIR:-$HOME/.cache/ringtrain}/onnxruntime"
venv="$root/$key"

if [[ ! -f "$venv/.complete" ]]; then
  mkdir -p "$root"
  exec 9>"$root/.lock"
  flock 9
  if [[ ! -f "$venv/.complete" ]]; then
    echo "onnxruntime: creating $venv from $req" >&2
    start=$SECONDS
    rm -rf "$venv"
    "$python" -m venv "$venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
      --only-binary=:all: --requirement "$req" >&2
    # --no-deps installs what is listed; pip check proves the list is complete and consistent.
    "$venv/bin/python" -m pip check --disable-pip-version-check >&2
    "$venv/bin/python" -c 'import onnxruntime, numpy' >&2
    touch "$venv/.complete"
    echo "onnxruntime: ready in $((SECONDS - start)) s" >&2
  fi
fi
echo "$venv/bin/python"
