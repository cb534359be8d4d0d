#!/usr/bin/env bash
# Static checks of the TrainingJob CRD; no cluster, no build needed:
#   - charts/ringtrain/crds/ is an identical copy of crds/;
#   - every field of examples/*.yaml exists in the CRD schema (the API server would silently
#     prune it otherwise) and enum values there are allowed;
#   - the CRD's enums, object fields, integer ranges and defaults match the C++ parser
#     (contract/src/spec.cc, parse.cc, parse_training.cc, parse_volumes.cc,
#     contract/include/ringtrain/job/spec.h);
#   - every `kubectl get` column names a schema field.
# Prints one line per check and "N passed, M failed" last; exits non-zero on any failure.
# Needs python3 with PyYAML (Debian package python3-yaml).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if ! python3 -c 'import yaml' 2>/dev/null; then
  echo "check_crd_sync.sh: python3 has no PyYAML; install the Debian package python3-yaml" >&2
  echo "0 passed, 1 failed"
  exit 2
fi
exec python3 "$root/tests/crd/check_crd_sync.py" "$root"
