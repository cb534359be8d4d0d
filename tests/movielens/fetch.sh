#!/usr/bin/env bash
# fetch.sh — MovieLens-100k as RecBole's PyPI wheel ships it (recbole==1.2.1,
# recbole/dataset_example/ml-100k/ml-100k.{inter,user,item}), for the click-through tests and
# `make bench`. Only those three files are unpacked, checked against the SHA-256 sums below, and
# kept in
#   ${RINGTRAIN_CACHE_DIR:-$HOME/.cache/ringtrain}/movielens/ml-100k/
# `pip download --no-deps` fetches the wheel (2 MB) from PyPI; nothing of RecBole is installed.
#
# Idempotent: a directory that finished (it holds .complete) is reused at once. Concurrent runs
# are serialised with flock. Progress goes to stderr; the last line of stdout is the directory.
#
# Usage: fetch.sh
set -euo pipefail
python="${RINGTRAIN_VENV_PYTHON:-/usr/bin/python3}"
root="${RINGTRAIN_CACHE_DIR:-$HOME/.cache/ringtrain}/movielens"
dir="$root/ml-100k"
declare -A sha256=(
  [ml-100k.inter]=4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff
  [ml-100k.user]=4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972
  [ml-100k.item]=51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532
)

if [[ ! -f "$dir/.complete" ]]; then
  mkdir -p "$root"
  exec 9>"$root/.lock"
  flock 9
  if [[ ! -f "$dir/.complete" ]]; then
    echo "movielens: fetching recbole==1.2.1 from PyPI for ml-100k" >&2
    work="$(mktemp -d "$root/fetch.XXXXXX")"
    trap 'rm -rf "$work"' EXIT
    "$python" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
      --dest "$work" recbole==1.2.1 >&2
    wheel="$(ls "$work"/recbole-1.2.1-*.whl)"
    "$python" - "$wheel" "$work/out" <<'PY'
import sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for name in ("ml-100k.inter", "ml-100k.user", "ml-100k.item"):
        z.extract("recbole/dataset_example/ml-100k/" + name, out)
PY
    for name in "${!sha256[@]}"; do
      echo "${sha256[$name]}  $work/out/recbole/dataset_example/ml-100k/$name" | sha256sum --check --quiet >&2
    done
    rm -rf "$dir"
    mv "$work/out/recbole/dataset_example/ml-100k" "$dir"
    touch "$dir/.complete"
    echo "movielens: $dir ready" >&2
  fi
fi
echo "$dir"
