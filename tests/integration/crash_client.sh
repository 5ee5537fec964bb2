#!/usr/bin/env bash
# Crash safety of the smimp client (issue 6, part 1): SIGKILL at random
# moments of
#   1. `keys refill` (new secrets written to the keystore, then uploaded):
#      after every kill the keystore opens with the passphrase (`accounts`,
#      `keys` exit 0: every key the server lists is one whose secret the
#      keystore holds); at the end mail sent to the keys uploaded meanwhile
#      is read VALID;
#   2. `send` while the recipient's server is down (the message is written
#      to the encrypted outbox before the first request): after every kill
#      the outbox opens (`outbox` exit 0), and every send that finished
#      ("queued") is listed;
#   3. `outbox flush` once the recipient is back (delivery in progress):
#      killed repeatedly, then flushed to the end; every message queued
#      arrives at least once and at most twice (the documented trade-off: a
#      200 lost in the crash means a second delivery), and nothing stays in
#      the outbox.
# Usage: crash_client.sh SMIMP SMIMPD. CRASH_CLIENT_KILLS (default 10 per
# phase; the full run: CRASH_CLIENT_KILLS=40).
set -euo pipefail

SMIMP=$(cd "$(dirname "${1:?usage: $0 SMIMP SMIMPD}")" && pwd)/$(basename "$1")
SMIMPD=$(cd "$(dirname "${2:?usage: $0 SMIMP SMIMPD}")" && pwd)/$(basename "$2")
KILLS=${CRASH_CLIENT_KILLS:-10}
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY SMIMP_PASSPHRASE
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lib_init crash_client
export SMIMP_KDF=interactive   # fast Argon2id for tests only

make_certs
start_two_domains "$SMIMPD" "pow_zero_bits = 4"
echo "pass phrase" > pass.txt
user() { # NAME DOMAIN HOME N_EPHEMERAL
	"$SMIMPD" --config "${2%%.*}.conf" account add "$1#$2" > "$1.pw"
	"$SMIMP" --home "$3" "${TLS_ARGS[@]}" --passphrase-file pass.txt \
		init "$1#$2" --password-file "$1.pw" --ephemeral "$4" >/dev/null 2>>init.err ||
		{ echo "FAIL: init $1#$2: $(cat init.err)" >&2; exit 1; }
}
user alice a.test "$TMP/h-alice" 5
user bob b.test "$TMP/h-bob" 5
A=("$SMIMP" --home "$TMP/h-alice" "${TLS_ARGS[@]}" --passphrase-file pass.txt)
B=("$SMIMP" --home "$TMP/h-bob" "${TLS_ARGS[@]}" --passphrase-file pass.txt)

now_ms() { date +%s%3N; }
nap_ms() { sleep "$(($1 / 1000)).$(printf '%03d' $(($1 % 1000)))"; }
# run_killed MAX_MS OUT CMD...: runs CMD in the background and SIGKILLs it
# after a random 0..MAX_MS ms unless it finished; KILLED=1 when it was
# killed, RC its exit status otherwise.
run_killed() {
	local max=$1 out=$2 pid
	shift 2
	"$@" >"$out" 2>&1 &
	pid=$!
	nap_ms $((RANDOM % (max + 1)))
	if kill -KILL "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null || true
		KILLED=1
		RC=137
	else
		KILLED=0
		RC=0
		wait "$pid" || RC=$?
	fi
}
# opens NAME CMD...: the command must exit 0.
opens() {
	local name=$1 rc=0
	shift
	"$@" > check.out 2>&1 || rc=$?
	if [[ $rc -ne 0 ]]; then
		fail "$name: exit $rc: $(head -c 500 check.out)"
		return 1
	fi
}

# ---- 1. keys refill --------------------------------------------------------
t=$(now_ms)
"${A[@]}" keys refill 100 >/dev/null 2>&1 || fail "an unkilled refill failed"
REFILL_MS=$(($(now_ms) - t))
echo "one refill of 100 keys: $REFILL_MS ms"
killed=0 bad=0
for i in $(seq 1 "$KILLS"); do
	run_killed $((REFILL_MS + REFILL_MS / 4)) refill.out "${A[@]}" keys refill 100
	killed=$((killed + KILLED))
	[[ $KILLED == 1 || $RC == 0 ]] || fail "refill $i: exit $RC: $(head -c 300 refill.out)"
	opens "refill kill $i: accounts" "${A[@]}" accounts || bad=$((bad + 1))
	opens "refill kill $i: keys (keystore opens, server keys all held)" "${A[@]}" keys ||
		bad=$((bad + 1))
done
REFILL_KILLED=$killed
[[ $bad -eq 0 ]] && pass "keystore opened and matched the server after $killed kills in $KILLS refills" ||
	fail "$bad keystore checks failed"
[[ -z $(find "$TMP/h-alice" -name 'keystore' -size 0) ]] && pass "no empty keystore" || fail "empty keystore"

# Mail to the keys uploaded by the killed refills can be read.
for i in 1 2 3; do
	"${B[@]}" sms alice#a.test "after refill kills $i" > sms.out 2>&1 ||
		fail "bob -> alice sms $i: $(cat sms.out)"
done
"${A[@]}" --json list --type short-message --all > alist.json 2>alist.err || fail "alice list: $(head -c 300 alist.err)"
valid=0
for id in $(grep -o '"message_id": *"[0-9a-f]*"' alist.json | grep -o '[0-9a-f]\{64\}'); do
	"${A[@]}" read "$id" > read.out 2>&1 && grep -q '^Status *VALID' read.out && valid=$((valid + 1))
done
[[ $valid -eq 3 ]] && pass "alice reads the 3 messages sent to her refilled keys" ||
	fail "alice read $valid of 3 valid: $(head -c 500 read.out) $(head -c 1500 alist.json | tr -s " \n" " ")"

# ---- 2. send while the recipient is down: outbox write ----------------------
stop_smimpd "$BPID"
echo "body of the first queued message" > body.txt
t=$(now_ms)
rc=0
"${A[@]}" send --to bob#b.test --subject "q0" --body-file body.txt > send.out 2>&1 || rc=$?
SEND_MS=$(($(now_ms) - t))
[[ $rc -eq 75 ]] && pass "send with b.test down: queued (75) in $SEND_MS ms" || fail "send q0: exit $rc $(cat send.out)"
killed=0 bad=0 queued=(q0)
for i in $(seq 1 "$KILLS"); do
	echo "queued message $i" > body.txt
	run_killed $((SEND_MS + SEND_MS / 4)) send.out "${A[@]}" send --to bob#b.test --subject "q$i" --body-file body.txt
	killed=$((killed + KILLED))
	if [[ $KILLED == 0 ]]; then
		if [[ $RC == 75 ]] && grep -q '^queued for bob#b.test: outbox id' send.out; then
			queued+=("q$i")
		else
			fail "send q$i: exit $RC: $(head -c 300 send.out)"
		fi
	fi
	opens "send kill $i: outbox opens" "${A[@]}" --json outbox || bad=$((bad + 1))
	n=$(grep -c '"id"' check.out || true)
	[[ $n -ge ${#queued[@]} ]] || { fail "send kill $i: outbox holds $n, ${#queued[@]} were queued"; bad=$((bad + 1)); }
done
# More entries, so that the flush below has deliveries to be killed in.
for i in $(seq 1 "$KILLS"); do
	echo "queued extra $i" > body.txt
	rc=0
	"${A[@]}" send --to bob#b.test --subject "x$i" --body-file body.txt > send.out 2>&1 || rc=$?
	[[ $rc -eq 75 ]] && queued+=("x$i") || fail "send x$i: exit $rc $(head -c 300 send.out)"
done
"${A[@]}" --json outbox > outbox.json
N_OUTBOX=$(grep -c '"id"' outbox.json || true)
SEND_KILLED=$killed
[[ $bad -eq 0 ]] && pass "outbox opened after $killed kills in $KILLS sends; holds $N_OUTBOX (${#queued[@]} finished sends)" ||
	fail "$bad outbox checks failed"

# ---- 3. flush once the recipient is back, killed mid-delivery ---------------
start_smimpd "$SMIMPD" b.conf b.log b.test "$PB" || { echo "FAIL: b.test restart" >&2; exit 1; }
BPID=$LAST_PID
flush_killed=0
for i in $(seq 1 "$KILLS"); do
	run_killed $((100 + 15 * ${#queued[@]})) flush.out "${A[@]}" outbox flush
	flush_killed=$((flush_killed + KILLED))
	opens "flush kill $i: outbox opens" "${A[@]}" outbox || true
	grep -q "is empty" check.out && break
done
opens "final flush" "${A[@]}" outbox flush || true
opens "outbox after the final flush" "${A[@]}" outbox
grep -q "is empty" check.out && pass "outbox empty after the final flush" ||
	fail "outbox not empty: $(head -c 300 check.out)"
FLUSH_KILLED=$flush_killed

# Bob's mailbox: every subject q* counted.
"${B[@]}" --json list --all > blist.json 2>blist.err || fail "bob list: $(head -c 300 blist.err)"
: > subjects
for id in $(grep -o '"message_id": *"[0-9a-f]*"' blist.json | grep -o '[0-9a-f]\{64\}'); do
	"${B[@]}" read "$id" > read.out 2>&1 || { fail "bob read $id: $(head -c 300 read.out)"; continue; }
	grep -q '^Status *VALID' read.out || fail "message $id not VALID"
	sed -n 's/^Subject *//p' read.out >> subjects
done
DELIVERED=$(wc -l < subjects)
twice=0
for s in "${queued[@]}"; do
	c=$(grep -cx "$s" subjects || true)
	[[ $c -ge 1 && $c -le 2 ]] || fail "queued message $s delivered $c times (want 1 or 2)"
	[[ $c -eq 2 ]] && twice=$((twice + 1))
done
for s in $(sort subjects | uniq -c | awk '$1 > 2 {print $2}'); do
	fail "message $s delivered more than twice"
done
[[ $DELIVERED -ge $N_OUTBOX ]] && pass "every one of the $N_OUTBOX outbox entries delivered ($DELIVERED envelopes, $twice finished sends twice)" ||
	fail "delivered $DELIVERED, outbox held $N_OUTBOX"

{
	echo "refill_kills=$REFILL_KILLED"
	echo "send_kills=$SEND_KILLED"
	echo "flush_kills=$FLUSH_KILLED"
	echo "outbox_entries=$N_OUTBOX"
	echo "delivered=$DELIVERED"
	echo "delivered_twice=$twice"
} > figures
cat figures
[[ -n ${CRASH_FIGURES:-} ]] && cp figures "$CRASH_FIGURES"
lib_finish a.log b.log
