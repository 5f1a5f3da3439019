#!/usr/bin/env bash
# Builds the guest kernels in guest-images/ into guest-images/build/,
# installing the toolchain first if it is missing. Extra arguments go to make
# (e.g. `tools/build-guests.sh check`).
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$repo_root/tools/install-guest-toolchain.sh"
make -C "$repo_root/guest-images" --no-print-directory "$@"
