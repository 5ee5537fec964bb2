#!/usr/bin/env bash
# smimp end to end against a real smimpd for a.test over real TLS: init of
# alice#a.test with the operator's one-time password (keystore 0600,
# history published and pinned), a wrong passphrase, whois from a second
# home (first contact, then unchanged), pins (list, show, --json, forget),
# init resumed after a wrong password, a second account in one home (keys:
# login, server key lists checked, logout), and a
# pinned identity whose history the server replaced (refused, exit 10).
# Usage: smimp_client_basics.sh PATH_TO_SMIMP PATH_TO_SMIMPD
set -euo pipefail

SMIMP=$(cd "$(dirname "${1:?usage: $0 SMIMP SMIMPD}")" && pwd)/$(basename "$1")
SMIMPD=$(cd "$(dirname "${2:?usage: $0 SMIMP SMIMPD}")" && pwd)/$(basename "$2")
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY SMIMP_PASSPHRASE
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lib_init smimp_client_basics
export SMIMP_KDF=interactive   # fast Argon2id for tests only


make_certs
PORT=$(pick_port)
write_conf() {
	cat > smimpd.conf <<EOC
domain = a.test
listen = 127.0.0.1:$PORT
public_url = https://a.test:$PORT/
tls_cert = $TMP/srv.pem
tls_key = $TMP/srv.key
database = sqlite:$1
allow_private_addresses = true
EOC
}
write_conf "$TMP/smimpd.db"
start_smimpd "$SMIMPD" smimpd.conf server.log a.test "$PORT" || {
	echo "FAIL: smimpd did not start" >&2
	exit 1
}
SPID=$LAST_PID
TLS=(--cacert ca.pem --connect-to "a.test:443:127.0.0.1:$PORT"
     --connect-to "a.test:$PORT:127.0.0.1:$PORT")
HA=$TMP/alice-home
HB=$TMP/bob-home
echo "correct horse battery staple" > pass.txt
echo "wrong passphrase" > wrongpass.txt

"$SMIMPD" --config smimpd.conf account add alice#a.test > alice.pw
"$SMIMPD" --config smimpd.conf account add carol#a.test > carol.pw
echo "00000000000000000000000000000000" > bad.pw

# ---- init ----------------------------------------------------------------
expect_rc "init with a wrong one-time password" 77 \
	"$SMIMP" --home "$HA" "${TLS[@]}" --passphrase-file pass.txt \
	init alice#a.test --password-file bad.pw --ephemeral 20
grep -q "run smimp init alice#a.test again" last.err &&
	pass "wrong password: says how to retry" || fail "retry advice: $(cat last.err)"
[[ -f $HA/accounts/alice#a.test/keystore ]] && pass "keystore written before the call" ||
	fail "no keystore after the failed call"
expect_rc "init resumed with the right password" 0 \
	"$SMIMP" --home "$HA" "${TLS[@]}" --passphrase-file pass.txt \
	init Alice#A.test --password-file alice.pw --name "Alice Liddell"
grep -q "alice#a.test is ready" last.out && pass "init reports ready" ||
	fail "init output: $(cat last.out)"
grep -q "resuming" last.err && pass "init said it resumed" || fail "no resume: $(cat last.err)"
KS=$HA/accounts/alice#a.test/keystore
[[ $(stat -c %a "$KS") == 600 ]] && pass "keystore is 0600" || fail "keystore mode $(stat -c %a "$KS")"
if grep -q "secret_key\|Alice Liddell\|$(cat alice.pw)" "$KS"; then
	fail "keystore holds plaintext"
else
	pass "keystore is encrypted"
fi
ls "$HA/accounts/alice#a.test/" | grep -q tmp && fail "temporary file left behind" || true
expect_rc "second init refused" 73 \
	"$SMIMP" --home "$HA" "${TLS[@]}" --passphrase-file pass.txt \
	init alice#a.test --password-file alice.pw
"$SMIMPD" --config smimpd.conf account list | grep -q "^alice#a.test	initialized" &&
	pass "server lists alice as initialized" ||
	fail "server account list: $("$SMIMPD" --config smimpd.conf account list)"
expect_rc "wrong keystore passphrase" 77 \
	"$SMIMP" --home "$HA" "${TLS[@]}" --passphrase-file wrongpass.txt \
	init alice#a.test --password-file alice.pw
grep -q "wrong passphrase" last.err && pass "wrong passphrase said plainly" ||
	fail "wrong passphrase message: $(cat last.err)"
grep -q "$(cat alice.pw)\|correct horse" last.err server.log &&
	fail "a secret appears in a message or log" || pass "no secret in messages or logs"

# ---- whois and pins ------------------------------------------------------
expect_rc "whois from a second home: first contact" 0 \
	"$SMIMP" --home "$HB" "${TLS[@]}" whois alice#a.test
grep -q "pin          new: pinned now" last.out && pass "first contact pinned" ||
	fail "whois output: $(cat last.out)"
grep -q "name         Alice Liddell" last.out && pass "whois shows the name" ||
	fail "whois name: $(cat last.out)"
ALICE_KEY=$(awk '/public key/ {print $3}' last.out)
expect_rc "whois again: unchanged" 0 \
	"$SMIMP" --home "$HB" "${TLS[@]}" --json whois alice#a.test
grep -q '"change": "unchanged"' last.out && pass "second whois: pin unchanged" ||
	fail "whois --json: $(head -c 600 last.out)"
grep -q "\"public_key\": \"$ALICE_KEY\"" last.out && pass "same key in JSON" ||
	fail "key $ALICE_KEY not in JSON"
expect_rc "pins lists alice" 0 "$SMIMP" --home "$HB" pins
grep -q "^alice#a.test	seq 0	$ALICE_KEY" last.out && pass "pins line" ||
	fail "pins: $(cat last.out)"
expect_rc "pins ADDRESS" 0 "$SMIMP" --home "$HB" pins ALICE#a.test
grep -q "current key         $ALICE_KEY" last.out && pass "pin details" ||
	fail "pins ADDRESS: $(cat last.out)"
expect_rc "pins --json" 0 "$SMIMP" --home "$HB" pins --json
grep -q '"latest_seq": 0' last.out && pass "pins --json" || fail "pins --json: $(cat last.out)"
expect_rc "pins of an unknown address" 66 "$SMIMP" --home "$HB" pins nobody#a.test
expect_rc "alice's own home pinned her identity" 0 "$SMIMP" --home "$HA" pins alice#a.test

# ---- two accounts in one home --------------------------------------------
expect_rc "init carol in alice's home" 0 \
	"$SMIMP" --home "$HA" "${TLS[@]}" --passphrase-file pass.txt \
	init carol#a.test --password-file carol.pw --ephemeral 0
expect_rc "accounts lists both" 0 "$SMIMP" --home "$HA" accounts
[[ $(cat last.out) == $'alice#a.test\ncarol#a.test' ]] && pass "accounts output" ||
	fail "accounts: $(cat last.out)"

expect_rc "several accounts need --account" 64 \
	"$SMIMP" --home "$HA" "${TLS[@]}" --passphrase-file pass.txt keys
grep -q "choose one with --account" last.err && pass "says to use --account" ||
	fail "several accounts: $(cat last.err)"
expect_rc "keys: login, server key lists checked, logout" 0 \
	"$SMIMP" --home "$HA" "${TLS[@]}" --passphrase-file pass.txt \
	--account alice#a.test --json keys
grep -q '"ephemeral_unissued": 20' last.out && grep -q '"nonephemeral_current": true' last.out &&
	pass "keys: 20 unissued ephemeral keys, our non-ephemeral key" ||
	fail "keys: $(cat last.out)"

# ---- a replaced identity is refused ---------------------------------------
# The server loses its database and alice is created anew with other keys:
# bob's pin must refuse the new history.
stop_smimpd "$SPID"
write_conf "$TMP/smimpd2.db"
"$SMIMPD" --config smimpd.conf account add alice#a.test > alice2.pw
start_smimpd "$SMIMPD" smimpd.conf server.log a.test "$PORT" || {
	echo "FAIL: smimpd did not restart" >&2
	exit 1
}
HC=$TMP/mallory-home
expect_rc "impostor init" 0 \
	"$SMIMP" --home "$HC" "${TLS[@]}" --passphrase-file pass.txt \
	init alice#a.test --password-file alice2.pw --ephemeral 1
expect_rc "replaced history refused" 10 \
	"$SMIMP" --home "$HB" "${TLS[@]}" whois alice#a.test
grep -q "smimp pins forget alice#a.test" last.err && pass "refusal says what to do" ||
	fail "refusal message: $(cat last.err)"
expect_rc "the pin is kept" 0 "$SMIMP" --home "$HB" pins alice#a.test
grep -q "current key         $ALICE_KEY" last.out && pass "pin unchanged after refusal" ||
	fail "pin after refusal: $(cat last.out)"
expect_rc "pins forget" 0 "$SMIMP" --home "$HB" pins forget alice#a.test
expect_rc "whois after forget pins the new identity" 0 \
	"$SMIMP" --home "$HB" "${TLS[@]}" whois alice#a.test
grep -q "pin          new" last.out && pass "new pin after forget" || fail "$(cat last.out)"

lib_finish server.log
