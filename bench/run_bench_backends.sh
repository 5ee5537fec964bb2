#!/usr/bin/env bash
# Full deliveries per second on SQLite, on PostgreSQL with one smimpd node
# and on PostgreSQL with two nodes, in one run (issue 5). A delivery is
# get_message_key + get_pow_params (0 bits) + send_message of 4 KiB, durable
# (SQLite WAL with synchronous = FULL; PostgreSQL with fsync = on and
# synchronous_commit = on, from tests/integration/lib.sh pg_start).
#
# Each configuration runs REPEAT times (default 2), interleaved, each time on
# a fresh database with fresh accounts and fresh smimpd processes:
#   sqlite   1 node on sqlite:FILE, one bench_smimpd with THREADS clients
#   pg-1     1 node on a throwaway PostgreSQL, the same load
#   pg-2     2 nodes on the same PostgreSQL database, both answering for
#            https://a.test:P1 (same certificate; the client maps the name to
#            each node's port, as a load balancer would); two bench_smimpd
#            at once, one per node, each with half the clients and its own
#            half of the accounts; their delivery phases start together
#            (--start-file) and the rates are summed.
# smimpd CPU per delivery is per node (utime+stime over the phase, divided
# by the deliveries that node served); postgres CPU per delivery sums the
# whole PostgreSQL cluster (postmaster and all its children) over the same
# window. Loopback only; everything (processes, temp folders, PostgreSQL)
# is removed on exit. The load generators share the machine with the
# servers, so the figures are for this machine and its current load.
# Usage: run_bench_backends.sh [BUILD_DIR]
#   env: ACCOUNTS (64), THREADS (64 concurrent clients in all), SECONDS_PER
#        (5), REPEAT (2), CONFIGS ("sqlite pg-1 pg-2"), PG_BIN (PostgreSQL
#        binaries, default the newest /usr/lib/postgresql/*/bin)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-$HERE/../build}
BUILD=$(cd "$BUILD" && pwd)
SMIMPD=$BUILD/src/server/smimpd
BENCH=$BUILD/bench/bench_smimpd
ACCOUNTS=${ACCOUNTS:-64}
THREADS=${THREADS:-64}
SECONDS_PER=${SECONDS_PER:-5}
REPEAT=${REPEAT:-2}
CONFIGS=${CONFIGS:-sqlite pg-1 pg-2}
DOMAIN=a.test   # make_certs names a.test
[[ -x $SMIMPD && -x $BENCH ]] || { echo "build smimpd and bench_smimpd first" >&2; exit 2; }
(( ACCOUNTS >= 4 && THREADS >= 2 )) || { echo "ACCOUNTS >= 4, THREADS >= 2" >&2; exit 2; }

# shellcheck source=../tests/integration/lib.sh
source "$HERE/../tests/integration/lib.sh"
lib_init bench_backends   # temp folder, cd into it, cleanup trap
trap 'exit 129' HUP
trap 'exit 141' PIPE
make_certs
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [[ $CONFIGS == *pg-* ]]; then
	pg_start
	"$PG_BIN/postgres" --version >&2
fi

# CPU seconds (utime+stime) of the PostgreSQL postmaster and its children.
pg_cpu() {
	[[ -n ${PG_DIR:-} ]] || { echo 0; return; }
	local pm p t=0 f
	pm=$(head -n 1 "$PG_DIR/data/postmaster.pid")
	for p in "$pm" $(ps -o pid= --ppid "$pm"); do
		f=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) || continue
		set -- $f   # shellcheck disable=SC2086
		t=$((t + ${12} + ${13}))
	done
	awk -v t="$t" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", t / hz }'
}

# run_config NAME RUN: one measurement; appends a line to results.txt.
run_config() {
	local name=$1 run=$2 nodes=1 db i n p1 p2 t0 t1 pids=() gpids=() ports=()
	local dir=$TMP/$name.$run
	mkdir -p "$dir"
	[[ $name == pg-2 ]] && nodes=2
	if [[ $name == sqlite ]]; then
		db=sqlite:$dir/smimpd.db
	else
		pg_createdb "bench_${name/-/_}_$run" >/dev/null
		db=$PG_URL
	fi
	p1=$(pick_port)
	p2=$(pick_port)
	while [[ $p2 == "$p1" ]]; do p2=$(pick_port); done
	ports=("$p1" "$p2")
	for ((n = 1; n <= nodes; n++)); do
		cat > "$dir/n$n.conf" <<EOC
domain = $DOMAIN
listen = 127.0.0.1:${ports[n - 1]}
public_url = https://$DOMAIN:$p1
tls_cert = $TMP/srv.pem
tls_key = $TMP/srv.key
database = $db
pow_zero_bits = 0
# One client per session, many requests per second: no session limit here
# (the limiter itself still runs on every request).
rate_per_session = 100000000
rate_burst_per_session = 100000000
max_connections = 4096
EOC
		: > "$dir/acc$n.txt"
	done
	# Accounts (this also migrates the empty database, before any node
	# starts); account i goes to node 1 + i % nodes.
	for ((i = 0; i < ACCOUNTS; i++)); do
		pw=$("$SMIMPD" --config "$dir/n1.conf" account add "u$i#$DOMAIN")
		echo "u$i#$DOMAIN $pw" >> "$dir/acc$((1 + i % nodes)).txt"
	done
	for ((n = 1; n <= nodes; n++)); do
		start_smimpd "$SMIMPD" "$dir/n$n.conf" "$dir/n$n.log" "$DOMAIN" "${ports[n - 1]}"
		pids+=("$LAST_PID")
	done
	for ((n = 1; n <= nodes; n++)); do
		"$BENCH" --pid "${pids[n - 1]}" --port "$p1" --connect-port "${ports[n - 1]}" \
			--cacert "$TMP/ca.pem" --domain "$DOMAIN" --accounts "$dir/acc$n.txt" \
			--threads $((THREADS / nodes)) --seconds "$SECONDS_PER" --idle 0 \
			--phases delivery --start-file "$dir/go" \
			> "$dir/gen$n.out" 2> "$dir/gen$n.err" &
		gpids+=($!)
		LIB_PIDS+=($!)
	done
	# Every generator has initialized its accounts: start the phase together.
	for ((n = 1; n <= nodes; n++)); do
		until grep -qs '^bench: ready' "$dir/gen$n.err"; do
			if ! kill -0 "${gpids[n - 1]}" 2>/dev/null; then
				cat "$dir/gen$n.err" >&2
				echo "$name run $run: generator $n failed during set-up" >&2
				exit 1
			fi
			sleep 0.05
		done
	done
	t0=$(pg_cpu)
	touch "$dir/go"
	local rc=0
	for p in "${gpids[@]}"; do wait "$p" || rc=1; done
	t1=$(pg_cpu)
	for p in "${pids[@]}"; do stop_smimpd "$p"; done
	LIB_PIDS=()   # all waited for: nothing left for the exit trap
	if [[ $rc != 0 ]]; then
		for ((n = 1; n <= nodes; n++)); do tail -n 20 "$dir/gen$n.err" >&2; done
		echo "$name run $run: a generator failed" >&2
		exit 1
	fi
	# "full delivery  OK FAILED SECONDS OPS/S SRV_US GEN_US LAT_MS"
	local line rate=0 ok=0 failed=0 srv=() lat=0 e5=0 span
	for ((n = 1; n <= nodes; n++)); do
		line=$(awk '/^full delivery/ { print $3, $4, $5, $6, $7, $9 }' "$dir/gen$n.out")
		[[ -n $line ]] || { cat "$dir/gen$n.out" "$dir/gen$n.err" >&2; exit 1; }
		set -- $line
		ok=$((ok + $1))
		failed=$((failed + $2))
		rate=$(awk -v a="$rate" -v b="$4" 'BEGIN { print a + b }')
		srv+=("$5")
		lat=$(awk -v a="$lat" -v b="$6" -v n="$nodes" 'BEGIN { print a + b / n }')
		e5=$((e5 + $(grep -c ' 5[0-9][0-9] ' "$dir/n$n.log" || true)))
	done
	# The phases' monotonic windows (a check that the two nodes overlapped).
	span=$(sed -n 's/^bench: phase full delivery: monotonic //p' "$dir"/gen*.err |
		awk -F, 'NR == 1 || $1 < a { a = $1 } NR == 1 || $2 > b { b = $2 }
			{ s = s sep sprintf("%.2f", $2 - $1); sep = "+" } END { printf "%s/%.2f", s, b - a }')
	local pgus=-
	[[ $name == sqlite ]] || pgus=$(awk -v a="$t0" -v b="$t1" -v n="$ok" \
		'BEGIN { printf "%.0f", (n > 0 ? 1e6 * (b - a) / n : 0) }')
	printf '%-7s %3s %8d %6d %10.0f %9s %9s %9s %8.2f %5d %s\n' "$name" "$run" "$ok" "$failed" \
		"$rate" "${srv[0]}" "${srv[1]:--}" "$pgus" "$lat" "$e5" "$span" >> "$TMP/results.txt"
	tail -n 1 "$TMP/results.txt" >&2
	if [[ $name != sqlite ]]; then
		pg_psql -c "DROP DATABASE \"bench_${name/-/_}_$run\" WITH (FORCE)" >/dev/null || true
	fi
	rm -rf "$dir"
}

: > "$TMP/results.txt"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs" >&2
for ((r = 1; r <= REPEAT; r++)); do
	for c in $CONFIGS; do
		run_config "$c" "$r"
	done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

echo
echo "smimpd full deliveries (get_message_key + get_pow_params at 0 bits + send_message 4 KiB, durable)"
echo "$ACCOUNTS accounts, $THREADS concurrent keep-alive HTTPS clients in all, ${SECONDS_PER} s per run, $(nproc) CPUs shared by servers, PostgreSQL and load generators"
printf '%-7s %3s %8s %6s %10s %9s %9s %9s %8s %5s %s\n' config run ok failed "deliv/s" \
	"n1 us/d" "n2 us/d" "pg us/d" "lat ms" 5xx "phase s"
for c in $CONFIGS; do grep "^$c " "$TMP/results.txt"; done
echo "(us/d: CPU microseconds per delivery of smimpd node 1, node 2, and the whole"
echo " PostgreSQL cluster; lat: mean delivery latency; phase s: each generator's phase"
echo " and the span they covered together)"
