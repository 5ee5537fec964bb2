#!/usr/bin/env bash
# The main job: installs what it needs, builds smimp (Release) and runs the
# protocol self-check, a complete SMIMP exchange between alice#a.test and
# bob#b.test computed by libsmimp step by step. Exit 0 only when every step
# verified.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/build/release"

"$root/scripts/install-deps.sh"
echo "== building smimp in $dir"
cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$dir" -j"$(nproc 2>/dev/null || echo 2)" --target smimp-selfcheck >/dev/null
echo "== running the protocol self-check"
"$dir/tools/smimp-selfcheck"
