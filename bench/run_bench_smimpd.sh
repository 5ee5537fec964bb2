#!/usr/bin/env bash
# Runs bench_smimpd against a fresh smimpd on 127.0.0.1: makes a test CA and
# a server certificate, a temporary SQLite database, N accounts (added with
# "smimpd account add"; the bench initializes them over HTTPS), starts
# "smimpd serve" with pow_zero_bits = 0, runs the load generator and stops
# the server with SIGTERM. Everything lives in a temp folder removed on exit.
# Usage: run_bench_smimpd.sh [BUILD_DIR] [-- BENCH_ARGS...]
#   env: ACCOUNTS (64), THREADS (64 concurrent clients), SECONDS_PER (5),
#        IDLE (1000 idle connections), SMIMPD_EXTRA (extra config lines),
#        KEEP_LOG=1 (copy the server log to ./bench_smimpd.log),
#        PERF=FILE (perf record -g of smimpd during the run; PERF_FREQ=HZ,
#        PERF_CG="--call-graph dwarf,16384" for full stacks through
#        libraries built without frame pointers),
#        PERF_GEN=FILE (the same of the load generator),
#        STRACE=FILE (strace -c -f of smimpd during the run: syscall counts)
set -euo pipefail

BUILD=${1:-$(dirname "$0")/../build}
BUILD=$(cd "$BUILD" && pwd)
shift || true
[[ ${1-} == -- ]] && shift
SMIMPD=$BUILD/src/server/smimpd
BENCH=$BUILD/bench/bench_smimpd
ACCOUNTS=${ACCOUNTS:-64}
THREADS=${THREADS:-64}
SECONDS_PER=${SECONDS_PER:-5}
IDLE=${IDLE:-1000}
DOMAIN=bench.test
[[ -x $SMIMPD && -x $BENCH ]] || { echo "build smimpd and bench_smimpd first" >&2; exit 2; }

ORIG=$PWD
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench_smimpd.XXXXXX")
PID=
cleanup() {
	if [[ -n $PID ]] && kill -0 "$PID" 2>/dev/null; then
		kill -TERM "$PID" 2>/dev/null || true
		wait "$PID" 2>/dev/null || true
	fi
	[[ ${KEEP_LOG:-0} == 1 && -f $TMP/smimpd.log ]] && cp "$TMP/smimpd.log" "$ORIG/bench_smimpd.log"
	rm -rf "$TMP"
	release_ports 2>/dev/null || true
}
trap cleanup EXIT
cd "$TMP"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout ca.key -out ca.pem -days 2 -subj "/CN=smimpd bench CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout srv.key -out srv.csr -subj "/CN=$DOMAIN" 2>/dev/null
printf 'subjectAltName = DNS:%s\nbasicConstraints = CA:FALSE\nkeyUsage = digitalSignature\nextendedKeyUsage = serverAuth\n' \
	"$DOMAIN" > ext.cnf
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
	-out srv.pem -days 2 -extfile ext.cnf 2>/dev/null

# shellcheck source=../scripts/ports.sh
source "$HERE/../scripts/ports.sh"
PORT=$(pick_port) || { echo "no free port" >&2; exit 1; }

cat > smimpd.conf <<EOC
domain = $DOMAIN
listen = 127.0.0.1:$PORT
public_url = https://$DOMAIN:$PORT
tls_cert = $TMP/srv.pem
tls_key = $TMP/srv.key
database = sqlite:$TMP/smimpd.db
pow_zero_bits = 0
# One client per session, many requests per second: no session limit here
# (the limiter itself still runs on every request).
rate_per_session = 100000000
rate_burst_per_session = 100000000
max_connections = 4096
EOC
[[ -n ${SMIMPD_EXTRA-} ]] && printf '%s\n' "$SMIMPD_EXTRA" >> smimpd.conf

: > accounts.txt
for i in $(seq 0 $((ACCOUNTS - 1))); do
	pw=$("$SMIMPD" --config smimpd.conf account add "u$i#$DOMAIN")
	echo "u$i#$DOMAIN $pw" >> accounts.txt
done

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
"$SMIMPD" --config smimpd.conf serve 2>smimpd.log &
PID=$!
for _ in $(seq 1 100); do
	curl -s -o /dev/null --cacert ca.pem --connect-to "$DOMAIN:$PORT:127.0.0.1:$PORT" \
		"https://$DOMAIN:$PORT/version" && break
	kill -0 "$PID" 2>/dev/null || { cat smimpd.log >&2; exit 1; }
	sleep 0.1
done
head -n 1 smimpd.log >&2

PERF_PID=
if [[ -n ${PERF-} ]]; then   # PERF=FILE: perf record -g of smimpd meanwhile
	perf record -q -k CLOCK_MONOTONIC -F ${PERF_FREQ:-1999} ${PERF_CG:--g} -p "$PID" -o "$PERF" 2>/dev/null &
	PERF_PID=$!
fi
STRACE_PID=
if [[ -n ${STRACE-} ]]; then
	strace -c -f -o "$STRACE" -p "$PID" 2>/dev/null &
	STRACE_PID=$!
fi
rc=0
${BENCH_WRAP-} "$BENCH" --pid "$PID" --port "$PORT" --cacert "$TMP/ca.pem" --domain "$DOMAIN" \
	--accounts accounts.txt --threads "$THREADS" --seconds "$SECONDS_PER" \
	--idle "$IDLE" "$@" &
BPID=$!
if [[ -n ${PERF_GEN-} ]]; then
	perf record -q -k CLOCK_MONOTONIC -F 1999 -g -p "$BPID" -o "$PERF_GEN" 2>/dev/null &
	PERF_GEN_PID=$!
fi
wait "$BPID" || rc=$?
if [[ -n ${PERF_GEN-} ]]; then kill -INT "$PERF_GEN_PID" 2>/dev/null; wait "$PERF_GEN_PID" || true; fi
if [[ -n $PERF_PID ]]; then kill -INT "$PERF_PID"; wait "$PERF_PID" || true; fi
if [[ -n $STRACE_PID ]]; then kill -INT "$STRACE_PID"; wait "$STRACE_PID" || true; fi
echo "server log: $(wc -l < smimpd.log) lines, $(grep -c ' 5[0-9][0-9] ' smimpd.log || true) with status 5xx" >&2
kill -TERM "$PID"
wait "$PID" || true
tail -n 2 smimpd.log >&2
PID=
exit $rc
