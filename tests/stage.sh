#!/usr/bin/env bash
# tests/stage.sh NAME COMMAND... — runs one stage of `make test`, timed: prints
# "== NAME: N s (ok|FAILED)" after it and appends "NAME<TAB>N<TAB>status" to $STAGE_LOG
# (default build/stages.tsv), which `make test` prints as a table at the end. Exits with
# COMMAND's status.
set -uo pipefail
name="$1"
shift
log="${STAGE_LOG:-build/stages.tsv}"
mkdir -p "$(dirname "$log")"
echo "== $name: started $(date -u +%H:%M:%S)"
start=$(date +%s)
"$@"
rc=$?
seconds=$(($(date +%s) - start))
status=ok
[[ $rc -eq 0 ]] || status=FAILED
echo "== $name: $seconds s ($status)"
printf '%s\t%s\t%s\n' "$name" "$seconds" "$status" >>"$log"
exit $rc
