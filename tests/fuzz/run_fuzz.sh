#!/usr/bin/env bash
# tests/fuzz/run_fuzz.sh BINARY SECONDS CORPUS [OUT]
# Runs one libFuzzer target for SECONDS, starting from the inputs in CORPUS (seeds and kept
# regression inputs). New inputs go to OUT (default: a temporary directory, removed after), so
# a short run in `make test` leaves the repository alone; `make fuzz` passes the corpus itself as
# OUT to grow it. Prints the number of executions. Fails on a crash, a leak, an input that takes
# more than 10 s, or more than 2 GB of memory; the input that did it is copied to
# <build tree>/fuzz-artifacts/<target>/, to be kept as a regression input in CORPUS.
set -uo pipefail
bin="$1"
seconds="$2"
corpus="$3"
name="$(basename "$bin")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
out="${4:-$work/new}"
mkdir -p "$out" "$work/artifacts"
dirs=("$out")
[[ "$(realpath "$out")" != "$(realpath "$corpus")" ]] && dirs+=("$corpus")
"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "${dirs[@]}" >"$work/log" 2>&1
rc=$?
execs="$(grep -m1 -o 'stat::number_of_executed_units: [0-9]*' "$work/log" | awk '{print $2}')"
echo "$name: ${execs:-?} executions in ${seconds} s, corpus $(ls "${dirs[@]}" | wc -l) inputs"
if [[ $rc -ne 0 ]]; then
  tail -60 "$work/log"
  keep="$(cd "$(dirname "$bin")/../.." && pwd)/fuzz-artifacts/$name"  # the build tree's
  mkdir -p "$keep" && cp "$work"/artifacts/* "$keep"/ 2>/dev/null
  echo "$name: FAILED (exit $rc); the input is in $keep (add it to $corpus as a regression input)"
  exit 1
fi
