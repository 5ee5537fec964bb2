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
#      with exit 75 naming the lock file (keys refill and keys import);
#   5. keys import: two imports started while the test holds the lock
#      both wait for it (they do not write the imported file unlocked),
#      and afterwards both entries are there;
#   6. keys maintain: two automatic top-ups held at the lock top up once,
#      to 50 keys, not twice;
#   7. commands run one after another: a rotate-master-key the server
#      refused leaves keystore.rotating; keys refill, mail to a refilled
#      key, then the resumed rotation: the refilled keys are kept (the
#      resume does not bring back the keystore of its first run) and the
#      mail reads VALID.
# Parts 5 and 6 know a command is waiting for the lock the test holds
# when the lock file is among its open files (smimp opens it only to take
# the lock), so no timing is guessed.
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
SRV_CONF="pow_zero_bits = 4
threads = 8"
start_two_domains "$SMIMPD" "$SRV_CONF"
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
used=6
held "after reading the mail" "$live" "$used"

# Two secret keys for alice to import (parts 4 and 5). Read first: the
# read marks their ephemeral keys used, so that an import takes the lock
# for its own file only.
for i in 1 2; do
	"${B[@]}" send-key alice#a.test --xsalsa20 --note "vault $i" > sk.out 2>&1 ||
		fail "bob -> alice send-key $i: $(head -c 300 sk.out)"
done
"${A[@]}" --json list --type secret-xsalsa20 --all > list.json 2> list.err ||
	fail "alice list secret keys: $(head -c 300 list.err)"
mapfile -t kids < <(jq -r '.. | .message_id? // empty' list.json)
[[ ${#kids[@]} -eq 2 ]] || fail "alice lists ${#kids[@]} secret keys, want 2"
for id in "${kids[@]}"; do
	"${A[@]}" read "$id" > read.out 2>&1 && grep -q '^Status *VALID' read.out ||
		fail "alice read secret key $id: $(head -c 300 read.out)"
done
live=$((live - 2))
used=$((used + 2))
held "after reading the secret keys" "$live" "$used"

# ---- 4. the lock itself ----------------------------------------------------
# hold SECONDS [LOCKFILE]: another process takes the lock (fcntl, as smimp
# does) on LOCKFILE (alice's keystore.lock by default) and holds it
# SECONDS; HOLDER is its pid once the lock is taken.
cat > hold.py <<'EOP'
import fcntl, sys, time
f = open(sys.argv[1], "a")
fcntl.lockf(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(float(sys.argv[3]))
EOP
hold() {
	rm -f held.flag
	python3 hold.py "${2:-$LOCK}" held.flag "$1" &
	HOLDER=$!
	LIB_PIDS+=("$HOLDER")
	for _ in $(seq 1 100); do [[ -e held.flag ]] && return 0; sleep 0.05; done
	fail "the lock holder did not start"
}
# release: the holder is killed; the kernel drops its lock.
release() {
	kill -KILL "$HOLDER"
	wait "$HOLDER" 2>/dev/null || true
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
live=$((live + 2))
held "after the lock checks" "$live" "$used"

hold 60
"${A[@]}" keys import "${kids[0]}" > imp.out 2> imp.err &
IMP=$!
expect_rc "refill while the lock is held longer than 30 s: gives up" 75 \
	"${A[@]}" keys refill 1
grep -qF "$LOCK" last.err && pass "the error names the lock file: $(tail -n 1 last.err)" ||
	fail "the error does not name $LOCK: $(cat last.err)"
rc=0
wait "$IMP" || rc=$?
[[ $rc -eq 75 ]] && grep -qF "$LOCK" imp.err &&
	pass "keys import at the same time gives up too (exit 75 naming the lock)" ||
	fail "keys import while the lock is held 60 s: exit $rc, want 75 naming $LOCK: $(cat imp.err imp.out)"
release
held "after the timeout (nothing changed)" "$live" "$used"

# waiting LOCKFILE PID...: true once every PID has LOCKFILE open, i.e. is
# waiting for the lock the test holds; false as soon as one has ended
# without opening it, or after 30 s.
waiting() {
	local lock=$1 pid st all
	shift
	for _ in $(seq 1 600); do
		all=1
		for pid in "$@"; do
			read -r _ _ st _ 2>/dev/null < "/proc/$pid/stat" || st=X
			[[ $st == Z || $st == X ]] && return 1
			find "/proc/$pid/fd" -lname "$lock" 2>/dev/null | grep -q . || all=0
		done
		[[ $all -eq 1 ]] && return 0
		sleep 0.05
	done
	return 1
}
# bg CMD...: CMD in the background as command N of BG (its pid is
# ${BG[N]}), standard output in bg.N.out, standard error in bg.N.err.
bg() {
	local n=${#BG[@]}
	"$@" > "bg.$n.out" 2> "bg.$n.err" &
	BG+=($!)
}
# bg_wait NAME: every command of BG must exit 0.
bg_wait() {
	local i rc
	for i in "${!BG[@]}"; do
		rc=0
		wait "${BG[$i]}" || rc=$?
		[[ $rc -eq 0 ]] && pass "$1: command $i exit 0" ||
			fail "$1: command $i exit $rc: $(head -c 400 "bg.$i.err")"
	done
}

# ---- 5. keys import writes its file under the lock --------------------------
hold 600
BG=()
bg "${A[@]}" keys import "${kids[0]}"
bg "${A[@]}" keys import "${kids[1]}"
if waiting "$LOCK" "${BG[@]}"; then
	pass "two keys import wait for the keystore lock held by another process"
else
	fail "a keys import did not wait for the keystore lock: $(head -c 300 bg.0.err) $(head -c 300 bg.1.err)"
fi
release
bg_wait "two imports at once"
grep -q "imported a secret-xsalsa20 key from bob#b.test" bg.0.out &&
	grep -q "imported a secret-xsalsa20 key from bob#b.test" bg.1.out &&
	pass "both imports say what they imported" || fail "imports: $(cat bg.0.out bg.1.out)"
for i in 0 1; do
	expect_rc "key $i is in the imported file: importing it again is refused" 73 \
		"${A[@]}" keys import "${kids[$i]}"
done

# ---- 6. two automatic top-ups at once --------------------------------------
HD=$TMP/h-dave
D=("$SMIMP" --home "$HD" "${TLS_ARGS[@]}" --passphrase-file pass.txt)
"$SMIMPD" --config a.conf account add dave#a.test > dave.pw
expect_rc "init dave#a.test with 5 ephemeral keys" 0 \
	"${D[@]}" init dave#a.test --password-file dave.pw --ephemeral 5
DLOCK=$HD/accounts/dave#a.test/keystore.lock
hold 600 "$DLOCK"
BG=()
bg "${D[@]}" --json keys maintain
bg "${D[@]}" --json keys maintain
waiting "$DLOCK" "${BG[@]}" &&
	pass "two keys maintain wait for the lock (5 keys on the server)" ||
	fail "a keys maintain did not wait for the lock: $(head -c 300 bg.0.err) $(head -c 300 bg.1.err)"
release
bg_wait "two top-ups at once"
added=$(jq -s 'map(.refilled) | add' bg.0.out bg.1.out 2>/dev/null || echo "?")
[[ $added == 45 ]] && pass "45 keys added in all: one top-up, the other saw it" ||
	fail "the top-ups added $added keys, want 45: $(cat bg.0.out bg.1.out)"
"${D[@]}" --json keys > keys.json 2> keys.err || fail "dave keys: $(head -c 300 keys.err)"
jq -e '.server.ephemeral_unissued == 50 and .local.ephemeral == 50' keys.json > /dev/null &&
	pass "the server holds 50 keys of dave, the target, not more" ||
	fail "after two top-ups: $(jq -c '{local, server}' keys.json)"

# ---- 7. a resumed rotate-master-key keeps the keys added meanwhile ----------
# restart_a EXTRA: a.test again, with EXTRA configuration lines.
restart_a() {
	stop_smimpd "$APID"
	domain_conf a a.test "$PA" "$SRV_CONF${1:+
$1}"
	start_smimpd "$SMIMPD" a.conf a.log a.test "$PA" ||
		{ echo "FAIL: a.test did not restart" >&2; exit 1; }
	APID=$LAST_PID
}
HC=$TMP/h-carol
C=("$SMIMP" --home "$HC" "${TLS_ARGS[@]}" --passphrase-file pass.txt)
CKS=$HC/accounts/carol#a.test
"$SMIMPD" --config a.conf account add carol#a.test > carol.pw
expect_rc "init carol#a.test with no ephemeral key" 0 \
	"${C[@]}" init carol#a.test --password-file carol.pw --ephemeral 0
# The server refuses the update (too many keys): the rotation stops after
# writing keystore.rotating, as after a crash or a lost connection.
restart_a "max_ephemeral_keys = 20"
expect_rc "rotate-master-key refused by the server" 69 \
	"${C[@]}" rotate-master-key --ephemeral 21
grep -q "run smimp rotate-master-key again to finish" last.err && [[ -e $CKS/keystore.rotating ]] &&
	pass "the unfinished rotation is kept in keystore.rotating" ||
	fail "no unfinished rotation: $(cat last.err)"
expect_rc "carol refills 3 keys meanwhile (her old key still logs in)" 0 \
	"${C[@]}" keys refill 3
"${B[@]}" sms carol#a.test "to a refilled key" > sms.out 2>&1 ||
	fail "bob -> carol sms: $(head -c 300 sms.out)"
restart_a ""
expect_rc "rotate-master-key again resumes and finishes" 0 \
	"${C[@]}" --json rotate-master-key
jq -e '.resumed == true and .seq == 1' last.out > /dev/null &&
	pass "resumed: record 1 with the new key" || fail "resume: $(cat last.out)"
[[ ! -e $CKS/keystore.rotating ]] && pass "keystore.rotating is gone" ||
	fail "keystore.rotating left behind"
"${C[@]}" --json keys > keys.json 2> keys.err || fail "carol keys: $(head -c 300 keys.err)"
jq -e '.local.ephemeral == 21 and .server.ephemeral_unissued == 21 and
	.local.ephemeral_discarded == 3 and .server.ephemeral_foreign == 0' keys.json > /dev/null &&
	pass "the 3 refilled keys are kept (discarded, 30 days) beside the 21 new ones" ||
	fail "after the resumed rotation: $(jq -c '{local, server}' keys.json)"
"${C[@]}" --json list --type short-message > list.json 2> list.err ||
	fail "carol list: $(head -c 300 list.err)"
id=$(jq -r '[.. | .message_id? // empty][0] // empty' list.json)
expect_rc "carol reads bob's message to a refilled key" 0 "${C[@]}" read "${id:-none}"
grep -q '^Status *VALID' last.out && grep -q "to a refilled key" last.out &&
	pass "the message to a refilled key reads VALID after the rotation" ||
	fail "read after the rotation: $(head -c 400 last.out)"

lib_finish a.log b.log
