#!/usr/bin/env bash
# Concurrent smimp commands against one home (the keystore lock): each
# command loads the keystore, changes it and saves it whole, so without
# the lock the later save drops the earlier one's change, such as the
# secrets of ephemeral keys another refill had already uploaded.
#   1. rounds of 4 `keys refill` at once: all exit 0, no key is lost
#      (every key made is held, uploaded and listed by the server), and
#      `keys` exits 0 (every key the server lists has its secret here);
#   2. 3 `read` (each marks its ephemeral key used) at once with 2
#      `keys refill`: all VALID, the used keys stay marked, nothing lost;
#   3. mail sent to the keys of the concurrent refills reads VALID;
#   4. the lock: a command waits for a holder, a killed holder never
#      blocks, and after SMC_KS_LOCK_TIMEOUT (30 s) the waiter gives up
#      with exit 75 naming the lock file.
# Usage: smimp_client_keystore_race.sh SMIMP SMIMPD. KS_RACE_ROUNDS
# (default 4) rounds in part 1.
set -euo pipefail

abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
SMIMP=$(abs "${1:?usage: $0 SMIMP SMIMPD}")
SMIMPD=$(abs "${2:?usage: $0 SMIMP SMIMPD}")
ROUNDS=${KS_RACE_ROUNDS:-4}
PARALLEL=4
PER_REFILL=20
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY SMIMP_PASSPHRASE
command -v python3 >/dev/null || { echo "FAIL: python3 needed to hold the lock" >&2; exit 1; }
command -v jq >/dev/null || { echo "FAIL: jq needed" >&2; exit 1; }
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lib_init smimp_client_keystore_race
export SMIMP_KDF=interactive   # fast Argon2id for tests only

make_certs
start_two_domains "$SMIMPD" "pow_zero_bits = 4
threads = 8"
echo "pass phrase" > pass.txt
HA=$TMP/h-alice
A=("$SMIMP" --home "$HA" "${TLS_ARGS[@]}" --passphrase-file pass.txt)
B=("$SMIMP" --home "$TMP/h-bob" "${TLS_ARGS[@]}" --passphrase-file pass.txt)
"$SMIMPD" --config a.conf account add alice#a.test > alice.pw
"$SMIMPD" --config b.conf account add bob#b.test > bob.pw
expect_rc "init alice#a.test with 5 ephemeral keys" 0 \
	"${A[@]}" init alice#a.test --password-file alice.pw --ephemeral 5
expect_rc "init bob#b.test" 0 "${B[@]}" init bob#b.test --password-file bob.pw --ephemeral 5
LOCK=$HA/accounts/alice#a.test/keystore.lock

# parallel NAME CMD_1 ... CMD_K (each a string of arguments to alice's
# smimp, run at the same moment): every one must exit 0; outputs in
# par.N.out.
parallel() {
	local name=$1 pids=() i rc cmd bad=0
	shift
	i=0
	for cmd in "$@"; do
		# shellcheck disable=SC2086 # cmd is a list of words
		"${A[@]}" $cmd > "par.$i.out" 2>&1 &
		pids+=($!)
		i=$((i + 1))
	done
	for i in "${!pids[@]}"; do
		rc=0
		wait "${pids[$i]}" || rc=$?
		if [[ $rc -ne 0 ]]; then
			fail "$name: command $i exit $rc: $(head -c 400 "par.$i.out")"
			bad=1
		fi
	done
	return $bad
}

# held NAME LIVE DISCARDED: alice's `keys` exits 0 (every key the server
# lists is one whose secret the keystore holds), LIVE keys are held (all
# uploaded, the server lists exactly those) and DISCARDED marked used.
held() {
	local name=$1 live=$2 discarded=$3 rc=0
	"${A[@]}" --json keys > keys.json 2> keys.err || rc=$?
	if [[ $rc -ne 0 ]]; then
		fail "$name: keys exit $rc: $(head -c 400 keys.err)"
	elif jq -e --argjson l "$live" --argjson d "$discarded" \
		'.local.ephemeral == $l and .local.ephemeral_uploaded == $l and
		 .server.ephemeral_unissued == $l and .server.ephemeral_foreign == 0 and
		 .local.ephemeral_discarded == $d' keys.json > /dev/null; then
		pass "$name: $live keys held and listed, $discarded used"
	else
		fail "$name: want $live held and listed, $discarded used: $(jq -c '{local, server}' keys.json)"
	fi
}

# ---- 1. concurrent refills -------------------------------------------------
live=5
for r in $(seq 1 "$ROUNDS"); do
	cmds=()
	for _ in $(seq 1 "$PARALLEL"); do cmds+=("keys refill $PER_REFILL"); done
	parallel "round $r: $PARALLEL refills at once" "${cmds[@]}" &&
		pass "round $r: $PARALLEL refills at once all exit 0"
	live=$((live + PARALLEL * PER_REFILL))
	held "round $r" "$live" 0
done

# ---- 2. reads (each marks its key used) at once with refills ---------------
for i in 1 2 3; do
	"${B[@]}" sms alice#a.test "before the race $i" > sms.out 2>&1 ||
		fail "bob -> alice sms $i: $(head -c 300 sms.out)"
done
live=$((live - 3))   # issued to bob: the server no longer lists them
"${A[@]}" --json list --type short-message --all > list.json 2> list.err ||
	fail "alice list: $(head -c 300 list.err)"
mapfile -t ids < <(jq -r '.. | .message_id? // empty' list.json)
[[ ${#ids[@]} -eq 3 ]] || fail "alice lists ${#ids[@]} messages, want 3"
if parallel "3 reads with 2 refills" "read ${ids[0]}" "keys refill $PER_REFILL" \
	"read ${ids[1]}" "keys refill $PER_REFILL" "read ${ids[2]}"; then
	valid=$(cat par.0.out par.2.out par.4.out | grep -c '^Status *VALID' || true)
	[[ $valid -eq 3 ]] && pass "3 reads with 2 refills at once: all VALID" ||
		fail "$valid of 3 reads VALID: $(head -c 400 par.0.out)"
fi
live=$((live + 2 * PER_REFILL))
held "reads and refills" "$live" 3

# ---- 3. mail to the keys the concurrent refills made -----------------------
for i in 1 2 3; do
	"${B[@]}" sms alice#a.test "after the race $i" > sms.out 2>&1 ||
		fail "bob -> alice sms after $i: $(head -c 300 sms.out)"
done
"${A[@]}" --json list --type short-message --all > list.json 2> list.err ||
	fail "alice list: $(head -c 300 list.err)"
valid=0
for id in $(jq -r '.. | .message_id? // empty' list.json); do
	"${A[@]}" read "$id" > read.out 2>&1 && grep -q '^Status *VALID' read.out &&
		valid=$((valid + 1))
done
[[ $valid -eq 6 ]] && pass "alice reads all 6 messages VALID" ||
	fail "alice read $valid of 6 VALID: $(head -c 400 read.out)"
live=$((live - 3))
held "after reading the mail" "$live" 6

# ---- 4. the lock itself ----------------------------------------------------
# hold SECONDS: another process takes the keystore's lock (fcntl, as smimp
# does) and holds it SECONDS; HOLDER is its pid once the lock is taken.
cat > hold.py <<'EOP'
import fcntl, sys, time
f = open(sys.argv[1], "a")
fcntl.lockf(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(float(sys.argv[3]))
EOP
hold() {
	rm -f held.flag
	python3 hold.py "$LOCK" held.flag "$1" &
	HOLDER=$!
	LIB_PIDS+=("$HOLDER")
	for _ in $(seq 1 100); do [[ -e held.flag ]] && return 0; sleep 0.05; done
	fail "the lock holder did not start"
}
now_ms() { date +%s%3N; }

hold 3
t=$(now_ms)
expect_rc "refill while another process holds the lock 3 s: waits, then works" 0 \
	"${A[@]}" keys refill 1
waited=$(($(now_ms) - t))
[[ $waited -ge 2000 ]] && pass "it waited ($waited ms)" || fail "it did not wait for the lock ($waited ms)"
wait "$HOLDER" || true

hold 600
kill -KILL "$HOLDER"
wait "$HOLDER" 2>/dev/null || true
t=$(now_ms)
expect_rc "refill after the lock holder was killed: a dead holder's lock is gone" 0 \
	"${A[@]}" keys refill 1
waited=$(($(now_ms) - t))
[[ $waited -lt 10000 ]] && pass "no wait for the dead holder ($waited ms)" ||
	fail "waited $waited ms for a dead holder"
held "after the lock checks" "$((live + 2))" 6

hold 60
expect_rc "refill while the lock is held longer than 30 s: gives up" 75 \
	"${A[@]}" keys refill 1
grep -qF "$LOCK" last.err && pass "the error names the lock file: $(tail -n 1 last.err)" ||
	fail "the error does not name $LOCK: $(cat last.err)"
kill -KILL "$HOLDER"
wait "$HOLDER" 2>/dev/null || true
held "after the timeout (nothing changed)" "$((live + 2))" 6

lib_finish a.log b.log
