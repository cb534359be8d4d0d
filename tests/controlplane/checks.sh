# checks.sh — the tiny test harness of the shell tests (smoke_test.sh, tests/e2e/*.sh):
# ok/fail/check/check_out/check_fails print "ok"/"FAIL" per check; finish prints
# "N passed, M failed" and exits 0 only if nothing failed. Source it; it defines functions only
# (and t0, passed, failed).
# shellcheck shell=bash
t0=$SECONDS
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   - $1"; }
fail() {
  failed=$((failed + 1))
  echo "FAIL - $1"
  [[ -z "${2:-}" ]] || sed 's/^/       | /' <<<"$2"
}
finish() {
  echo "${CHECKS_NAME:-test} took $((SECONDS - t0)) s"
  echo "$passed passed, $failed failed"
  ((failed == 0)) && exit 0
  exit 1
}
# check NAME CMD...: passes if CMD succeeds; shows its output if not.
check() {
  local name="$1" out
  shift
  if out="$("$@" 2>&1)"; then ok "$name"; else fail "$name" "$out"; fi
}
# check_out NAME PATTERN CMD...: CMD must succeed and print a line matching
# the extended regex PATTERN.
check_out() {
  local name="$1" pat="$2" out
  shift 2
  if out="$("$@" 2>&1)" && grep -qE -- "$pat" <<<"$out"; then
    ok "$name"
  else
    fail "$name (wanted /$pat/)" "$out"
  fi
}
# check_fails NAME PATTERN CMD...: CMD must fail and print a line matching
# the extended regex PATTERN (e.g. that names the offending field).
check_fails() {
  local name="$1" pat="$2" out
  shift 2
  if out="$("$@" 2>&1)"; then
    fail "$name (the command succeeded)" "$out"
  elif grep -qE -- "$pat" <<<"$out"; then
    ok "$name"
  else
    fail "$name (wanted /$pat/)" "$out"
  fi
}

