#!/usr/bin/env bash
# images/buildah.sh — buildah on ringtrain's image store: the vfs storage driver (no overlay
# or fuse needed) under RINGTRAIN_IMAGE_STORE (default ~/.cache/ringtrain/images), so the
# images images/build.sh makes are found by the tests and by `images/buildah.sh push ...`.
# Usage: images/buildah.sh BUILDAH-ARGS...
set -euo pipefail
store="${RINGTRAIN_IMAGE_STORE:-$HOME/.cache/ringtrain/images}"
exec buildah --storage-driver vfs --root "$store/storage" --runroot "$store/run" "$@"
