#!/usr/bin/env bash
# Crash durability of smimpd (issue 6, part 1): a sustained send load
# (CRASH_SENDERS concurrent senders, smimp-crash-sender load) while smimpd is
# killed with SIGKILL at random moments CRASH_KILLS times and restarted each
# time; on PostgreSQL every 4th kill also crashes PostgreSQL itself
# (pg_ctl stop -m immediate: no shutdown checkpoint, WAL recovery at start).
# Then, with smimpd running again:
#   - every message answered 200 is present and byte-identical (GET
#     message/{id}: every envelope field sent, recipient, sender, id);
#   - no message appears twice (folder listings; message_hash counted in the
#     database) and a lost answer retried with the identical envelope was
#     answered with the first id;
#   - the store passes its integrity check (SQLite: PRAGMA integrity_check
#     and foreign_key_check; PostgreSQL: amcheck on every B-tree index and
#     verify_heapam on every table) and its own invariants (quota bytes =
#     stored bytes, every issued ephemeral key has its draw, every message
#     on an ephemeral key came from the sender it was issued to);
#   - no ephemeral key was issued twice: the senders' own records of the
#     keys they received hold no key twice, every one of them is in the
#     database issued to that sender, and no key carried two messages.
# Usage: crash_server.sh sqlite|pg SMIMPD SMIMP_CRASH_SENDER
# Environment: CRASH_KILLS (default 8; the full run is CRASH_KILLS=20 or
# more), CRASH_SENDERS (default 6), CRASH_MIN_MS/CRASH_MAX_MS (time between
# a restart and the next kill, default 300..1500 ms), CRASH_KEEP=1 keeps the
# temp folder.
set -euo pipefail

BACKEND=${1:?usage: $0 sqlite|pg SMIMPD SENDER}
SMIMPD=$(cd "$(dirname "${2:?}")" && pwd)/$(basename "$2")
SENDER=$(cd "$(dirname "${3:?}")" && pwd)/$(basename "$3")
KILLS=${CRASH_KILLS:-8}
SENDERS=${CRASH_SENDERS:-6}
MIN_MS=${CRASH_MIN_MS:-300}
MAX_MS=${CRASH_MAX_MS:-1500}
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lib_init "crash_server_$BACKEND"
[[ ${CRASH_KEEP:-0} == 1 ]] && trap 'TMP_KEEP=$TMP; TMP=; lib_cleanup; echo "kept $TMP_KEEP"' EXIT
make_certs

PORT=$(pick_port)
case $BACKEND in
sqlite) DB="sqlite:$TMP/smimpd.db" ;;
pg)
	pg_start || { echo "FAIL: PostgreSQL did not start" >&2; exit 1; }
	pg_createdb smimp_crash >/dev/null
	DB=$PG_URL
	PG_DB=smimp_crash
	;;
*) echo "usage: $0 sqlite|pg SMIMPD SENDER" >&2; exit 2 ;;
esac
{
	server_conf a.test "$PORT" "$DB"
	cat <<EOF
pow_zero_bits = 2
ephemeral_draws_per_hour = 1000000
threads = 16
EOF
} > smimpd.conf
export CS_BASE=https://a.test:$PORT CS_CACERT=$TMP/ca.pem

# sql QUERY: one value per line from the store.
sql() {
	if [[ $BACKEND == sqlite ]]; then
		sqlite3 -batch "$TMP/smimpd.db" "$1"
	else
		pg_psql -c "$1"
	fi
}
hex() { # the hex of a blob column
	if [[ $BACKEND == sqlite ]]; then echo "lower(hex($1))"; else echo "encode($1, 'hex')"; fi
}
expect_zero() { # NAME QUERY
	local v
	v=$(sql "$2" 2>&1) || { fail "$1: query failed: $v"; return; }
	if [[ $v == 0 ]]; then pass "$1"; else fail "$1: $v (want 0)"; fi
}

start_smimpd "$SMIMPD" smimpd.conf server.log a.test "$PORT" ||
	{ echo "FAIL: smimpd did not start" >&2; exit 1; }
PID=$LAST_PID
: > accounts
for i in $(seq 0 $((SENDERS - 1))); do
	pw=$("$SMIMPD" --config smimpd.conf account add "u$i#a.test")
	echo "u$i#a.test $pw" >> accounts
done
# Enough one-time keys that most draws are ephemeral (each account gets
# about a 1/SENDERS share of all deliveries).
"$SENDER" init accounts $((400 + 250 * KILLS)) || { echo "FAIL: init" >&2; exit 1; }

mkdir out
rm -f stop
"$SENDER" load accounts out "$SENDERS" stop > load.out 2> load.err &
LOAD=$!
LIB_PIDS+=("$LOAD")
sleep 1

kills=0
pg_crashes=0
t0=$SECONDS
for k in $(seq 1 "$KILLS"); do
	ms=$((MIN_MS + RANDOM % (MAX_MS - MIN_MS + 1)))
	sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
	kill -0 "$PID" 2>/dev/null || { fail "smimpd died by itself before kill $k"; break; }
	kill -KILL "$PID"
	wait "$PID" 2>/dev/null || true
	kills=$((kills + 1))
	echo "kill $k: smimpd killed after ${ms} ms; $(cat out/sent.* 2>/dev/null | wc -l) answered 200 so far"
	if [[ $BACKEND == pg && $((k % 4)) -eq 0 ]]; then
		pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null
		pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
			-o "-k $PG_DIR -h 127.0.0.1 -p $PG_PORT -c fsync=on -c synchronous_commit=on -c max_connections=300 -c shared_buffers=64MB -c unix_socket_permissions=0777" \
			start >/dev/null || { fail "PostgreSQL did not restart"; break; }
		pg_crashes=$((pg_crashes + 1))
		echo "kill $k: PostgreSQL crashed (immediate stop) and restarted"
	fi
	start_smimpd "$SMIMPD" smimpd.conf server.log a.test "$PORT" ||
		{ fail "smimpd did not restart after kill $k"; break; }
	PID=$LAST_PID
done
# Let the load run a little on the last server, then stop it.
sleep 1
touch stop
if wait "$LOAD"; then
	pass "load: no unexpected refusal"
else
	fail "load reported refusals or errors: $(tail -n 5 load.err)"
fi
LOAD_SECS=$((SECONDS - t0))
cat load.out
grep -v '^$' load.err | head -n 20 >&2 || true
kill -0 "$PID" 2>/dev/null && pass "smimpd alive after the load" || fail "smimpd died"

n200=$(cat out/sent.* | wc -l)
[[ $n200 -gt $((KILLS * 5)) ]] && pass "$n200 messages answered 200 during $kills kills" ||
	fail "only $n200 messages answered 200 during the load"

# ---- every 200 present, byte-identical, listed once ----
if "$SENDER" verify accounts out > verify.out 2> verify.err; then
	pass "$(cat verify.out)"
else
	fail "verify: $(cat verify.out) $(head -n 20 verify.err)"
fi

# ---- the store ----
# A stored message whose answer was lost may exist (9); a message answered
# 200 exists once. message_hash is unique per envelope: a duplicate would be
# the same envelope stored twice.
expect_zero "no envelope stored twice (message_hash)" \
	"SELECT count(*) FROM (SELECT message_hash FROM messages GROUP BY message_hash HAVING count(*) > 1) d"
stored=$(sql "SELECT count(*) FROM messages")
echo "stored messages: $stored (answered 200: $n200)"
[[ $stored -ge $n200 ]] && pass "stored >= answered 200" || fail "stored $stored < answered $n200"
expect_zero "quota: used_bytes = bytes of the stored messages" \
	"SELECT count(*) FROM accounts a WHERE used_bytes <> (SELECT coalesce(sum(size), 0) FROM messages m WHERE m.account_id = a.id)"
expect_zero "no ephemeral key carried two messages" \
	"SELECT count(*) FROM (SELECT m.account_id, m.message_public_key FROM messages m JOIN ephemeral_keys e ON e.account_id = m.account_id AND e.key = m.message_public_key GROUP BY 1, 2 HAVING count(*) > 1) d"
expect_zero "every message on an ephemeral key came from the sender it was issued to" \
	"SELECT count(*) FROM messages m JOIN ephemeral_keys e ON e.account_id = m.account_id AND e.key = m.message_public_key WHERE e.issued_to IS NULL OR e.issued_to <> m.sender"
issued=$(sql "SELECT count(*) FROM ephemeral_keys WHERE issued_at IS NOT NULL")
draws=$(sql "SELECT count(*) FROM ephemeral_draws")
[[ $issued -eq $draws ]] && pass "ephemeral keys issued ($issued) = draws recorded ($draws)" ||
	fail "ephemeral keys issued $issued, draws recorded $draws"

# The drawers' records: no key received twice; each ephemeral one issued to
# its drawer in the store.
cat out/keys.* > keys.all
awk '$3 == "ephemeral" {print $4}' keys.all | sort | uniq -d > keys.dup
eph_received=$(awk '$3 == "ephemeral"' keys.all | wc -l)
[[ ! -s keys.dup ]] && pass "no ephemeral key received twice ($eph_received received)" ||
	fail "ephemeral keys received twice: $(head -n 5 keys.dup)"
sql "SELECT $(hex key) || ' ' || issued_to FROM ephemeral_keys WHERE issued_at IS NOT NULL" | sort > keys.db
awk '$3 == "ephemeral" {print $4 " " $2}' keys.all | sort > keys.recv
missing=$(comm -23 keys.recv keys.db | wc -l)
[[ $missing -eq 0 ]] && pass "every ephemeral key received is issued to its drawer in the store" ||
	fail "$missing received ephemeral keys not issued to their drawer: $(comm -23 keys.recv keys.db | head -n 3)"
[[ $eph_received -gt 0 ]] || fail "no ephemeral key drawn: the test did not exercise key issue"

# ---- integrity ----
if [[ $BACKEND == sqlite ]]; then
	stop_smimpd "$PID"
	v=$(sqlite3 -batch "$TMP/smimpd.db" "PRAGMA integrity_check")
	[[ $v == ok ]] && pass "PRAGMA integrity_check: ok" || fail "integrity_check: $v"
	v=$(sqlite3 -batch "$TMP/smimpd.db" "PRAGMA foreign_key_check" | wc -l)
	[[ $v -eq 0 ]] && pass "PRAGMA foreign_key_check: clean" || fail "foreign_key_check: $v rows"
else
	if pg_psql -c "CREATE EXTENSION IF NOT EXISTS amcheck" >/dev/null 2>amcheck.err; then
		v=$(pg_psql -c "SELECT count(*) FROM (SELECT bt_index_check(c.oid, true) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace WHERE am.amname = 'btree' AND n.nspname = 'public') x" 2>&1) &&
			pass "amcheck bt_index_check (heapallindexed) on $v B-tree indexes" || fail "amcheck: $v"
		v=$(pg_psql -c "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, LATERAL verify_heapam(c.oid) WHERE c.relkind = 'r' AND n.nspname = 'public'" 2>&1)
		[[ $v == 0 ]] && pass "amcheck verify_heapam: no corruption" || fail "verify_heapam: $v"
	else
		fail "amcheck not available: $(cat amcheck.err)"
	fi
	stop_smimpd "$PID"
fi
if grep -qiE 'assert|sanitizer|segmentation' server.log; then
	fail "smimpd log: $(grep -iE 'assert|sanitizer|segmentation' server.log | head -n 3)"
fi

{
	echo "backend=$BACKEND"
	echo "kills=$kills"
	echo "pg_crashes=$pg_crashes"
	echo "senders=$SENDERS"
	echo "seconds=$LOAD_SECS"
	echo "stored=$stored"
	echo "ephemeral_issued=$issued"
	cat out/load.stats out/verify.stats
} > figures
echo "---- figures ----"
cat figures
if [[ -n ${CRASH_FIGURES:-} ]]; then cp figures "$CRASH_FIGURES"; fi
lib_finish server.log load.err
