#!/usr/bin/env bash
# smimpd mail calls over real TLS on loopback: get_message_key (ephemeral,
# fallback when keys run out and past the hourly limit), get_pow_params,
# send_message (happy path, identical retry, every refusal), the mailbox
# (listing, paging, read flags, folders, move, extensions, delete), lists,
# quota, and concurrency (16 parallel drawers, a nonce under 8 parallel
# sends). Usage: smimpd_mail.sh PATH_TO_SMIMPD PATH_TO_TESTCLIENT.
set -euo pipefail

SMIMPD=${1:?usage: $0 SMIMPD TESTCLIENT}
TC=${2:?usage: $0 SMIMPD TESTCLIENT}
SMIMPD=$(cd "$(dirname "$SMIMPD")" && pwd)/$(basename "$SMIMPD")
TC=$(cd "$(dirname "$TC")" && pwd)/$(basename "$TC")
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lib_init smimpd_mail
make_certs

PORT=$(pick_port)
BITS=8
{
	server_conf a.test "$PORT" "sqlite:$TMP/smimpd.db"
	cat <<EOF
pow_zero_bits = $BITS
max_envelope_bytes = 64k
max_request_bytes = 512k
max_list_page = 50
threads = 4
EOF
} > smimpd.conf
BASE=https://a.test:$PORT
CONNECT=(--connect-to "a.test:$PORT:127.0.0.1:$PORT")

# api METHOD PATH SESSION|- [BODY]: ST = status, BODY = response body.
api() {
	local m=$1 p=$2 s=$3 b=${4-} out=${OUT:-body.out}
	local args=(-X "$m")
	[[ $s != - ]] && args+=(-H "SMIMP-Authentication: $s")
	if [[ $# -ge 4 ]]; then
		printf '%s' "$b" > "$out.req"
		args+=(-H 'Content-Type: application/json' --data-binary "@$out.req")
	fi
	ST=$(curl -sS -o "$out" -D "$out.h" -w '%{http_code}' --cacert ca.pem \
		"${CONNECT[@]}" "${args[@]}" "$BASE/0.1/$p") || ST=curl-error
	BODY=$(cat "$out")
}
# expect NAME STATUS [JQ_EXPR that must be true of BODY]
expect() {
	if [[ $ST != "$2" ]]; then
		fail "$1: status $ST, want $2 (body: ${BODY:0:300})"
	elif [[ -n ${3-} ]] && ! jq -e "$3" <<<"$BODY" >/dev/null 2>&1; then
		fail "$1: body ${BODY:0:300} is not $3"
	else
		pass "$1"
	fi
}
err_is() { expect "$1" "$2" ".error == \"$3\""; }

# ---- accounts ----------------------------------------------------------
# account LOCAL SEED N_EPHEMERAL: initialized, logged in; SESS_x and TOK_x.
account() {
	local a="$1#a.test" pw token sess
	pw=$("$SMIMPD" --config smimpd.conf account add "$a")
	api POST "initialize_account/$1%23a.test" - "$("$TC" init-body "$a" "$pw" "$2" "$3")"
	[[ $ST == 200 ]] || { fail "initialize $a: $ST $BODY"; return 1; }
	login "$1" "$2"
}
login() {
	local a="$1#a.test" token
	api GET "create_session/$1%23a.test" -
	token=$(jq -r .token <<<"$BODY")
	api POST "create_session/$1%23a.test" - "$("$TC" login-body "$BASE" "$a" "$token" "$2")"
	[[ $ST == 200 ]] || { fail "login $a: $ST $BODY"; return 1; }
	printf -v "SESS_$1" '%s' "$(jq -r .session <<<"$BODY")"
	printf -v "TOK_$1" '%s' "$token"
}

start_smimpd "$SMIMPD" smimpd.conf server.log a.test "$PORT"

account alice 1 3
account bob 2 45
account carol 3 0
account dave 4 5
account eve 5 2
"$SMIMPD" --config smimpd.conf account quota dave#a.test 1000
"$SMIMPD" --config smimpd.conf account add frank#a.test >/dev/null  # never initialized
PK_alice=$("$TC" pubkey 1)
PK_bob=$("$TC" pubkey 2)

# ---- get_message_key ---------------------------------------------------
keys=()
for i in 1 2 3; do
	api POST get_message_key "$SESS_bob" '{"address":"Alice#A.test"}'
	expect "bob draws alice's ephemeral key $i" 200 \
		".non_ephemeral == false and .public_key == \"$PK_alice\" and .message_key.kind == \"ephemeral\""
	keys+=("$(jq -r .message_key.key <<<"$BODY")")
done
[[ $(printf '%s\n' "${keys[@]}" | sort -u | wc -l) -eq 3 ]] &&
	pass "three draws, three keys" || fail "a key was issued twice: ${keys[*]}"
api POST get_message_key "$SESS_bob" '{"address":"alice#a.test"}'
expect "no ephemeral key left: the non-ephemeral one" 200 \
	'.non_ephemeral == true and .message_key.kind == "nonephemeral"'
api POST get_message_key "$SESS_carol" '{"address":"alice#a.test"}'
expect "another sender also gets the non-ephemeral key" 200 '.non_ephemeral == true'

# eve draws bob's keys up to the hourly limit (20), then the fallback.
n_eph=0
for i in $(seq 1 20); do
	OUT=draw.out api POST get_message_key "$SESS_eve" '{"address":"bob#a.test"}'
	[[ $ST == 200 && $(jq -r .non_ephemeral <<<"$BODY") == false ]] && n_eph=$((n_eph + 1))
done
[[ $n_eph -eq 20 ]] && pass "20 ephemeral draws within the hour" ||
	fail "only $n_eph of 20 draws were ephemeral"
api POST get_message_key "$SESS_eve" '{"address":"bob#a.test"}'
expect "21st draw in the hour: the non-ephemeral key" 200 \
	".non_ephemeral == true and .public_key == \"$PK_bob\""
NEPH_bob=$(jq -r .message_key.key <<<"$BODY")
api POST get_message_key "$SESS_alice" '{"address":"bob#a.test"}'
expect "the limit is per sender: alice still gets an ephemeral key" 200 '.non_ephemeral == false'

api POST get_message_key - '{"address":"bob#a.test"}'
err_is "get_message_key without a session" 401 unauthenticated
api POST get_message_key bogus '{"address":"bob#a.test"}'
err_is "get_message_key with an unknown session" 401 unauthenticated
api POST get_message_key "$SESS_alice" '{"address":"nobody#a.test"}'
err_is "get_message_key for an unknown user" 404 not_found
grep -qi '^cache-control: no-store' body.out.h && pass "no-store on authenticated errors" ||
	fail "no Cache-Control: no-store"
api POST get_message_key "$SESS_alice" '{"address":"frank#a.test"}'
err_is "get_message_key for an uninitialized user" 404 not_found
api POST get_message_key "$SESS_alice" '{"address":"bob#elsewhere.test"}'
err_is "get_message_key for another domain" 404 not_found
api POST get_message_key "$SESS_alice" '{"address":"not an address"}'
err_is "get_message_key with a bad address" 400 bad_request
api POST get_message_key "$SESS_alice" '{"address":"bob#a.test","address":"x"}'
err_is "get_message_key with a duplicate member" 400 bad_request
api POST get_message_key "$SESS_alice" '{}'
err_is "get_message_key without address" 400 bad_request
api GET get_message_key "$SESS_alice"
err_is "GET get_message_key" 405 method_not_allowed

# ---- get_pow_params ----------------------------------------------------
api GET "get_pow_params/bob%23a.test/email" "$SESS_alice"
expect "get_pow_params" 200 ".zero_bits == $BITS and (.nonce | test(\"^[0-9a-f]{64}$\"))"
grep -qi '^cache-control: no-store' body.out.h && pass "no-store on get_pow_params" ||
	fail "get_pow_params without no-store"
api GET "get_pow_params/bob%23a.test/letter" "$SESS_alice"
err_is "get_pow_params with an unknown type" 400 bad_request
api GET "get_pow_params/bob#a.test/email" "$SESS_alice"
err_is "get_pow_params with a literal # (a fragment to curl)" 404 not_found
api GET "get_pow_params/bob%2523a.test/email" "$SESS_alice"
err_is "get_pow_params with a bad address" 400 bad_request
api GET "get_pow_params/nobody%23a.test/email" "$SESS_alice"
err_is "get_pow_params for an unknown user" 404 not_found
api GET "get_pow_params/bob%23a.test/email" -
err_is "get_pow_params without a session" 401 unauthenticated

# ---- send_message ------------------------------------------------------
# draw FROM TO: KEY = a message key; pow FROM TO TYPE: NONCE, ZB.
draw() {
	local s="SESS_$1"
	api POST get_message_key "${!s}" "{\"address\":\"$2#a.test\"}"
	KEY=$(jq -r .message_key.key <<<"$BODY")
}
pow() {
	local s="SESS_$1"
	api GET "get_pow_params/$2%23a.test/${3:-email}" "${!s}"
	NONCE=$(jq -r .nonce <<<"$BODY")
	ZB=$(jq -r .zero_bits <<<"$BODY")
}
# body FROM SEED TO KEY NONCE ZB [SIZE [TYPE]]
body() {
	local t="TOK_$1"
	"$TC" send-body "$3#a.test" "$1#a.test" "$2" "$4" "${!t}" "${8:-email}" "$5" "$6" "${7:-64}"
}
send() { local s="SESS_$1"; api POST "send_message/$2%23a.test" "${!s}" "$3"; }

draw alice bob
pow alice bob
B=$(body alice 1 bob "$KEY" "$NONCE" "$ZB" 100)
send alice bob "$B"
expect "send_message" 200 '.message_id | test("^[0-9a-f]{64}$")'
MID1=$(jq -r .message_id <<<"$BODY")
send alice bob "$B"
expect "identical retry answers the first id" 200 ".message_id == \"$MID1\""
FIRST_KEY=$KEY
draw alice bob
B2=$(body alice 1 bob "$KEY" "$NONCE" "$ZB" 100)
send alice bob "$B2"
err_is "a used proof-of-work nonce" 422 bad_proof_of_work
pow alice bob
KEY=$FIRST_KEY
B2=$(body alice 1 bob "$KEY" "$NONCE" "$ZB" 100)
send alice bob "$B2"
err_is "an ephemeral key carries one message" 422 bad_key
draw alice bob
pow alice bob
B2=$(body alice 1 bob "$KEY" "$NONCE" 0 100)
send alice bob "$B2"
err_is "too few zero bits" 422 bad_proof_of_work
draw alice bob
B2=$(body alice 1 bob "$KEY" - 0 100)
send alice bob "$B2"
err_is "proof_of_work null" 422 bad_proof_of_work
pow alice bob short-message
B2=$(body alice 1 bob "$KEY" "$NONCE" "$ZB" 100)
send alice bob "$B2"
err_is "a nonce of another type" 422 bad_proof_of_work
pow carol bob
B2=$(body alice 1 bob "$KEY" "$NONCE" "$ZB" 100)
send alice bob "$B2"
err_is "a nonce of another session" 422 bad_proof_of_work
pow alice bob
B2=$(body alice 1 bob "$KEY" "$NONCE" "$ZB" 100)
send carol bob "$B2"
expect "a body made for another sender" 422
pow alice bob
B2=$(body alice 9 bob "$KEY" "$NONCE" "$ZB" 100)
send alice bob "$B2"
err_is "a message hash by another key" 422 bad_signature
pow alice bob
B2=$(body alice 1 bob "$("$TC" neph-body bob#a.test 2 master | jq -r .message_key.key)" "$NONCE" "$ZB")
send alice bob "$B2"
err_is "the master key as message key" 422 bad_key
pow alice bob
B2=$(body alice 1 bob "${keys[0]}" "$NONCE" "$ZB")
send alice bob "$B2"
err_is "a key never issued to this sender" 422 bad_key
pow alice bob
B2=$(body alice 1 bob "$NEPH_bob" "$NONCE" "$ZB" 70000)
send alice bob "$B2"
err_is "a ciphertext over max_envelope_bytes" 413 too_large
send alice bob '{"message":'
err_is "malformed JSON" 400 bad_request
send alice bob '{"message":"AAAA"}'
err_is "missing fields" 400 bad_request
send alice nobody "$B"
err_is "send to an unknown user" 404 not_found
api POST send_message/bob%23a.test - "$B"
err_is "send without a session" 401 unauthenticated
pow alice bob
B2=$(body alice 1 bob "$NEPH_bob" "$NONCE" "$ZB" 80)
send alice bob "$B2"
expect "send with the non-ephemeral key" 200 '.message_id'

# Quota: dave has 1000 bytes.
draw alice dave
pow alice dave
send alice dave "$(body alice 1 dave "$KEY" "$NONCE" "$ZB" 584)"
expect "send within the quota" 200
draw alice dave
pow alice dave
send alice dave "$(body alice 1 dave "$KEY" "$NONCE" "$ZB" 584)"
err_is "send over the quota" 507 quota_exceeded
api GET quota "$SESS_dave"
expect "quota" 200 '.used == 600 and .limit == 1000 and .available == 400'
api GET quota "$SESS_bob"
expect "quota without a limit of its own" 200 '.limit == 1073741824 and .used == 212'

# Lists: bob blacklists eve, whitelists carol.
api POST blacklist "$SESS_bob" "$("$TC" list-body eve#a.test "eve, spam")"
expect "blacklist eve" 200
api POST blacklist "$SESS_bob" "$("$TC" list-body eve#a.test)"
err_is "blacklist eve twice" 409 conflict
api POST get_message_key "$SESS_eve" '{"address":"bob#a.test"}'
err_is "blacklisted sender: get_message_key" 403 rejected
api GET "get_pow_params/bob%23a.test/email" "$SESS_eve"
err_is "blacklisted sender: get_pow_params" 403 rejected
send eve bob "$B"
err_is "blacklisted sender: send_message" 403 rejected
api POST whitelist "$SESS_bob" "$("$TC" list-body carol#a.test)"
expect "whitelist carol" 200
api GET "get_pow_params/bob%23a.test/email" "$SESS_carol"
expect "whitelisted sender gets zero bits" 200 '.zero_bits == 0'
NONCE=$(jq -r .nonce <<<"$BODY")
draw carol bob
send carol bob "$(body carol 3 bob "$KEY" "$NONCE" 0 50)"
expect "whitelisted sender sends with zero bits" 200
api POST blacklist "$SESS_bob" "$("$TC" list-body x.test)"
expect "blacklist a domain" 200
api GET blacklist "$SESS_bob"
expect "GET blacklist" 200 "(.entries | length) == 2 and (.entries | map(.hash) | index(\"$("$TC" list-hash eve#a.test)\")) != null"
api GET whitelist "$SESS_bob"
expect "GET whitelist" 200 '(.entries | length) == 1 and .entries[0].data == "bm90ZQ=="'
api POST whitelist "$SESS_bob" '{"hash":"ABCD","data":""}'
err_is "list entry with a bad hash" 400 bad_request
api POST whitelist "$SESS_bob" "{\"hash\":\"$("$TC" list-hash y.test)\",\"data\":\"a\"}"
err_is "list entry with bad b64" 400 bad_request
api DELETE "blacklist/$("$TC" list-hash eve#a.test)" "$SESS_bob"
expect "DELETE blacklist entry" 204
api DELETE "blacklist/$("$TC" list-hash eve#a.test)" "$SESS_bob"
err_is "DELETE a missing entry" 404 not_found
api DELETE "blacklist/XYZ" "$SESS_bob"
err_is "DELETE with a bad hash" 400 bad_request
api POST get_message_key "$SESS_eve" '{"address":"bob#a.test"}'
expect "eve accepted again" 200
api GET whitelist -
err_is "GET whitelist without a session" 401 unauthenticated

# ---- mailbox -----------------------------------------------------------
for i in 1 2 3 4 5; do
	pow alice bob
	send alice bob "$(body alice 1 bob "$NEPH_bob" "$NONCE" "$ZB" $((10 + i)))"
	[[ $ST == 200 ]] || fail "send $i for paging: $ST $BODY"
done
api GET folder/email "$SESS_bob"
expect "list the root folder" 200 '(.messages | length) == 8 and .next == null'
ALL=$(jq -c '[.messages[].message_id]' <<<"$BODY")
jq -e '[.messages[].received_at] | . == (sort | reverse)' <<<"$BODY" >/dev/null &&
	pass "newest first" || fail "listing order: $BODY"
jq -e ".messages | map(select(.message_id == \"$MID1\"))[0] | .from == \"alice#a.test\" and .size == 116 and .read == false" \
	<<<"$BODY" >/dev/null && pass "listing row" || fail "listing row: $BODY"
paged=()
cursor=
for page in 1 2 3 4; do
	api GET "folder/email?limit=3${cursor:+&after=$cursor}" "$SESS_bob"
	[[ $ST == 200 ]] || { fail "page $page: $ST $BODY"; break; }
	mapfile -t got < <(jq -r '.messages[].message_id' <<<"$BODY")
	paged+=("${got[@]}")
	cursor=$(jq -r '.next // empty' <<<"$BODY")
	[[ -z $cursor ]] && break
done
[[ $(printf '%s\n' "${paged[@]}" | jq -R . | jq -sc .) == "$ALL" ]] &&
	pass "paging by 3 neither skips nor repeats" || fail "paging: ${paged[*]} vs $ALL"
api GET "folder/email?limit=0" "$SESS_bob"
err_is "limit 0" 400 bad_request
api GET "folder/email?limit=-1" "$SESS_bob"
err_is "limit -1" 400 bad_request
api GET "folder/email?limit=x" "$SESS_bob"
err_is "limit not a number" 400 bad_request
api GET "folder/email?limit=99999999999999999999999" "$SESS_bob"
expect "a huge limit is clamped" 200 '(.messages | length) == 8'
api GET "folder/email?after=zz" "$SESS_bob"
err_is "a bad cursor" 400 bad_request
api GET folder/letter "$SESS_bob"
err_is "folder of an unknown type" 400 bad_request
api GET folder/short-message "$SESS_bob"
expect "an empty type" 200 '.messages == [] and .next == null'
api GET folder/email "$SESS_alice"
expect "alice sees none of bob's mail" 200 '.messages == []'
api GET folder/email/nosuch "$SESS_bob"
err_is "an unknown folder" 404 not_found
api GET folder/email -
err_is "listing without a session" 401 unauthenticated

api GET "message/$MID1/false" "$SESS_bob"
expect "GET message/{id}/false" 200 \
	".message_id == \"$MID1\" and .read == false and .sender == \"alice#a.test\" and .recipient == \"bob#a.test\" and .sender_public_key == \"$PK_alice\" and .pow_params.zero_bits == $BITS and .received_via == \"smimp_client\" and .protocol_version == \"0.1\" and .folder == null and .extensions == null"
api GET "message/$MID1/true" "$SESS_bob"
expect "GET message/{id}/true marks read" 200 '.read == true'
api GET "message/$MID1" "$SESS_bob"
expect "GET message/{id}" 200 '.read == true'
api GET "message/$MID1/maybe" "$SESS_bob"
err_is "update_read neither true nor false" 400 bad_request
api GET "message/${MID1^^}" "$SESS_bob"
err_is "message id in upper case" 400 bad_request
api GET "message/$MID1" "$SESS_alice"
err_is "another user's message" 404 not_found
api GET "message_read/$MID1" "$SESS_bob"
expect "GET message_read" 200 '.read == true'
api POST "message_read/$MID1" "$SESS_bob" 'false'
expect "POST message_read false" 200 '. == {}'
api GET "message_read/$MID1" "$SESS_bob"
expect "read is false" 200 '.read == false'
api POST "message_read/$MID1" "$SESS_bob" '{"read":true}'
expect "POST message_read {read: true}" 200
api GET "message_read/$MID1" "$SESS_bob"
expect "read is true" 200 '.read == true'
api POST "message_read/$MID1" "$SESS_bob" '"yes"'
err_is "POST message_read with a string" 400 bad_request
api POST "message_read/$MID1" "$SESS_alice" 'true'
err_is "POST message_read on another user's message" 404 not_found

api POST "message_extensions/$MID1" "$SESS_bob" '{"extensions":"aGVsbG8="}'
expect "set extensions" 200
api GET "message/$MID1/false" "$SESS_bob"
expect "extensions stored" 200 '.extensions == "aGVsbG8="'
api POST "message_extensions/$MID1" "$SESS_bob" '{"extensions":null}'
expect "clear extensions" 200
api GET "message/$MID1/false" "$SESS_bob"
expect "extensions null" 200 '.extensions == null'
api POST "message_extensions/$MID1" "$SESS_bob" '{"extensions":"aGVsbG8"}'
err_is "extensions with bad b64" 400 bad_request

# Folders.
folder() { printf '{"display_name":"%s","name":"%s","parent":%s,"message_type":"%s"}' "$@"; }
api POST folders "$SESS_bob" "$(folder Work work null email)"
expect "create a folder" 201
api POST folders "$SESS_bob" "$(folder Work work null email)"
err_is "create it twice" 409 conflict
api POST folders "$SESS_bob" "$(folder Project proj '"work"' email)"
expect "create a child" 201
api POST folders "$SESS_bob" "$(folder Notes notes null short-message)"
expect "a folder of another type" 201
api POST folders "$SESS_bob" "$(folder Work work null short-message)"
expect "the same name in another type" 201
api POST folders "$SESS_bob" "$(folder X x '"notes"' email)"
err_is "a parent of another type" 409 conflict
api POST folders "$SESS_bob" "$(folder X x '"nope"' email)"
err_is "an unknown parent" 404 not_found
api POST folders "$SESS_bob" "$(folder X Bad null email)"
err_is "a bad folder name" 400 bad_request
api POST folders "$SESS_bob" "$(folder X x null letter)"
err_is "an unknown message type" 400 bad_request
api GET folders "$SESS_bob"
expect "GET folders" 200 '(.folders | length) == 4'
api GET folders/email "$SESS_bob"
expect "GET folders/email" 200 \
	'.folders == [{"display_name":"Project","name":"proj","parent":"work","message_type":"email"},{"display_name":"Work","name":"work","parent":null,"message_type":"email"}]'
api POST folders/email/work "$SESS_bob" '{"display_name":"Job","name":"job","parent":null}'
expect "rename a folder" 200
api GET folders/email "$SESS_bob"
expect "children follow a rename" 200 '.folders | map(select(.name == "proj"))[0].parent == "job"'
api POST folders/email/job "$SESS_bob" '{"parent":"proj"}'
err_is "move a folder under its child" 409 conflict
api POST folders/email/job "$SESS_bob" '{"parent":"job"}'
err_is "move a folder under itself" 409 conflict
api POST folders/email/job "$SESS_bob" '{"name":"proj"}'
err_is "rename onto an existing name" 409 conflict
api POST folders/email/nope "$SESS_bob" '{"name":"x"}'
err_is "rename an unknown folder" 404 not_found
api POST folders/email/proj "$SESS_bob" '{"display_name":"P","name":"proj","parent":null}'
expect "move a folder to the root" 200
api POST "message_move/$MID1" "$SESS_bob" '{"folder":"proj"}'
expect "move a message" 200
api GET folder/email/proj "$SESS_bob"
expect "the folder lists it" 200 ".messages | length == 1 and .[0].message_id == \"$MID1\""
api GET "message/$MID1/false" "$SESS_bob"
expect "the envelope names its folder" 200 '.folder == "proj"'
api GET folder/email "$SESS_bob"
expect "the root no longer lists it" 200 ".messages | map(.message_id) | index(\"$MID1\") == null"
api POST "message_move/$MID1" "$SESS_bob" '{"folder":"notes"}'
err_is "move to a folder of another type" 409 conflict
api POST "message_move/$MID1" "$SESS_bob" '{"folder":"nope"}'
err_is "move to an unknown folder" 404 not_found
api POST "message_move/$MID1" "$SESS_bob" '{"folder":"Bad!"}'
err_is "move to a bad name" 400 bad_request
api DELETE folders/email/proj "$SESS_bob"
err_is "delete a folder that holds a message" 409 conflict
api POST folders/email/proj "$SESS_bob" '{"parent":"job"}'
expect "move proj under job" 200
api DELETE folders/email/job "$SESS_bob"
err_is "delete a folder with a child" 409 conflict
api POST "message_move/$MID1" "$SESS_bob" '{"folder":null}'
expect "move a message back to the root" 200
api DELETE folders/email/proj "$SESS_bob"
expect "delete an empty folder" 204
api DELETE folders/email/proj "$SESS_bob"
err_is "delete it again" 404 not_found
api DELETE folders/email/job "$SESS_bob"
expect "delete the parent now" 204
api GET folders/email "$SESS_alice"
expect "alice has no folders" 200 '.folders == []'

# Delete.
api GET quota "$SESS_bob"
used=$(jq .used <<<"$BODY")
api DELETE "message/$MID1" "$SESS_alice"
err_is "delete another user's message" 404 not_found
api DELETE "message/$MID1" "$SESS_bob"
expect "delete a message" 204
api GET "message/$MID1" "$SESS_bob"
err_is "a deleted message is gone" 404 not_found
api DELETE "message/$MID1" "$SESS_bob"
err_is "delete it again" 404 not_found
api GET quota "$SESS_bob"
expect "quota gives the bytes back" 200 ".used == $((used - 116))"

# ---- concurrency -------------------------------------------------------
# 16 parallel drawers of bob's keys (bob has 45 - 20 - 3 - ... left).
pids=()
for i in $(seq 1 16); do
	OUT="par$i.out" api POST get_message_key "$SESS_carol" '{"address":"bob#a.test"}' &
	pids+=($!)
done
wait "${pids[@]}"
n=0
for i in $(seq 1 16); do
	jq -e '.non_ephemeral == false' "par$i.out" >/dev/null 2>&1 && n=$((n + 1))
	jq -r .message_key.key "par$i.out"
done > drawn.txt
[[ $n -eq 16 && $(sort -u drawn.txt | wc -l) -eq 16 ]] &&
	pass "16 parallel drawers get 16 different ephemeral keys" ||
	fail "parallel draws: $n ephemeral, $(sort -u drawn.txt | wc -l) distinct"

# One nonce named by 8 different parallel sends: accepted once.
pow alice bob
for i in $(seq 1 8); do
	body alice 1 bob "$NEPH_bob" "$NONCE" "$ZB" $((30 + i)) > "nb$i.json"
done
pids=()
for i in $(seq 1 8); do
	OUT="ns$i.out" send alice bob "$(cat "nb$i.json")" &
	pids+=($!)
done
wait "${pids[@]}"
ok=0
bad=0
for i in $(seq 1 8); do
	if jq -e .message_id "ns$i.out" >/dev/null 2>&1; then ok=$((ok + 1))
	elif jq -e '.error == "bad_proof_of_work"' "ns$i.out" >/dev/null 2>&1; then bad=$((bad + 1))
	fi
done
[[ $ok -eq 1 && $bad -eq 7 ]] && pass "a nonce is accepted once under 8 parallel sends" ||
	fail "parallel sends: $ok accepted, $bad bad_proof_of_work"

# One envelope sent 8 times at once (a client retrying before its answer
# came), on a non-ephemeral and on an ephemeral key (whose use commits with
# the message): every copy answers the same id and one message is stored.
same_envelope_8() { # KEY WHAT
	local before after i pids=()
	api GET "folder/email?limit=1000" "$SESS_bob"
	before=$(jq '.messages | length' <<<"$BODY")
	pow alice bob
	body alice 1 bob "$1" "$NONCE" "$ZB" 77 > same.json
	for i in $(seq 1 8); do
		OUT="rs$i.out" send alice bob "$(cat same.json)" &
		pids+=($!)
	done
	wait "${pids[@]}"
	jq -r '.message_id // .error' rs*.out | sort -u > same_ids.txt
	api GET "folder/email?limit=1000" "$SESS_bob"
	after=$(jq '.messages | length' <<<"$BODY")
	[[ $(wc -l <same_ids.txt) -eq 1 ]] && grep -qE '^[0-9a-f]{64}$' same_ids.txt &&
		[[ $after -eq $((before + 1)) ]] &&
		pass "8 parallel identical sends on $2 answer one id and store one message" ||
		fail "parallel identical sends on $2: $(tr '\n' ' ' <same_ids.txt), $before -> $after messages"
}
same_envelope_8 "$NEPH_bob" "the non-ephemeral key"
draw alice bob
same_envelope_8 "$KEY" "an ephemeral key"

# 16 parallel sends with their own nonces all land (group commit path).
for i in $(seq 1 16); do
	pow alice bob
	body alice 1 bob "$NEPH_bob" "$NONCE" "$ZB" 40 > "gb$i.json"
done
pids=()
for i in $(seq 1 16); do
	OUT="gs$i.out" send alice bob "$(cat "gb$i.json")" &
	pids+=($!)
done
wait "${pids[@]}"
ok=0
for i in $(seq 1 16); do
	jq -e .message_id "gs$i.out" >/dev/null 2>&1 && ok=$((ok + 1))
done
[[ $ok -eq 16 ]] && pass "16 parallel sends stored" || fail "parallel sends: $ok of 16"

# The server still answers and logs no message content.
api GET folder/email "$SESS_bob"
expect "server still answers" 200
grep -q 'aGVsbG8\|abcdefghij' server.log && fail "message content in the log" ||
	pass "no message content in the log"

# ---- rate limits ---------------------------------------------------------
# A second server on the same database with tight limits (rate_* keys).
rate_server() { # NAME ADDR_RATE ADDR_BURST SESSION_RATE SESSION_BURST [LOOPBACK]
	PORT2=$(pick_port)
	sed -e "s/127.0.0.1:$PORT/127.0.0.1:$PORT2/" -e "s/a.test:$PORT/a.test:$PORT2/" \
		smimpd.conf > "$1.conf"
	printf 'rate_per_address = %s\nrate_burst_per_address = %s\nrate_per_session = %s\nrate_burst_per_session = %s\nrate_limit_loopback = %s\n' \
		"$2" "$3" "$4" "$5" "${6:-false}" >> "$1.conf"
	start_smimpd "$SMIMPD" "$1.conf" "$1.log" a.test "$PORT2"
}
# hammer N ARGS...: N requests; R429 = how many were 429, RA = a Retry-After.
hammer() {
	local n=$1 i st
	shift
	R429=0
	RA=
	for i in $(seq 1 "$n"); do
		st=$(curl -sS -o rl.out -D rl.h -w '%{http_code}' --cacert ca.pem \
			--connect-to "a.test:$PORT2:127.0.0.1:$PORT2" "$@") || st=x
		if [[ $st == 429 ]]; then
			R429=$((R429 + 1))
			RA=$(tr -d '\r' < rl.h | sed -n 's/^[Rr]etry-[Aa]fter: //p')
			grep -q '"error":"rate_limited"' rl.out || fail "429 body: $(cat rl.out)"
		fi
	done
}
rate_server rate1 1 3 0 1 true
hammer 8 "https://a.test:$PORT2/version"
[[ $R429 -ge 4 && $RA =~ ^[0-9]+$ && $RA -ge 1 ]] &&
	pass "per-address limit: $R429 of 8 answered 429 with Retry-After $RA" ||
	fail "per-address limit: $R429 of 8 were 429, Retry-After '$RA'"
stop_smimpd "$LAST_PID"
rate_server rate2 0 1 1 3
hammer 8 -H "SMIMP-Authentication: $SESS_bob" "https://a.test:$PORT2/0.1/quota"
[[ $R429 -ge 4 && -n $RA ]] && pass "per-session limit: $R429 of 8 answered 429" ||
	fail "per-session limit: $R429 of 8 were 429"
hammer 2 -H "SMIMP-Authentication: $SESS_alice" "https://a.test:$PORT2/0.1/quota"
[[ $R429 -eq 0 ]] && pass "another session is not limited" ||
	fail "another session got $R429 429s"
stop_smimpd "$LAST_PID"

lib_finish server.log
