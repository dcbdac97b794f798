#!/usr/bin/env bash
# The floor: the CPU work no implementation can avoid on a cold run, done by the fastest tools
# here and packed onto <jobs> cores. For every archive: decompress it once (pigz -dc, else
# gzip -dc) and SHA-512 it once (openssl, else sha512sum), both from the page cache, output
# discarded. Not included: downloading, writing the extracted files, per-file sha256, start-up.
# Usage: floor.sh <jobs> <archive>...
set -euo pipefail
jobs=$1
shift
if command -v pigz >/dev/null 2>&1; then inflate='pigz -dc'; else inflate='gzip -dc'; fi
if command -v openssl >/dev/null 2>&1; then hash='openssl dgst -sha512'; else hash='sha512sum'; fi
for archive in "$@"; do printf 'inflate\0%s\0hash\0%s\0' "$archive" "$archive"; done |
  xargs -0 -n 2 -P "$jobs" sh -c \
    'if [ "$0" = inflate ]; then '"$inflate"' <"$1" >/dev/null; else '"$hash"' <"$1" >/dev/null; fi'
