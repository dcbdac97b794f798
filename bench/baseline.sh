#!/usr/bin/env bash
# The original hook-images workflow, for one bundle: download every archive with sequential
# curl, extract each with tar, remove the tarballs, link the six standard names. It verifies
# nothing and caches nothing.
# Usage: baseline.sh <base url> <dest dir> <arm id> <x86 id> <asset>...
set -euo pipefail
url=$1 dest=$2 arm=$3 x86=$4
shift 4
mkdir -p "$dest"
cd "$dest"
for asset in "$@"; do curl -fsSL -o "$asset" "$url/$asset"; done
for asset in "$@"; do tar -xzf "$asset"; done
rm -f -- "$@"
for kind in vmlinuz initramfs; do
  ln -sf "$kind-$x86" "$kind-x86_64"
  ln -sf "$kind-$arm" "$kind-aarch64"
  ln -sf "$kind-$arm" "$kind-arm64"
done
