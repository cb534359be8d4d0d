#!/usr/bin/env bash
# tests/sanitizers/run_tsan.sh TREE JOBS TEST... — runs the TSan tree's test binaries, JOBS at a
# time, longest first as listed, each with its output in TREE/tsan-logs/<name>.log; prints one
# line per binary ("== TSan: <test>: ok|FAILED (N s)") and the log of each that failed. Exits
# non-zero when any failed. (The binaries are gtest executables, not ctest tests: the TSan tree
# builds only these, and each runs whole in one process.)
set -uo pipefail
tree="$1"
jobs="$2"
shift 2
here="$(cd "$(dirname "$0")" && pwd)"
logs="$tree/tsan-logs"
mkdir -p "$logs"
export TSAN_OPTIONS="suppressions=$here/tsan.supp halt_on_error=1"
run_one() {
  local tree="$1" logs="$2" t="$3"
  local log="$logs/$(basename "$t").log" start=$SECONDS
  if "$tree/$t" --gtest_brief=1 >"$log" 2>&1; then
    echo "== TSan: $t: ok ($((SECONDS - start)) s)"
  else
    echo "== TSan: $t: FAILED ($((SECONDS - start)) s); its output:"
    cat "$log"
    return 1
  fi
}
export -f run_one
printf '%s\n' "$@" | xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ "$tree" "$logs" {}
