#!/usr/bin/env bash
# Disk full while receiving (issue 6, part 2): smimpd's SQLite store on a
# 2 MiB tmpfs (mount -t tmpfs, as root; without mount permission a
# file-size limit, ulimit -f, on smimpd instead), a send load until the
# space runs out. Checks: the server answers cleanly (507 or 500 with a JSON
# error, no dropped connection, no crash), reads still work while full, the
# database passes PRAGMA integrity_check while full, every message answered
# 200 is present and byte-identical; then the space returns (tmpfs remount
# to 64 MiB; with ulimit: a restart without the limit) and the same smimpd
# takes mail again.
# Usage: fault_disk_full.sh SMIMPD SMIMP_CRASH_SENDER [SMIMP_TESTCLIENT]
set -euo pipefail

SMIMPD=$(cd "$(dirname "${1:?usage: $0 SMIMPD SENDER}")" && pwd)/$(basename "$1")
SENDER=$(cd "$(dirname "${2:?usage: $0 SMIMPD SENDER}")" && pwd)/$(basename "$2")
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lib_init fault_disk_full
MNT=
cleanup_mount() { [[ -n $MNT ]] && umount "$MNT" 2>/dev/null; MNT=; lib_cleanup; }
trap cleanup_mount EXIT
make_certs

mkdir small
MODE=ulimit
if [[ $(id -u) -eq 0 ]] && mount -t tmpfs -o size=2m,mode=0700 tmpfs "$TMP/small" 2>/dev/null; then
	MNT=$TMP/small
	MODE=tmpfs
fi
echo "disk full by: $MODE"
PORT=$(pick_port)
{
	server_conf a.test "$PORT" "sqlite:$TMP/small/smimpd.db"
	cat <<EOF
pow_zero_bits = 2
ephemeral_draws_per_hour = 1000000
threads = 8
EOF
} > smimpd.conf
export CS_BASE=https://a.test:$PORT CS_CACERT=$TMP/ca.pem
if [[ $MODE == tmpfs ]]; then
	start_smimpd "$SMIMPD" smimpd.conf server.log a.test "$PORT" || exit 1
else
	# 2 MiB in 512-byte blocks for smimpd only
	(ulimit -f 4096; exec "$SMIMPD" --config smimpd.conf serve 2>>server.log) &
	LAST_PID=$!
	LIB_PIDS+=("$LAST_PID")
	sleep 1
fi
PID=$LAST_PID
: > accounts
for i in 0 1 2; do
	pw=$("$SMIMPD" --config smimpd.conf account add "u$i#a.test")
	echo "u$i#a.test $pw" >> accounts
done
"$SENDER" init accounts 60 || { echo "FAIL: init" >&2; exit 1; }

# ---- fill the disk ----
mkdir out1
rm -f stop
CS_SEND_RETRIES=0 CS_ALLOW_REFUSALS=1 "$SENDER" load accounts out1 3 stop > load1.out 2> load1.err &
LOAD=$!
LIB_PIDS+=("$LOAD")
full=0
for _ in $(seq 1 60); do
	sleep 0.5
	if grep -q '5xx: 50[07]' load1.err; then full=1; break; fi
done
sleep 2   # keep pushing against the full disk
[[ $full -eq 1 ]] && pass "the disk filled: 5xx answers" || fail "no 5xx within 30 s ($(df -h "$TMP/small" | tail -n 1))"
# While full: reads still answer.
"$SENDER" probe "u0#a.test" 2 > probe.out || true
grep -q ' 0 failed' probe.out && pass "reads while full: $(cat probe.out)" || fail "reads while full: $(cat probe.out)"
touch stop
wait "$LOAD" || fail "load while full: $(tail -n 3 load1.err)"
cat load1.out
kill -0 "$PID" 2>/dev/null && pass "smimpd alive with a full disk" || fail "smimpd died on a full disk: $(tail -n 5 server.log)"
codes=$(grep -o '5xx: [0-9]*' load1.err | sort | uniq -c | tr -s ' \n' ' ')
echo "5xx answers seen (first 8 shown): $codes"
if grep '5xx:' load1.err | grep -vqE '5xx: 50[07] \{"error":"[a-z_]+"'; then
	fail "a 5xx that is not 507/500 with a JSON error: $(grep '5xx:' load1.err | grep -vE '5xx: 50[07] \{"error"' | head -n 2)"
else
	pass "every 5xx shown is 507/500 with a JSON error"
fi
grep -q '5xx: 507' load1.err && pass "507 insufficient_storage answered" || echo "note: no 507 (500 only)"
conn=$(sed -n 's/^connection_errors=//p' out1/load.stats)
[[ $conn -eq 0 ]] && pass "no connection dropped while full" || fail "$conn connection errors while full"
N1=$(sed -n 's/^answered_200=//p' out1/load.stats)
H1=$(sed -n 's/^http_5xx=//p' out1/load.stats)
[[ $N1 -gt 0 ]] && pass "$N1 messages stored before the disk filled" || fail "nothing stored"
v=$(sqlite3 -batch -readonly "$TMP/small/smimpd.db" "PRAGMA integrity_check" 2>&1)
[[ $v == ok ]] && pass "integrity_check on the full disk: ok" || fail "integrity_check while full: $v"

# ---- space returns ----
if [[ $MODE == tmpfs ]]; then
	mount -o remount,size=64m "$MNT"
	pass "space returned (tmpfs remounted at 64 MiB), same smimpd pid $PID"
else
	stop_smimpd "$PID"
	start_smimpd "$SMIMPD" smimpd.conf server.log a.test "$PORT" || exit 1
	PID=$LAST_PID
	pass "space returned (smimpd restarted without the file-size limit)"
fi
mkdir out2
rm -f stop
( sleep 3; touch stop ) &
"$SENDER" load accounts out2 3 stop > load2.out 2> load2.err || fail "load after space returned: $(tail -n 3 load2.err)"
cat load2.out
N2=$(sed -n 's/^answered_200=//p' out2/load.stats)
[[ $N2 -gt 0 ]] && pass "service resumed: $N2 more messages answered 200" || fail "no message after space returned"
# every 200 of both phases
mkdir all
i=0
for f in out1/sent.* out2/sent.*; do cp "$f" "all/sent.$i"; i=$((i + 1)); done
if "$SENDER" verify accounts all > verify.out 2> verify.err; then
	pass "$(cat verify.out)"
else
	fail "verify: $(cat verify.out) $(head -n 10 verify.err)"
fi
stop_smimpd "$PID"
v=$(sqlite3 -batch "$TMP/small/smimpd.db" "PRAGMA integrity_check" 2>&1)
[[ $v == ok ]] && pass "integrity_check at the end: ok" || fail "integrity_check: $v"
{
	echo "mode=$MODE"
	echo "stored_before_full=$N1"
	echo "answers_5xx_while_full=$H1"
	echo "codes=$codes"
	echo "stored_after_space_returned=$N2"
} > figures
cat figures
[[ -n ${CRASH_FIGURES:-} ]] && cp figures "$CRASH_FIGURES"
lib_finish server.log load1.err
