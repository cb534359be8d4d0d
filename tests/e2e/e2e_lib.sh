# e2e_lib.sh — what the operator e2e scripts share: the checks harness, the pinned control
# plane started in a temp dir, and a cleanup that stops every process a script registered in
# e2e_pids, the control plane, and removes the dir (RINGTRAIN_KEEP_E2E_DIR=1 keeps it).
# Source it after setting CHECKS_NAME (and E2E_START_ARGS, e.g. --with-controller-manager, if
# the script needs more of the control plane); it sets root, cpdir, bin, kubectl, helm, work and
# exports the control plane's env (KUBECONFIG, RINGTRAIN_APISERVER_URL, ...).
# shellcheck shell=bash
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cpdir="$root/tests/controlplane"
source "$cpdir/checks.sh"
source "$cpdir/lib.sh"

if ! bin="$("$cpdir/build.sh" | tail -n 1)" || [[ ! -x "$bin/kubectl" ]]; then
  fail "control-plane binaries (tests/controlplane/build.sh)"
  finish
fi
kubectl="$bin/kubectl"
helm="$bin/helm"
work="$(mktemp -d "${TMPDIR:-/tmp}/ringtrain-e2e.XXXXXX")"
e2e_pids=()
e2e_stop_cmds=()  # further commands the cleanup runs first (e.g. stopping an S3 server)
e2e_cleanup() {
  for cmd in "${e2e_stop_cmds[@]}"; do eval "$cmd" >/dev/null 2>&1; done
  for pid in "${e2e_pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${e2e_pids[@]}"; do wait "$pid" 2>/dev/null; done
  "$cpdir/stop.sh" "$work/cp" >/dev/null 2>&1
  if [[ "${RINGTRAIN_KEEP_E2E_DIR:-0}" == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap e2e_cleanup EXIT
# shellcheck disable=SC2086  # E2E_START_ARGS: words
if ! out="$(RINGTRAIN_CONTROLPLANE_BIN="$bin" "$cpdir/start.sh" ${E2E_START_ARGS:-} "$work/cp" 2>&1)"; then
  fail "start.sh" "$out"
  finish
fi
source "$work/cp/env"
