#!/usr/bin/env bash
# smimpd identity and sessions over real TLS (spec 7, 10, 11.1-11.4, 11.7):
# get_user, initialize_account (password, rate limit, key binding),
# create_session (local, 16 racing uses of one token, remote via a second
# server), destroy_session, message keys, update_profile with key rotation,
# avatars; every error code of the area.
# Usage: smimpd_identity.sh PATH_TO_SMIMPD PATH_TO_SMIMP_TESTCLIENT
set -euo pipefail

SMIMPD=${1:?usage: $0 SMIMPD TESTCLIENT}
TC=${2:?usage: $0 SMIMPD TESTCLIENT}
SMIMPD=$(cd "$(dirname "$SMIMPD")" && pwd)/$(basename "$SMIMPD")
TC=$(cd "$(dirname "$TC")" && pwd)/$(basename "$TC")
. "$(dirname "$0")/lib.sh"
lib_init smimpd_identity
make_certs

PA=$(pick_port)
PB=$(pick_port)
while [[ $PB == "$PA" ]]; do PB=$(pick_port); done
A=https://a.test:$PA
B=https://b.test:$PB
CONNECT=(--connect-to "a.test:$PA:127.0.0.1:$PA" --connect-to "b.test:$PB:127.0.0.1:$PB")

# write_config NAME DOMAIN PORT [allow_private]
write_config() {
	{
		server_conf "$2" "$3" "sqlite:$TMP/$1.db"
		cat <<EOC
max_ephemeral_keys = 50
max_avatar_bytes = 1k
max_request_bytes = 100k
max_envelope_bytes = 1k
max_record_bytes = 512
max_history_records = 4
threads = 4
ca_file = $TMP/ca.pem
connect_to = a.test:443:127.0.0.1:$PA
connect_to = a.test:$PA:127.0.0.1:$PA
connect_to = b.test:443:127.0.0.1:$PB
connect_to = b.test:$PB:127.0.0.1:$PB
allow_private_addresses = ${4:-true}
EOC
	} > "$1.conf"
}
write_config a a.test "$PA"
write_config b b.test "$PB"

ALICE=alice%23a.test
pw_alice=$("$SMIMPD" --config a.conf account add alice)
pw_carol=$("$SMIMPD" --config a.conf account add carol)
pw_dave=$("$SMIMPD" --config a.conf account add dave)
start_smimpd "$SMIMPD" a.conf a.log a.test "$PA"
PID_A=$LAST_PID
start_smimpd "$SMIMPD" b.conf b.log b.test "$PB"
pass "two servers up (a.test:$PA, b.test:$PB)"

J='Content-Type: application/json'
post() { check "$1" "$2" "$3" -X POST -H "$J" --data-binary "$4" "${@:5}"; }
jget() { jq -r "$1" body.out; }

# ---- get_user before initialization -------------------------------------
check "get_user of an uninitialized account" 404 not_found "$A/0.1/get_user/$ALICE/public_key"
check "get_user of an unknown user" 404 not_found "$A/0.1/get_user/nobody%23a.test/history"
check "get_user of another domain" 404 not_found "$A/0.1/get_user/x%23c.test/history"
check "get_user with a bad address" 400 bad_request "$A/0.1/get_user/no-hash/history"
check "get_user with an escaped /" 400 bad_request "$A/0.1/get_user/a%2Fb%23a.test/history"

# ---- initialize_account ---------------------------------------------------
good=$("$TC" init-body alice#a.test "$pw_alice" 1)
post "init: malformed JSON" 400 bad_request '{"password_hash":' "$A/0.1/initialize_account/$ALICE"
post "init: duplicate member" 400 bad_request \
	"$(jq -c '. + {x: 1}' <<<"$good" | sed 's/"x":1/"record":{},"x":1/')" \
	"$A/0.1/initialize_account/$ALICE"
upper=$(jq -c '.password_hash |= ascii_upcase' <<<"$good")
post "init: upper-case hex" 400 bad_request "$upper" "$A/0.1/initialize_account/$ALICE"
post "init: unknown account" 404 not_found "$good" "$A/0.1/initialize_account/zed%23a.test"
wrong=$("$TC" init-body alice#a.test 00000000000000000000000000000000 1)
post "init: wrong password" 403 forbidden "$wrong" "$A/0.1/initialize_account/$ALICE"
badkeys=$("$TC" init-body alice#a.test "$pw_alice" 1 3 9)
post "init: message keys signed by another key" 422 bad_key "$badkeys" \
	"$A/0.1/initialize_account/$ALICE"
check "a failed init changes nothing" 404 not_found "$A/0.1/get_user/$ALICE/public_key"
badrec=$(jq -c --argjson r "$("$TC" record alice#a.test 0 - 1 2)" '.record = $r' <<<"$good")
post "init: record 0 signed by another key" 422 bad_signature "$badrec" \
	"$A/0.1/initialize_account/$ALICE"
other=$(jq -c --argjson r "$("$TC" record dave#a.test 0 - 1 1)" '.record = $r' <<<"$good")
post "init: record 0 of another address" 409 conflict "$other" "$A/0.1/initialize_account/$ALICE"
post "init: alice" 200 "" "$good" "$A/0.1/initialize_account/$ALICE"
[[ $(cat body.out) == '{}' ]] || fail "init answer: $(cat body.out)"
post "init: second call" 409 conflict "$good" "$A/0.1/initialize_account/$ALICE"
post "init: key bound to another address" 409 conflict \
	"$("$TC" init-body dave#a.test "$pw_dave" 1)" "$A/0.1/initialize_account/dave%23a.test"
post "init: dave" 200 "" "$("$TC" init-body dave#a.test "$pw_dave" 4)" \
	"$A/0.1/initialize_account/dave%23a.test"
carol_wrong=$("$TC" init-body carol#a.test 11111111111111111111111111111111 3)
for i in 1 2 3 4 5; do
	post "init: carol wrong password $i" 403 forbidden "$carol_wrong" \
		"$A/0.1/initialize_account/carol%23a.test"
done
post "init: rate limited after 5 wrong passwords" 429 rate_limited \
	"$("$TC" init-body carol#a.test "$pw_carol" 3)" "$A/0.1/initialize_account/carol%23a.test"
tr -d '\r' < headers.out | grep -qi '^retry-after: [1-9][0-9]*$' && pass "Retry-After" ||
	fail "no Retry-After: $(tr -d '\r' < headers.out | tr '\n' '|')"
# Guesses sent at the same instant each count: of 12 parallel wrong
# passwords exactly 5 are checked (403), the others wait (429).
"$SMIMPD" --config a.conf account add erin > /dev/null
erin_wrong=$("$TC" init-body erin#a.test 22222222222222222222222222222222 5)
printf '%s' "$erin_wrong" > erin.json
guesses=()
for k in $(seq 1 12); do
	curl -sS -o /dev/null -w '%{http_code}\n' --max-time 60 --cacert ca.pem "${CONNECT[@]}" \
		-X POST -H "$J" --data-binary @erin.json \
		"$A/0.1/initialize_account/erin%23a.test" > "erin$k.st" 2>/dev/null &
	guesses+=($!)
done
wait "${guesses[@]}" || true
n403=$(cat erin*.st | grep -c '^403$' || true)
n429=$(cat erin*.st | grep -c '^429$' || true)
[[ $n403 == 5 && $n429 == 7 ]] && pass "12 parallel wrong passwords: 5 checked, 7 refused 429" ||
	fail "12 parallel wrong passwords: $n403 x 403, $n429 x 429 ($(cat erin*.st | tr '\n' ' '))"

# ---- get_user -------------------------------------------------------------
pk1=$("$TC" pubkey 1)
check "get_user public_key" 200 "" "$A/0.1/get_user/$ALICE/public_key"
[[ $(jget .public_key) == "$pk1" && $(jget .seq) == 0 && $(jget .address) == alice#a.test ]] &&
	pass "public_key answer" || fail "public_key answer: $(cat body.out)"
check "get_user with upper-case address" 200 "" "$A/0.1/get_user/ALICE%23A.Test/most_recent"
sh0=$(jget .signed_hash)
jq -e '.data | fromjson | .seq == 0' body.out >/dev/null && pass "most_recent" ||
	fail "most_recent: $(cat body.out)"
check "get_user history" 200 "" "$A/0.1/get_user/$ALICE/history"
[[ $(jq '.records | length' body.out) == 1 ]] || fail "history: $(cat body.out)"
check "get_user unknown view" 404 not_found "$A/0.1/get_user/$ALICE/everything"
check "get_user POST" 405 method_not_allowed -X POST -d '{}' "$A/0.1/get_user/$ALICE/history"

# ---- create_session (local) -----------------------------------------------
# login ADDRESS_PATH ADDRESS SEED [BASE]: prints the session or nothing
login() {
	local base=${4:-$A} tok
	req "$base/0.1/create_session/$1" || true
	tok=$(jq -r .token body.out)
	req -X POST -H "$J" --data-binary "$("$TC" login-body "$base" "$2" "$tok" "$3")" \
		"$base/0.1/create_session/$1"
	[[ $STATUS == 200 ]] && jq -r .session body.out
	return 0
}
check "token for alice" 200 "" "$A/0.1/create_session/$ALICE"
tok=$(jget .token)
[[ $tok =~ ^[0-9a-f]{64}$ && $(jget .expires_in) == 60 ]] && pass "token answer" ||
	fail "token answer: $(cat body.out)"
check "token for an unknown local user" 404 not_found "$A/0.1/create_session/nobody%23a.test"
check "token for an uninitialized user" 404 not_found "$A/0.1/create_session/carol%23a.test"
check "token for another domain's user" 200 "" "$A/0.1/create_session/x%23c.test"
post "login with a bad token" 400 bad_request '{"token":"00","signed_hash":"00"}' \
	"$A/0.1/create_session/$ALICE"
post "login signed by another key" 422 bad_signature "$("$TC" login-body "$A" alice#a.test "$tok" 9)" \
	"$A/0.1/create_session/$ALICE"
post "the token is used up by a failed login" 401 unauthenticated \
	"$("$TC" login-body "$A" alice#a.test "$tok" 1)" "$A/0.1/create_session/$ALICE"
req "$A/0.1/create_session/$ALICE"
tok=$(jget .token)
post "login for another base URL" 422 bad_signature \
	"$("$TC" login-body "https://a.test" alice#a.test "$tok" 1)" "$A/0.1/create_session/$ALICE"
req "$A/0.1/create_session/$ALICE"
tok=$(jget .token)
post "token of another address" 401 unauthenticated \
	"$("$TC" login-body "$A" dave#a.test "$tok" 4)" "$A/0.1/create_session/dave%23a.test"
post "unknown token" 401 unauthenticated \
	"$("$TC" login-body "$A" alice#a.test "$(printf '%064d' 7)" 1)" "$A/0.1/create_session/$ALICE"
req "$A/0.1/create_session/$ALICE"
tok=$(jget .token)
post "login alice" 200 "" "$("$TC" login-body "$A" alice#a.test "$tok" 1)" \
	"$A/0.1/create_session/$ALICE"
S1=$(jget .session)
[[ $S1 =~ ^[0-9a-f]{64}$ && $(jget .expires_in) -gt 0 ]] && pass "session answer" ||
	fail "session answer: $(cat body.out)"
header_has "cache-control: no-store"
post "a token is single use" 401 unauthenticated "$("$TC" login-body "$A" alice#a.test "$tok" 1)" \
	"$A/0.1/create_session/$ALICE"

# 16 racing logins with one token: exactly one session.
req "$A/0.1/create_session/$ALICE"
tok=$(jget .token)
body=$("$TC" login-body "$A" alice#a.test "$tok" 1)
for i in $(seq 1 16); do
	curl -sS -o /dev/null -w '%{http_code}\n' --cacert ca.pem "${CONNECT[@]}" -X POST \
		-H "$J" --data-binary "$body" "$A/0.1/create_session/$ALICE" > "race.$i" &
done
wait_race() { for i in $(seq 1 16); do while [[ ! -s race.$i ]]; do sleep 0.05; done; done; }
wait_race
ok=$(cat race.* | grep -c '^200$' || true)
unauth=$(cat race.* | grep -c '^401$' || true)
[[ $ok == 1 && $unauth == 15 ]] && pass "16 racing logins with one token: one session" ||
	fail "racing logins: $ok x 200, $unauth x 401: $(cat race.* | tr '\n' ' ')"

# ---- authentication -------------------------------------------------------
AUTH=(-H "SMIMP-Authentication: $S1")
check "no session" 401 unauthenticated "$A/0.1/nonephemeral_key"
check "malformed session" 401 unauthenticated -H "SMIMP-Authentication: xyz" "$A/0.1/nonephemeral_key"
check "upper-case session" 401 unauthenticated -H "SMIMP-Authentication: ${S1^^}" \
	"$A/0.1/nonephemeral_key"
check "unknown session" 401 unauthenticated -H "SMIMP-Authentication: $(printf '%064d' 1)" \
	"$A/0.1/nonephemeral_key"

# ---- message keys ---------------------------------------------------------
check "GET nonephemeral_key" 200 "" "${AUTH[@]}" "$A/0.1/nonephemeral_key"
header_has "cache-control: no-store"
jq -e '.message_key.kind == "nonephemeral"' body.out >/dev/null || fail "nonephemeral: $(cat body.out)"
old_neph=$(jq -c .message_key body.out)
post "POST nonephemeral_key" 200 "" "$("$TC" neph-body alice#a.test 1)" "${AUTH[@]}" \
	"$A/0.1/nonephemeral_key"
check "the key was replaced" 200 "" "${AUTH[@]}" "$A/0.1/nonephemeral_key"
[[ $(jq -c .message_key body.out) != "$old_neph" ]] || fail "nonephemeral key not replaced"
post "nonephemeral key = master key" 422 bad_key "$("$TC" neph-body alice#a.test 1 master)" \
	"${AUTH[@]}" "$A/0.1/nonephemeral_key"
post "nonephemeral key signed by another key" 422 bad_key "$("$TC" neph-body alice#a.test 9)" \
	"${AUTH[@]}" "$A/0.1/nonephemeral_key"
post "nonephemeral key of another address" 422 bad_key "$("$TC" neph-body dave#a.test 1)" \
	"${AUTH[@]}" "$A/0.1/nonephemeral_key"
post "ephemeral key as nonephemeral" 422 bad_key \
	"$("$TC" keys-body alice#a.test 1 1 | jq -c '{message_key: .keys[0]}')" \
	"${AUTH[@]}" "$A/0.1/nonephemeral_key"
post "nonephemeral_key without a body member" 400 bad_request '{}' "${AUTH[@]}" \
	"$A/0.1/nonephemeral_key"
check "GET ephemeral_keys" 200 "" "${AUTH[@]}" "$A/0.1/ephemeral_keys"
[[ $(jq '.keys | length' body.out) == 3 ]] || fail "ephemeral keys: $(cat body.out)"
post "POST ephemeral_keys" 200 "" "$("$TC" keys-body alice#a.test 1 5)" "${AUTH[@]}" \
	"$A/0.1/ephemeral_keys"
check "the keys were replaced" 200 "" "${AUTH[@]}" "$A/0.1/ephemeral_keys"
[[ $(jq '.keys | length' body.out) == 5 ]] || fail "ephemeral keys: $(cat body.out)"
post "ephemeral keys signed by another key" 422 bad_key "$("$TC" keys-body alice#a.test 2 2)" \
	"${AUTH[@]}" "$A/0.1/ephemeral_keys"
post "more ephemeral keys than max_ephemeral_keys" 413 too_large \
	"$("$TC" keys-body alice#a.test 1 51)" "${AUTH[@]}" "$A/0.1/ephemeral_keys"
check "a refused upload changes nothing" 200 "" "${AUTH[@]}" "$A/0.1/ephemeral_keys"
[[ $(jq '.keys | length' body.out) == 5 ]] || fail "ephemeral keys: $(cat body.out)"

# ---- avatars --------------------------------------------------------------
printf '\x89PNG\r\n\x1a\nnot really a png' > a.png
printf 'GIF89a....' > a.gif
: > empty.png
head -c 2000 /dev/zero | tr '\0' 'x' | sed 's/^/\xff\xd8\xff/' > big.jpg
post "POST user_avatar" 200 "" "$("$TC" avatar-body alice#a.test 1 a.png)" "${AUTH[@]}" \
	"$A/0.1/user_avatar"
check "GET user_avatar" 200 "" "$A/0.1/user_avatar/$ALICE"
url=$(jget .url)
hash=$(b2sum -l 256 a.png | cut -d' ' -f1)
[[ $url == "$A/0.1/avatar_file/$hash" && $(jget .signed_hash) =~ ^[0-9a-f]{192}$ ]] &&
	pass "avatar url" || fail "avatar answer: $(cat body.out) (hash $hash)"
check "GET get_user_avatar" 200 "" "$A/0.1/get_user_avatar/$ALICE"
check "GET avatar_file" 200 "" "$url"
cmp -s body.out a.png && pass "avatar bytes" || fail "avatar bytes differ"
header_has "content-type: image/png"
check "avatar_file with upper-case hex" 400 bad_request "$A/0.1/avatar_file/${hash^^}"
check "avatar_file unknown" 404 not_found "$A/0.1/avatar_file/$(printf '%064d' 0)"
post "avatar GIF" 415 unsupported_media "$("$TC" avatar-body alice#a.test 1 a.gif)" \
	"${AUTH[@]}" "$A/0.1/user_avatar"
post "avatar empty" 415 unsupported_media "$("$TC" avatar-body alice#a.test 1 empty.png)" \
	"${AUTH[@]}" "$A/0.1/user_avatar"
post "avatar over max_avatar_bytes" 413 too_large "$("$TC" avatar-body alice#a.test 1 big.jpg)" \
	"${AUTH[@]}" "$A/0.1/user_avatar"
post "avatar signed by another key" 422 bad_signature "$("$TC" avatar-body alice#a.test 2 a.png)" \
	"${AUTH[@]}" "$A/0.1/user_avatar"
post "avatar with bad b64" 400 bad_request '{"image":"!!!!","signed_hash":"00"}' \
	"${AUTH[@]}" "$A/0.1/user_avatar"
check "DELETE user_avatar" 204 "" -X DELETE "${AUTH[@]}" "$A/0.1/user_avatar"
check "avatar gone" 404 not_found "$A/0.1/user_avatar/$ALICE"
check "avatar file gone" 404 not_found "$url"
check "GET user_avatar without address" 405 method_not_allowed "$A/0.1/user_avatar"

# ---- update_profile and key rotation --------------------------------------
req "$A/0.1/create_session/$ALICE"
S2=$(login "$ALICE" alice#a.test 1)
[[ -n $S2 ]] && pass "second session" || fail "second session"
post "profile: name" 200 "" "$("$TC" profile-body alice#a.test 1 "$sh0" 1 1 Alice)" \
	"${AUTH[@]}" "$A/0.1/update_profile"
check "most_recent after profile" 200 "" "$A/0.1/get_user/$ALICE/most_recent"
sh1=$(jget .signed_hash)
jq -e '.data | fromjson | .name == "Alice" and .seq == 1' body.out >/dev/null &&
	pass "name changed" || fail "profile: $(cat body.out)"
post "profile: wrong seq" 409 conflict "$("$TC" profile-body alice#a.test 3 "$sh1" 1 1)" \
	"${AUTH[@]}" "$A/0.1/update_profile"
post "profile: wrong previous" 409 conflict "$("$TC" profile-body alice#a.test 2 "$sh0" 1 1)" \
	"${AUTH[@]}" "$A/0.1/update_profile"
post "profile: signed by another key" 422 bad_signature \
	"$("$TC" profile-body alice#a.test 2 "$sh1" 1 9)" "${AUTH[@]}" "$A/0.1/update_profile"
post "profile: changed_at too far ahead" 409 conflict \
	"$(jq -c --argjson r "$("$TC" record alice#a.test 2 "$sh1" 1 1 x 3600)" '{record: $r}' <<<'{}')" \
	"${AUTH[@]}" "$A/0.1/update_profile"
post "profile: new key bound to another address" 409 conflict \
	"$("$TC" profile-body alice#a.test 2 "$sh1" 4 1)" "${AUTH[@]}" "$A/0.1/update_profile"
post "profile: new key without message keys" 400 bad_request \
	"$("$TC" profile-body alice#a.test 2 "$sh1" 5 1 | jq -c 'del(.nonephemeral_key)')" \
	"${AUTH[@]}" "$A/0.1/update_profile"
post "profile: new key, message keys signed by the old one" 422 bad_key \
	"$("$TC" profile-body alice#a.test 2 "$sh1" 5 1 |
	   jq -c --argjson k "$("$TC" neph-body alice#a.test 1 | jq -c .message_key)" '.nonephemeral_key = $k')" \
	"${AUTH[@]}" "$A/0.1/update_profile"
post "profile: new key" 200 "" "$("$TC" profile-body alice#a.test 2 "$sh1" 5 1)" \
	"${AUTH[@]}" "$A/0.1/update_profile"
check "public_key after rotation" 200 "" "$A/0.1/get_user/$ALICE/public_key"
[[ $(jget .public_key) == "$("$TC" pubkey 5)" && $(jget .seq) == 2 ]] &&
	pass "key rotated" || fail "rotation: $(cat body.out)"
sh2=$(jget .signed_hash)
check "the other session ended" 401 unauthenticated -H "SMIMP-Authentication: $S2" \
	"$A/0.1/nonephemeral_key"
check "the rotating session lives on" 200 "" "${AUTH[@]}" "$A/0.1/ephemeral_keys"
[[ $(jq '.keys | length' body.out) == 2 ]] && pass "old ephemeral keys dropped" ||
	fail "ephemeral keys after rotation: $(cat body.out)"
post "profile: an old key may not return" 409 conflict \
	"$("$TC" profile-body alice#a.test 3 "$sh2" 1 5)" "${AUTH[@]}" "$A/0.1/update_profile"
# The server's own limits (max_record_bytes = 512, max_history_records = 4).
post "profile: record over max_record_bytes" 413 too_large \
	"$("$TC" profile-body alice#a.test 3 "$sh2" 5 5 "$(printf 'x%.0s' {1..200})")" \
	"${AUTH[@]}" "$A/0.1/update_profile"
post "profile: record 3 fits" 200 "" "$("$TC" profile-body alice#a.test 3 "$sh2" 5 5 A)" \
	"${AUTH[@]}" "$A/0.1/update_profile"
check "most_recent is record 3" 200 "" "$A/0.1/get_user/$ALICE/most_recent"
post "profile: past max_history_records" 409 conflict \
	"$("$TC" profile-body alice#a.test 4 "$(jget .signed_hash)" 5 5 B)" \
	"${AUTH[@]}" "$A/0.1/update_profile"
grep -q 'history is full' body.out && pass "the refusal says the history is full" ||
	fail "history full: $(cat body.out)"
req "$A/0.1/create_session/$ALICE"
post "login with the old key" 422 bad_signature "$("$TC" login-body "$A" alice#a.test "$(jget .token)" 1)" \
	"$A/0.1/create_session/$ALICE"
S3=$(login "$ALICE" alice#a.test 5)
[[ -n $S3 ]] && pass "login with the new key" || fail "login with the new key"

# ---- destroy_session ------------------------------------------------------
check "GET destroy_session" 405 method_not_allowed "${AUTH[@]}" "$A/0.1/destroy_session"
post "destroy_session with a bad body" 400 bad_request '[1]' "${AUTH[@]}" "$A/0.1/destroy_session"
check "destroy_session" 204 "" -X POST "${AUTH[@]}" "$A/0.1/destroy_session"
check "destroyed session" 401 unauthenticated "${AUTH[@]}" "$A/0.1/nonephemeral_key"
check "destroy again" 401 unauthenticated -X POST "${AUTH[@]}" "$A/0.1/destroy_session"

# ---- remote login: alice#a.test logs in to b.test -------------------------
check "b.test: token for alice#a.test" 200 "" "$B/0.1/create_session/$ALICE"
post "b.test: remote login signed by another key" 422 bad_signature \
	"$("$TC" login-body "$B" alice#a.test "$(jget .token)" 1)" "$B/0.1/create_session/$ALICE"
R1=$(login "$ALICE" alice#a.test 5 "$B")
[[ -n $R1 ]] && pass "b.test: remote login of alice#a.test" ||
	fail "remote login: $(cat body.out)"
RAUTH=(-H "SMIMP-Authentication: $R1")
check "remote session on an account call" 403 forbidden "${RAUTH[@]}" "$B/0.1/nonephemeral_key"
check "remote session on update_profile" 403 forbidden -X POST -H "$J" -d '{}' "${RAUTH[@]}" \
	"$B/0.1/update_profile"
check "remote session destroy" 204 "" -X POST "${RAUTH[@]}" "$B/0.1/destroy_session"
req "$B/0.1/create_session/nobody%23a.test"
post "b.test: remote user that does not exist" 502 upstream \
	"$("$TC" login-body "$B" nobody#a.test "$(jget .token)" 1)" "$B/0.1/create_session/nobody%23a.test"
req "$B/0.1/create_session/x%23unreachable.test"
post "b.test: unreachable domain" 502 upstream \
	"$("$TC" login-body "$B" x#unreachable.test "$(jget .token)" 1)" \
	"$B/0.1/create_session/x%23unreachable.test"

# A forked history: a.test starts over with alice under another key.
stop_smimpd "$PID_A"
rm -f a.db a.db-wal a.db-shm
pw_alice=$("$SMIMPD" --config a.conf account add alice)
start_smimpd "$SMIMPD" a.conf a.log a.test "$PA"
post "a.test again: alice with a new history" 200 "" "$("$TC" init-body alice#a.test "$pw_alice" 7)" \
	"$A/0.1/initialize_account/$ALICE"
req "$B/0.1/create_session/$ALICE"
post "b.test: forked history is refused" 502 upstream \
	"$("$TC" login-body "$B" alice#a.test "$(jget .token)" 7)" "$B/0.1/create_session/$ALICE"
grep -q 'pinned' body.out && pass "the pin mismatch is named" || fail "pin message: $(cat body.out)"

# A server that may not connect to private addresses refuses loopback.
PC=$(pick_port)
write_config c localhost "$PC" false
CONNECT+=(--connect-to "localhost:$PC:127.0.0.1:$PC")
C=https://localhost:$PC
start_smimpd "$SMIMPD" c.conf c.log localhost "$PC"
req "$C/0.1/create_session/$ALICE"
post "private addresses refused by default" 502 upstream \
	"$("$TC" login-body "$C" alice#a.test "$(jget .token)" 7)" "$C/0.1/create_session/$ALICE"

# An account removed by the operator (another process) while a.test
# serves: its session, just used (so held in smimpd's session cache), ends
# within the cache's second.
S7=$(login "$ALICE" alice#a.test 7)
check "a session of alice before her removal" 200 "" -H "SMIMP-Authentication: $S7" "$A/0.1/quota"
"$SMIMPD" --config a.conf account remove alice#a.test
sleep 1.2
check "alice's session after her removal" 401 unauthenticated -H "SMIMP-Authentication: $S7" \
	"$A/0.1/quota"

check "a.test still answers" 200 "" "$A/version"
check "b.test still answers" 200 "" "$B/version"
lib_finish a.log b.log c.log
