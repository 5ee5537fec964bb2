#!/usr/bin/env bash
# smimp account management end to end against two real smimpd (a.test,
# b.test) over real TLS with a test CA: keys status/refill/rotate/maintain,
# a recipient whose ephemeral keys ran out (non-ephemeral fallback, drawn
# with smimp-testclient + curl), whitelist/blacklist with encrypted notes
# (a blacklisted sender refused at get_message_key), quota, profile
# show/set, avatar set/get/delete (a tampered avatar refused), keys import
# of a received secret key, and rotate-master-key: the second home holding
# a pin of the old identity follows it, the new key logs in, notes made
# under the old key still open.
# Usage: smimp_client_account.sh SMIMP SMIMPD SMIMP_TESTCLIENT
set -euo pipefail

abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
SMIMP=$(abs "${1:?usage: $0 SMIMP SMIMPD TESTCLIENT}")
SMIMPD=$(abs "${2:?usage: $0 SMIMP SMIMPD TESTCLIENT}")
TC=$(abs "${3:?usage: $0 SMIMP SMIMPD TESTCLIENT}")
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY SMIMP_PASSPHRASE
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lib_init smimp_client_account
export SMIMP_KDF=interactive   # fast Argon2id for tests only

# jq_is NAME FILE EXPR: EXPR must be true of FILE's JSON.
jq_is() {
	if jq -e "$3" "$2" >/dev/null 2>&1; then
		pass "$1"
	else
		fail "$1: $(head -c 600 "$2") is not $3"
	fi
}
has() { # has NAME FILE REGEX
	if grep -qE "$3" "$2"; then pass "$1"; else fail "$1: $(head -c 600 "$2")"; fi
}

make_certs
start_two_domains "$SMIMPD" "max_avatar_bytes = 1k
pow_zero_bits = 4
threads = 4"

CONNECT=(--connect-to "a.test:$PA:127.0.0.1:$PA")
echo "alice's passphrase" > apass.txt
echo "bob's passphrase" > bpass.txt
HA=$TMP/alice-home
HB=$TMP/bob-home
A=("$SMIMP" --home "$HA" "${TLS_ARGS[@]}" --passphrase-file apass.txt)
B=("$SMIMP" --home "$HB" "${TLS_ARGS[@]}" --passphrase-file bpass.txt)
BASE=https://a.test:$PA

# api METHOD PATH SESSION|- [BODY]: ST = status, BODY = response body (a.test).
api() {
	local m=$1 p=$2 s=$3 b=${4-}
	local args=(-X "$m")
	[[ $s != - ]] && args+=(-H "SMIMP-Authentication: $s")
	if [[ $# -ge 4 ]]; then
		printf '%s' "$b" > api.req
		args+=(-H 'Content-Type: application/json' --data-binary @api.req)
	fi
	ST=$(curl -sS -o api.out -w '%{http_code}' --cacert ca.pem \
		"${CONNECT[@]}" "${args[@]}" "$BASE/0.1/$p") || ST=curl-error
	BODY=$(cat api.out)
}
# tc_account LOCAL SEED: a seeded account on a.test (smimp-testclient),
# logged in: SESS_LOCAL.
tc_account() {
	local a="$1#a.test" pw token
	pw=$("$SMIMPD" --config a.conf account add "$a")
	api POST "initialize_account/$1%23a.test" - "$("$TC" init-body "$a" "$pw" "$2" 1)"
	[[ $ST == 200 ]] || { fail "initialize $a: $ST $BODY"; return 1; }
	api GET "create_session/$1%23a.test" -
	token=$(jq -r .token <<<"$BODY")
	api POST "create_session/$1%23a.test" - "$("$TC" login-body "$BASE" "$a" "$token" "$2")"
	[[ $ST == 200 ]] || { fail "login $a: $ST $BODY"; return 1; }
	printf -v "SESS_$1" '%s' "$(jq -r .session <<<"$BODY")"
}
# draw SESSION: one get_message_key for alice; KIND = ephemeral|nonephemeral.
draw() {
	api POST get_message_key "$1" '{"address":"alice#a.test"}'
	KIND=$(jq -r 'if .non_ephemeral then "nonephemeral" else "ephemeral" end' <<<"$BODY" 2>/dev/null || echo "?")
	KEY=$(jq -r .message_key.key <<<"$BODY" 2>/dev/null || echo "?")
}

# ---- accounts --------------------------------------------------------------
"$SMIMPD" --config a.conf account add alice#a.test > alice.pw
"$SMIMPD" --config b.conf account add bob#b.test > bob.pw
expect_rc "init alice#a.test with 3 ephemeral keys" 0 \
	"${A[@]}" init alice#a.test --password-file alice.pw --ephemeral 3 --name Alice
expect_rc "init bob#b.test" 0 "${B[@]}" init bob#b.test --password-file bob.pw --ephemeral 5
tc_account carol 7
tc_account dave 8

# ---- keys status and refill --------------------------------------------------
expect_rc "keys status" 0 "${A[@]}" --json keys
cp last.out k0.json
jq_is "status: 3 unissued, all uploaded, our current non-ephemeral key" k0.json \
	'.server.ephemeral_unissued == 3 and .local.ephemeral_uploaded == 3 and
	 .local.ephemeral_not_uploaded == 0 and .server.nonephemeral_current and
	 .local.nonephemeral_age_seconds >= 0 and .local.nonephemeral_age_seconds < 600'
NE0=$(jq -r .local.nonephemeral_key k0.json)
expect_rc "keys status (text)" 0 "${A[@]}" keys
has "text status names unissued keys and the key age" last.out "3 not issued yet.*low" 
has "text status shows the non-ephemeral age" last.out "non-ephemeral key +$NE0, made .* old"
expect_rc "keys refill 4" 0 "${A[@]}" keys refill 4
has "refill says what it did" last.out "^4 new ephemeral keys; the server now holds 7 unissued"
expect_rc "status after refill" 0 "${A[@]}" --json keys
jq_is "7 unissued after refill" last.out '.server.ephemeral_unissued == 7 and .local.ephemeral == 7'
expect_rc "refill with a bad N" 64 "${A[@]}" keys refill 0
expect_rc "unknown keys subcommand" 64 "${A[@]}" keys frobnicate

# ---- a recipient whose ephemeral keys ran out ---------------------------------
for i in 1 2 3 4 5 6 7; do
	draw "$SESS_carol"
	[[ $ST == 200 && $KIND == ephemeral ]] || fail "draw $i: $ST $KIND $BODY"
done
pass "carol drew alice's 7 ephemeral keys"
draw "$SESS_carol"
if [[ $ST == 200 && $KIND == nonephemeral && $KEY == "$NE0" ]] &&
	jq -e '.message_key.kind == "nonephemeral"' api.out >/dev/null; then
	pass "keys ran out: get_message_key falls back to alice's non-ephemeral key"
else
	fail "fallback: $ST $KIND $KEY (want $NE0) $BODY"
fi
expect_rc "status with no keys left" 0 "${A[@]}" --json keys
jq_is "server: 0 unissued" last.out '.server.ephemeral_unissued == 0'
expect_rc "keys refill (default 50)" 0 "${A[@]}" --json keys refill
jq_is "refill: 50 added, 50 unissued, the 7 issued ones discarded" last.out \
	'.added == 50 and .unissued == 50 and .discarded == 7'
expect_rc "status after the refill" 0 "${A[@]}" --json keys
jq_is "7 discarded keys kept, 50 live" last.out \
	'.local.ephemeral_discarded == 7 and .local.ephemeral == 50 and .server.ephemeral_unissued == 50'
draw "$SESS_carol"
[[ $ST == 200 && $KIND == ephemeral ]] && pass "ephemeral keys are handed out again" ||
	fail "after refill: $ST $KIND"

# ---- automatic top-up ------------------------------------------------------------
expect_rc "keys maintain: nothing to do" 0 "${A[@]}" --json keys maintain
jq_is "no refill at 49, key fresh" last.out '.refilled == 0 and .rotated == false'
for i in $(seq 1 11); do draw "$SESS_carol"; done
for i in $(seq 1 20); do draw "$SESS_dave"; done
[[ $KIND == ephemeral ]] && pass "31 more keys drawn" || fail "draws: $KIND $BODY"
expect_rc "keys maintain tops up below 20" 0 "${A[@]}" --json keys maintain
jq_is "refilled from 18 to 50" last.out '.unissued_before == 18 and .refilled == 32'
expect_rc "status after the top-up" 0 "${A[@]}" --json keys
jq_is "50 unissued after the top-up" last.out '.server.ephemeral_unissued == 50'

# ---- keys rotate -------------------------------------------------------------
expect_rc "keys rotate" 0 "${A[@]}" --json keys rotate
NE1=$(jq -r .nonephemeral_key last.out)
[[ $NE1 =~ ^[0-9a-f]{64}$ && $NE1 != "$NE0" ]] && pass "a new non-ephemeral key" ||
	fail "rotate: $(cat last.out)"
expect_rc "status after rotate" 0 "${A[@]}" --json keys
jq_is "server hands out the new key; the old one kept" last.out \
	".server.nonephemeral_key == \"$NE1\" and .server.nonephemeral_current and .local.nonephemeral_discarded == 1"

# ---- lists and quota ------------------------------------------------------------
expect_rc "blacklist add carol with a note" 0 "${A[@]}" blacklist add Carol#A.test --note "sells watches"
expect_rc "whitelist add a domain with a note" 0 "${A[@]}" whitelist add B.test --note "bob's company"
expect_rc "whitelist add an address without a note" 0 "${A[@]}" whitelist add dave#a.test
expect_rc "the same entry again" 69 "${A[@]}" blacklist add carol#a.test --note again
has "duplicate said plainly" last.err "already on the blacklist"
expect_rc "blacklist add of a bad value" 64 "${A[@]}" blacklist add "not a value"
expect_rc "blacklist list" 0 "${A[@]}" blacklist list
[[ $(cat last.out) == $'carol#a.test\tsells watches' ]] && pass "blacklist shows the decrypted note" ||
	fail "blacklist list: $(cat last.out)"
expect_rc "whitelist list --json" 0 "${A[@]}" whitelist list --json
jq_is "whitelist: two entries, notes decrypted" last.out \
	'length == 2 and all(.[]; .decrypted) and
	 (map(select(.value == "b.test"))[0].note == "bob'"'"'s company") and
	 (map(select(.value == "dave#a.test"))[0].note == "")'
api GET blacklist "$SESS_carol"
[[ $ST == 200 ]] && ! grep -q "sells watches" api.out && pass "the server stores no note in clear" ||
	fail "server-side note: $ST $BODY"
draw "$SESS_carol"
if [[ $ST == 403 ]] && jq -e '.error == "rejected"' api.out >/dev/null; then
	pass "blacklisted sender refused at get_message_key (403 rejected)"
else
	fail "blacklisted draw: $ST $BODY"
fi
expect_rc "blacklist remove carol" 0 "${A[@]}" blacklist remove carol#a.test
draw "$SESS_carol"
[[ $ST == 200 ]] && pass "carol may draw again after removal" || fail "after removal: $ST $BODY"
expect_rc "blacklist remove again: not there" 66 "${A[@]}" blacklist remove carol#a.test
expect_rc "blacklist add carol again (kept for the rotation check)" 0 \
	"${A[@]}" blacklist add carol#a.test --note "still spam"

"$SMIMPD" --config a.conf account quota alice#a.test 100000
expect_rc "quota --json" 0 "${A[@]}" quota --json
jq_is "quota: nothing used of 100000" last.out '.used == 0 and .limit == 100000 and .available == 100000'
expect_rc "quota" 0 "${A[@]}" quota
has "quota text" last.out "limit +97 KiB"

# ---- profile ----------------------------------------------------------------
expect_rc "profile show" 0 "${A[@]}" profile
has "profile shows the name of record 0" last.out "name +Alice$"
expect_rc "profile set" 0 "${A[@]}" profile set --name "Alice Liddell" \
	--website https://alice.example/ --profile https://social.example/@alice \
	--profile https://code.example/alice --additional '{"pgp":"none"}'
has "profile set shows record 1" last.out "record +1, changed"
expect_rc "profile --json" 0 "${A[@]}" --json profile
jq_is "record 1 published with the changes" last.out \
	'(.records | length) == 2 and .latest.name == "Alice Liddell" and
	 .latest.website == "https://alice.example/" and (.latest.profiles | length) == 2 and
	 .latest.additional.pgp == "none"'
expect_rc "profile set --clear-profiles --name ''" 0 "${A[@]}" profile set --clear-profiles --name ""
expect_rc "profile --json again" 0 "${A[@]}" --json profile
jq_is "record 2: name removed, profiles cleared, website kept" last.out \
	'(.records | length) == 3 and .latest.name == null and (.latest.profiles | length) == 0 and
	 .latest.website == "https://alice.example/"'
expect_rc "profile set with an http website" 65 "${A[@]}" profile set --website http://alice.example/
expect_rc "profile set with bad additional JSON" 64 "${A[@]}" profile set --additional '[1]'
expect_rc "profile set with nothing to change" 64 "${A[@]}" profile set
expect_rc "bob's home resolves alice (pin of record 2)" 0 "${B[@]}" --json whois alice#a.test
jq_is "bob pinned alice" last.out '.pin.change == "new"'
OLD_KEY=$(jq -r '.public_key // .identity.public_key // empty' last.out)

# ---- avatar -------------------------------------------------------------------
printf '\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDRtiny-test-image' > avatar.png
printf 'GIF89a not a png' > avatar.gif
head -c 2000 /dev/zero | tr '\0' 'x' | { printf '\x89PNG\r\n\x1a\n'; cat; } > big.png
expect_rc "avatar set of a GIF refused" 65 "${A[@]}" avatar set avatar.gif
expect_rc "avatar set over the server's limit refused" 65 "${A[@]}" avatar set big.png
has "the limit is named" last.err "at most 1024 bytes"
expect_rc "avatar set" 0 "${A[@]}" avatar set avatar.png
expect_rc "avatar get from bob's home" 0 "${B[@]}" avatar get alice#a.test -o got.png
cmp -s avatar.png got.png && pass "the avatar fetched is the one set" || fail "avatar differs"
has "avatar get says it verified with the pinned key" last.out "verified with the pinned key"
(cd "$TMP" && "${B[@]}" avatar get alice#a.test >/dev/null 2>&1) &&
	[[ -f "$TMP/alice_a.test.png" ]] && pass "default avatar file name" || fail "default avatar name"
sqlite3 a.db "UPDATE avatars SET image = X'89504E470D0A1A0A0000000D49484452' || CAST('tampered' AS BLOB)"
rm -f tampered.png
expect_rc "a tampered avatar is refused" 76 "${B[@]}" avatar get alice#a.test -o tampered.png
has "refusal names the pinned key" last.err "does NOT verify with its pinned key"
[[ ! -e tampered.png ]] && pass "nothing saved" || fail "tampered avatar saved"
expect_rc "avatar delete" 0 "${A[@]}" avatar delete
expect_rc "avatar get after delete" 69 "${B[@]}" avatar get alice#a.test -o gone.png
expect_rc "avatar usage" 64 "${A[@]}" avatar frob

# ---- keys import ------------------------------------------------------------------
if "$SMIMP" send-key --help >/dev/null 2>&1; then
	expect_rc "bob sends alice a secret-xsalsa20 key" 0 \
		"${B[@]}" send-key alice#a.test --xsalsa20 --note "our shared vault"
	set +e
	"${A[@]}" --json list --type secret-xsalsa20 > list.json 2>list.err
	set -e
	ID=$(jq -r '[.. | objects | select(has("message_id"))][0].message_id // empty' list.json 2>/dev/null || true)
	if [[ -z $ID ]]; then
		fail "could not find the message id: $(head -c 400 list.json) $(head -c 300 list.err)"
	else
		expect_rc "keys import of the received key" 0 "${A[@]}" keys import "$ID"
		has "import confirms what was imported" last.out "imported a secret-xsalsa20 key from bob#b.test"
		has "import shows the note" last.out "note +our shared vault"
		[[ -f "$HA/accounts/alice#a.test/imported" ]] && ! grep -q "vault" "$HA/accounts/alice#a.test/imported" &&
			pass "imported keys stored encrypted" || fail "imported file"
		expect_rc "importing twice is refused" 73 "${A[@]}" keys import "$ID"
	fi
else
	echo "skip: send-key is not built yet"
fi
expect_rc "keys import of a bad id" 64 "${A[@]}" keys import xyz

# ---- rotate-master-key -------------------------------------------------------------
expect_rc "rotate-master-key" 0 "${A[@]}" --json rotate-master-key --ephemeral 10
cp last.out rot.json
jq_is "rotation: record 3 with a new key" rot.json \
	'.seq == 3 and .public_key != .old_public_key and (.public_key | test("^[0-9a-f]{64}$"))'
NEWKEY=$(jq -r .public_key rot.json)
[[ ! -e "$HA/accounts/alice#a.test/keystore.rotating" ]] && pass "no rotation file left" ||
	fail "keystore.rotating left behind"
expect_rc "keys status with the new key (login works)" 0 "${A[@]}" --json keys
jq_is "10 fresh ephemeral keys signed by the new key; old message keys discarded" last.out \
	'.server.ephemeral_unissued == 10 and .server.ephemeral_foreign == 0 and .server.nonephemeral_current and .local.ephemeral == 10'
expect_rc "bob's home (pin of the old identity) resolves alice again" 0 "${B[@]}" --json whois alice#a.test
jq_is "bob's pin advanced to the new key" last.out ".pin.change == \"advanced\""
grep -q "$NEWKEY" last.out && pass "bob sees alice's new key" || fail "new key not in whois: $(head -c 400 last.out)"
expect_rc "notes made under the old key still open" 0 "${A[@]}" blacklist list
[[ $(cat last.out) == $'carol#a.test\tstill spam' ]] && pass "old note decrypted with the old key" ||
	fail "after rotation: $(cat last.out)"
expect_rc "profile after rotation" 0 "${A[@]}" --json profile
jq_is "four records, website kept" last.out '(.records | length) == 4 and .latest.website == "https://alice.example/"'
draw "$SESS_carol"
[[ $ST == 403 ]] && pass "carol still blacklisted after the rotation" || fail "after rotation: $ST"
KSD="$HA/accounts/alice#a.test"
cp -p "$KSD/keystore" ks.before
expect_rc "a second rotation" 0 "${A[@]}" --json rotate-master-key --ephemeral 0
jq_is "record 4" last.out '.seq == 4'
# A crash after the server's 200 but before the keystore was replaced:
# the rotated keystore is still in keystore.rotating, the old one in place.
mv "$KSD/keystore" "$KSD/keystore.rotating"
cp -p ks.before "$KSD/keystore"
expect_rc "login with the old key fails after an unfinished rotation" 69 "${A[@]}" keys
has "the failure says to finish the rotation" last.err "run smimp rotate-master-key to complete it"
expect_rc "rotate-master-key again resumes and finishes" 0 "${A[@]}" --json rotate-master-key
jq_is "resumed: the server already had record 4" last.out '.seq == 4 and .resumed == true'
has "resume said so" last.err "already has the new key"
[[ ! -e "$KSD/keystore.rotating" ]] && pass "rotation file gone after the resume" || fail "rotating left"
# A crash between the keystore replacement and the cleanup.
cp -p "$KSD/keystore" "$KSD/keystore.rotating"
expect_rc "a leftover rotation file is only cleaned up" 0 "${A[@]}" rotate-master-key
has "cleanup said so" last.out "had finished"
[[ ! -e "$KSD/keystore.rotating" ]] && pass "leftover removed" || fail "leftover kept"
# A rotation file of another keystore (bob's) is not alice's to finish.
cp -p "$HB/accounts/bob#b.test/keystore" "$KSD/keystore.rotating"
expect_rc "a rotation file of another keystore is refused" 78 "${A[@]}" rotate-master-key
has "the refusal names the file" last.err "keystore.rotating was not written for this keystore"
rm "$KSD/keystore.rotating"
expect_rc "bob follows the second rotation" 0 "${B[@]}" --json whois alice#a.test
jq_is "pin advanced again" last.out '.pin.change == "advanced"'
expect_rc "the old keystore passphrase still opens the keystore" 0 "${A[@]}" --json keys
jq_is "no ephemeral keys after --ephemeral 0" last.out '.server.ephemeral_unissued == 0 and .local.ephemeral == 0'
grep -q "apass\|alice's passphrase" a.log b.log && fail "a secret in a server log" || pass "no secret in logs"

lib_finish a.log b.log
