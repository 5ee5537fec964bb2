#!/usr/bin/env bash
# PostgreSQL restarted under load (issue 6, part 2): a send load against
# smimpd on a throwaway PostgreSQL, which is restarted twice meanwhile
# (once "pg_ctl restart -m fast", once "-m immediate", a crash) with a
# 2-second outage each. Checks: smimpd answers cleanly while the database is
# gone (5xx with a JSON error, 500/503; the process keeps its pid, never a
# crash), takes mail again after each restart without being restarted
# itself, every message answered 200 is present and byte-identical, and
# amcheck finds no corruption.
# Usage: fault_pg_restart.sh SMIMPD SMIMP_CRASH_SENDER [SMIMP_TESTCLIENT]
set -euo pipefail

SMIMPD=$(cd "$(dirname "${1:?usage: $0 SMIMPD SENDER}")" && pwd)/$(basename "$1")
SENDER=$(cd "$(dirname "${2:?usage: $0 SMIMPD SENDER}")" && pwd)/$(basename "$2")
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lib_init fault_pg_restart
make_certs
pg_start || { echo "FAIL: PostgreSQL did not start" >&2; exit 1; }
pg_createdb smimp_fault >/dev/null
PG_DB=smimp_fault
PORT=$(pick_port)
{
	server_conf a.test "$PORT" "$PG_URL"
	cat <<EOF
pow_zero_bits = 2
ephemeral_draws_per_hour = 1000000
threads = 16
EOF
} > smimpd.conf
export CS_BASE=https://a.test:$PORT CS_CACERT=$TMP/ca.pem
start_smimpd "$SMIMPD" smimpd.conf server.log a.test "$PORT" || exit 1
PID=$LAST_PID
: > accounts
for i in 0 1 2 3; do
	pw=$("$SMIMPD" --config smimpd.conf account add "u$i#a.test")
	echo "u$i#a.test $pw" >> accounts
done
"$SENDER" init accounts 1000 || { echo "FAIL: init" >&2; exit 1; }

pg_opts="-k $PG_DIR -h 127.0.0.1 -p $PG_PORT -c fsync=on -c synchronous_commit=on -c max_connections=300 -c shared_buffers=64MB -c unix_socket_permissions=0777"
mkdir out
rm -f stop
"$SENDER" load accounts out 4 stop > load.out 2> load.err &
LOAD=$!
LIB_PIDS+=("$LOAD")
sent() { cat out/sent.* 2>/dev/null | wc -l; }
for how in fast immediate; do
	sleep 2
	before=$(sent)
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m "$how" -w stop >/dev/null
	echo "PostgreSQL stopped (-m $how) after $before messages"
	sleep 2
	during=$(sent)
	kill -0 "$PID" 2>/dev/null && pass "smimpd alive with PostgreSQL down ($how)" ||
		fail "smimpd died with PostgreSQL down ($how): $(tail -n 5 server.log)"
	# a public call while the database is gone: a clean error, not a hang
	st=$(curl -sS -o pub.out -w '%{http_code}' --max-time 10 --cacert ca.pem \
		--connect-to "a.test:$PORT:127.0.0.1:$PORT" \
		"https://a.test:$PORT/0.1/get_user/u0%23a.test/public_key") || st=curl-error
	if [[ $st == 50[03] ]] && grep -q '"error"' pub.out; then
		pass "database down: get_user answers $st $(head -c 100 pub.out)"
	else
		fail "database down: get_user answers $st $(head -c 200 pub.out)"
	fi
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 -o "$pg_opts" start >/dev/null ||
		{ fail "PostgreSQL did not restart"; break; }
	sleep 3
	after=$(sent)
	[[ $after -gt $during ]] && pass "mail taken again after the restart ($how): $during -> $after" ||
		fail "no mail after PostgreSQL came back ($how): $during -> $after"
	echo "restart $how: 200s before $before, while down $((during - before)), after $((after - during))" >> restarts
done
touch stop
wait "$LOAD" || fail "load: $(tail -n 3 load.err)"
cat load.out restarts
kill -0 "$PID" 2>/dev/null && pass "same smimpd pid $PID throughout" || fail "smimpd gone"
conn=$(sed -n 's/^connection_errors=//p' out/load.stats)
h5=$(sed -n 's/^http_5xx=//p' out/load.stats)
[[ $conn -eq 0 ]] && pass "no dropped connection during the outages" || fail "$conn connection errors"
[[ $h5 -gt 0 ]] && pass "$h5 clean 5xx answers during the outages" || echo "note: no 5xx seen"
if grep '5xx:' load.err | grep -vqE '5xx: 50[03] \{"error":"[a-z_]+"'; then
	fail "a 5xx that is not 500/503 with a JSON error: $(grep '5xx:' load.err | grep -vE '5xx: 50[03] \{"error"' | head -n 2)"
else
	pass "every 5xx shown is 500/503 with a JSON error"
fi
grep '5xx:' load.err | head -n 3 || true
if "$SENDER" verify accounts out > verify.out 2> verify.err; then
	pass "$(cat verify.out)"
else
	fail "verify: $(cat verify.out) $(head -n 10 verify.err)"
fi
pg_psql -c "CREATE EXTENSION IF NOT EXISTS amcheck" >/dev/null
v=$(pg_psql -c "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, LATERAL verify_heapam(c.oid) WHERE c.relkind = 'r' AND n.nspname = 'public'" 2>&1)
[[ $v == 0 ]] && pass "verify_heapam: no corruption" || fail "verify_heapam: $v"
v=$(pg_psql -c "SELECT count(*) FROM (SELECT bt_index_check(c.oid, true) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace WHERE am.amname = 'btree' AND n.nspname = 'public') x" 2>&1) &&
	pass "bt_index_check on $v indexes" || fail "bt_index_check: $v"
{
	cat restarts
	echo "http_5xx=$h5"
	echo "connection_errors=$conn"
	sed -n 's/^answered_200=/answered_200=/p' out/load.stats
} > figures
cat figures
[[ -n ${CRASH_FIGURES:-} ]] && cp figures "$CRASH_FIGURES"
lib_finish server.log load.err
