#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds smimp twice (Release,
# and Debug with AddressSanitizer + UndefinedBehaviorSanitizer) and runs every
# ctest case on both. Exits non-zero on any failure.
#
#   scripts/test.sh              both builds
#   scripts/test.sh release      Release only
#   scripts/test.sh sanitize     ASan/UBSan only
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)
what=${1:-all}

"$root/scripts/install-deps.sh"

run_suite() { # name, cmake args...
	local name=$1
	shift
	local dir="$root/build/$name"
	echo "== $name: configure and build in $dir"
	cmake -S "$root" -B "$dir" "$@" >/dev/null
	cmake --build "$dir" -j"$jobs"
	echo "== $name: ctest"
	(cd "$dir" && ctest --output-on-failure -j"$jobs" --timeout 600)
}

case "$what" in
all | release)
	run_suite release -DCMAKE_BUILD_TYPE=Release ;;&
all | sanitize)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run_suite sanitize -DCMAKE_BUILD_TYPE=Debug -DSMIMP_SANITIZE=ON -DSMIMP_BENCH=OFF ;;
release | sanitize | all) ;;
*)
	echo "usage: $0 [all|release|sanitize]" >&2
	exit 2 ;;
esac
echo "== all test suites passed"
