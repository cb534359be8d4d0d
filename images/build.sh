#!/usr/bin/env bash
# images/build.sh — builds ringtrain/runtime:VERSION and ringtrain/operator:VERSION from
# images/*.Dockerfile with buildah, without a daemon and without a registry: the Debian base
# is made here with debootstrap from Debian's mirror (bookworm, minbase) and imported as
# localhost/ringtrain/debian:bookworm-rN. On a machine that reaches Docker Hub,
# `docker build -f images/runtime.Dockerfile .` builds the same image on debian:bookworm-slim.
#
# Usage: images/build.sh VERSION [BUILD_DIR]
#   BUILD_DIR  a Release build tree of this repository (e.g. build/release) holding
#              runtime/ringtrain and operator/ringtrain-operator: the images take those binaries
#              (built on this same Debian release) instead of compiling them again in a build
#              stage; without it, each image compiles its binary in its build stage.
# Environment:
#   RINGTRAIN_IMAGE_STORE  where buildah keeps images and the base's root file system
#                          (default ~/.cache/ringtrain/images; outside the repository)
# Afterwards images/buildah.sh runs buildah on that store (e.g. `images/buildah.sh images`).
set -euo pipefail
version="${1:?usage: images/build.sh VERSION [BUILD_DIR]}"
prebuilt_from="${2:-}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
binaries_arg=(--build-arg BINARIES=build)
if [[ -n "$prebuilt_from" ]]; then
  rm -rf "$root/images/prebuilt"
  mkdir -p "$root/images/prebuilt"
  for bin in runtime/ringtrain operator/ringtrain-operator; do
    [[ -x "$prebuilt_from/$bin" ]] || { echo "images: no $prebuilt_from/$bin (build it first)"; exit 1; }
    cp "$prebuilt_from/$bin" "$root/images/prebuilt/"
  done
  binaries_arg=(--build-arg BINARIES=prebuilt)
  echo "images: binaries from $prebuilt_from"
fi
store="${RINGTRAIN_IMAGE_STORE:-$HOME/.cache/ringtrain/images}"
buildah=("$here/buildah.sh")
# Bump base_rev when the recipe below changes: caches made by an older one are then not used.
base_rev=2
base="localhost/ringtrain/debian:bookworm-r$base_rev"

# The base, once: a minimal Debian root file system as a one-layer image.
if ! "${buildah[@]}" inspect --type image "$base" >/dev/null 2>&1; then
  rootfs="$store/debootstrap-bookworm-r$base_rev"
  if [[ ! -x "$rootfs/usr/bin/apt-get" ]]; then
    echo "images: debootstrap bookworm (minbase) into $rootfs"
    rm -rf "$rootfs" "$rootfs.partial"
    mkdir -p "$store"
    debootstrap --variant=minbase bookworm "$rootfs.partial" http://deb.debian.org/debian \
      >"$store/debootstrap.log" 2>&1 || { tail -n 20 "$store/debootstrap.log"; exit 1; }
    # What debian:bookworm has and debootstrap leaves out: the updates and security suites
    # (so images get patched packages); and none of this machine's own files.
    rm -f "$rootfs.partial/etc/apt/sources.list" "$rootfs.partial/etc/resolv.conf" \
      "$rootfs.partial/etc/hostname"
    cat >"$rootfs.partial/etc/apt/sources.list.d/debian.sources" <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    mv "$rootfs.partial" "$rootfs"
  fi
  echo "images: importing the root file system as $base"
  ctr="$("${buildah[@]}" from scratch)"
  trap '"${buildah[@]}" rm "$ctr" >/dev/null 2>&1 || true' EXIT
  mnt="$("${buildah[@]}" mount "$ctr")"
  tar -C "$rootfs" --exclude='./proc/*' --exclude='./sys/*' -cf - . | tar -C "$mnt" -xf -
  "${buildah[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --cmd /bin/bash "$ctr"
  "${buildah[@]}" commit -q "$ctr" "$base" >/dev/null
  "${buildah[@]}" rm "$ctr" >/dev/null
  trap - EXIT
fi

# Bases of older recipes, and their root file systems, are not used again.
for old in $("${buildah[@]}" images --format '{{.Name}}:{{.Tag}}' | grep '^localhost/ringtrain/debian:'); do
  [[ "$old" == "$base" ]] || "${buildah[@]}" rmi "$old" >/dev/null 2>&1 || true
done
find "$store" -maxdepth 1 -name 'debootstrap-bookworm*' ! -name "debootstrap-bookworm-r$base_rev" \
  -exec rm -rf {} +

# --layers: the two images share their build stage's package layer.
for image in runtime operator; do
  echo "images: building ringtrain/$image:$version"
  start=$SECONDS
  log="$store/build-$image.log"
  if ! "${buildah[@]}" bud --isolation chroot --layers \
    --build-arg "BUILD_BASE=$base" --build-arg "RUN_BASE=$base" "${binaries_arg[@]}" \
    -f "$root/images/$image.Dockerfile" -t "ringtrain/$image:$version" "$root" >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "images: building ringtrain/$image:$version failed (whole log: $log)"
    exit 1
  fi
  echo "images: ringtrain/$image:$version built in $((SECONDS - start)) s"
done
# Earlier builds' images, no longer tagged, would fill the disk (vfs stores every layer whole).
"${buildah[@]}" rmi --prune >/dev/null 2>&1 || true
"${buildah[@]}" images
