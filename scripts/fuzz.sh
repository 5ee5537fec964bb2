#!/usr/bin/env bash
# Builds every libFuzzer target (clang) and runs each for a bounded time on a
# scratch copy of its seed corpus in tests/fuzz/corpus/<name>/. Exits non-zero
# when a target crashes, leaks or times out.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     (default 20)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-20}
dir="$root/build/fuzz"

"$root/scripts/install-deps.sh"
CC=clang cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=Debug \
	-DSMIMP_FUZZ=ON -DSMIMP_BENCH=OFF >/dev/null
targets=$(cd "$root/tests/fuzz" && ls fuzz_*.c | sed 's/\.c$//')
# shellcheck disable=SC2086
cmake --build "$dir" -j"$(nproc)" --target $targets

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for t in $targets; do
	name=${t#fuzz_}
	mkdir -p "$scratch/$name"
	if [ -d "$root/tests/fuzz/corpus/$name" ]; then
		cp -r "$root/tests/fuzz/corpus/$name/." "$scratch/$name/"
	fi
	echo "== fuzz $t for ${seconds}s"
	(cd "$scratch" && "$dir/tests/$t" -max_total_time="$seconds" \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		"$scratch/$name" 2>"$scratch/$t.log") || {
		tail -40 "$scratch/$t.log"
		echo "== fuzz $t FAILED" >&2
		exit 1
	}
	grep -E '^(stat::number_of_executed_units|Done)' "$scratch/$t.log" || true
done
echo "== all fuzz targets ran clean"
