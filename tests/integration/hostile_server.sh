#!/usr/bin/env bash
# smimpd under hostile input, over real TLS on loopback (issue 6, part 3):
# slow clients (a stalled TLS handshake and never-ending headers, one byte a
# second each) do not starve a normal client; oversized headers, bodies,
# JSON depth, strings and arrays get 4xx and the server keeps answering;
# invalid UTF-8; path traversal and control characters in folder names,
# avatar data and paths; replays of a login signature, a proof of work and
# an envelope, a login signature bound to another server; two racing
# initialize_account calls; a history grown by many update_profile calls.
#
# Usage: hostile_server.sh SMIMPD TESTCLIENT HOSTILE_HELPER
# Environment (defaults keep the test well under two minutes):
#   HOSTILE_SLOW_CONNS=200     slow connections of each kind
#   HOSTILE_SLOW_SECONDS=15    how long they keep trickling
#   HOSTILE_HISTORY=2000       update_profile calls; the full run of the
#                              spec's limit is HOSTILE_HISTORY=9999 (record 0
#                              plus 9,999 = 10,000 records, then one refused)
set -euo pipefail

SMIMPD=${1:?usage: $0 SMIMPD TESTCLIENT HELPER}
TC=${2:?usage: $0 SMIMPD TESTCLIENT HELPER}
HELPER=${3:?usage: $0 SMIMPD TESTCLIENT HELPER}
SMIMPD=$(cd "$(dirname "$SMIMPD")" && pwd)/$(basename "$SMIMPD")
TC=$(cd "$(dirname "$TC")" && pwd)/$(basename "$TC")
HELPER=$(cd "$(dirname "$HELPER")" && pwd)/$(basename "$HELPER")
SLOW_CONNS=${HOSTILE_SLOW_CONNS:-200}
SLOW_SECONDS=${HOSTILE_SLOW_SECONDS:-15}
HISTORY=${HOSTILE_HISTORY:-2000}
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lib_init hostile_server
make_certs

PORT=$(pick_port)
MAX_EPH=50
{
	server_conf a.test "$PORT" "sqlite:$TMP/smimpd.db"
	cat <<EOF
pow_zero_bits = 4
max_request_bytes = 256k
max_envelope_bytes = 4k
max_avatar_bytes = 1k
max_ephemeral_keys = $MAX_EPH
max_list_page = 50
threads = 4
connection_timeout = 60
# The long history sends thousands of calls in one session as fast as it
# can: the per-session request rate limit is not what is tested here.
rate_per_session = 0
EOF
} > smimpd.conf
BASE=https://a.test:$PORT
CONNECT=(--connect-to "a.test:$PORT:127.0.0.1:$PORT")

# api METHOD PATH SESSION|- [BODY]: ST = status, BODY = response body. The
# path is taken as is (curl --path-as-is), so ../ reaches the server.
api() {
	local m=$1 p=$2 s=$3 b=${4-}
	local args=(-X "$m" --path-as-is)
	[[ $s != - ]] && args+=(-H "SMIMP-Authentication: $s")
	if [[ $# -ge 4 ]]; then
		printf '%s' "$b" > req.body
		args+=(-H 'Content-Type: application/json' --data-binary @req.body)
	fi
	ST=$(curl -sS -o body.out -D headers.out -w '%{http_code}' --max-time 20 \
		--cacert ca.pem "${CONNECT[@]}" "${args[@]}" "$BASE/0.1/$p" 2>curl.err) ||
		ST=curl-error
	BODY=$(cat body.out 2>/dev/null || true)
}
# api_file METHOD PATH SESSION FILE: the body from a file (large bodies).
api_file() {
	local args=(-X "$1" -H 'Content-Type: application/json' --data-binary "@$4")
	[[ $3 != - ]] && args+=(-H "SMIMP-Authentication: $3")
	ST=$(curl -sS -o body.out -w '%{http_code}' --max-time 30 --cacert ca.pem \
		"${CONNECT[@]}" "${args[@]}" "$BASE/0.1/$2" 2>curl.err) || ST=curl-error
	BODY=$(head -c 2000 body.out 2>/dev/null || true)
}
# expect NAME STATUSES [ERROR_CODE]: STATUSES is one status or a|b|c.
expect() {
	local name=$1 want=$2 code=${3-}
	if [[ ! $ST =~ ^($want)$ ]]; then
		fail "$name: status $ST, want $want (body: ${BODY:0:300})"
	elif [[ -n $code ]] && ! jq -e --arg c "$code" '.error == $c' <<<"$BODY" >/dev/null 2>&1; then
		fail "$name: body ${BODY:0:300}, want error $code"
	else
		pass "$name"
	fi
}
# alive NAME: the server still answers a normal request.
alive() {
	api GET "server_information" -
	expect "$1: server still answers" 200
}
elapsed_ms() { echo "$(( ($(date +%s%N) - $1) / 1000000 ))"; }

login() {   # login LOCAL SEED: SESS_x and TOK_x
	local a="$1#a.test" token
	api GET "create_session/$1%23a.test" -
	token=$(jq -r .token <<<"$BODY")
	api POST "create_session/$1%23a.test" - "$("$TC" login-body "$BASE" "$a" "$token" "$2")"
	[[ $ST == 200 ]] || { fail "login $a: $ST $BODY"; return 1; }
	printf -v "SESS_$1" '%s' "$(jq -r .session <<<"$BODY")"
	printf -v "TOK_$1" '%s' "$token"
}
account() { # account LOCAL SEED N_EPHEMERAL: initialized and logged in
	local a="$1#a.test" pw
	pw=$("$SMIMPD" --config smimpd.conf account add "$a")
	api POST "initialize_account/$1%23a.test" - "$("$TC" init-body "$a" "$pw" "$2" "$3")"
	[[ $ST == 200 ]] || { fail "initialize $a: $ST $BODY"; return 1; }
	login "$1" "$2"
}

start_smimpd "$SMIMPD" smimpd.conf server.log a.test "$PORT"
account alice 1 10
account bob 2 3
PK_alice=$("$TC" pubkey 1)

# ---- slow clients ------------------------------------------------------
# SLOW_CONNS connections stalled in the TLS handshake and SLOW_CONNS more
# sending endless headers, one byte a second each; meanwhile a normal
# client's requests must each answer within 3 seconds.
"$HELPER" slow 127.0.0.1 "$PORT" "$SLOW_CONNS" "$SLOW_SECONDS" handshake > slow1.out 2>&1 &
SLOW1=$!
LIB_PIDS+=("$SLOW1")
"$HELPER" slow 127.0.0.1 "$PORT" "$SLOW_CONNS" "$SLOW_SECONDS" headers > slow2.out 2>&1 &
SLOW2=$!
LIB_PIDS+=("$SLOW2")
sleep 3
worst=0
for i in $(seq 1 $((SLOW_SECONDS / 2 > 3 ? SLOW_SECONDS / 2 : 3))); do
	t0=$(date +%s%N)
	api GET "folders" "$SESS_alice"
	ms=$(elapsed_ms "$t0")
	((ms > worst)) && worst=$ms
	[[ $ST == 200 ]] || fail "request $i during the slow clients: status $ST"
	sleep 1
done
((worst < 3000)) && pass "normal requests answered during slowloris (worst ${worst} ms)" ||
	fail "a normal request took ${worst} ms during slowloris"
wait "$SLOW1" || true
wait "$SLOW2" || true
echo "slow clients: handshake $(cat slow1.out), headers $(cat slow2.out)"
grep -q "opened=$SLOW_CONNS " slow2.out && pass "all $SLOW_CONNS slow header clients got in" ||
	fail "slow header clients: $(cat slow2.out) (the test did not load the server)"
alive "after slowloris"

# ---- oversized input ----------------------------------------------------
# refused_or_reset NAME: a 4xx answer, or (libmicrohttpd answers 431/414 and
# closes while curl may still be sending) a connection reset; the server
# must answer normally afterwards either way (alive below).
refused_or_reset() {
	if [[ $ST =~ ^(400|404|413|414|431)$ ]]; then
		pass "$1 refused ($ST)"
	elif [[ $ST == curl-error ]] && grep -qiE 'reset|send failure|recv failure|broken pipe|empty reply' curl.err; then
		pass "$1: connection closed by the server ($(head -c 80 curl.err))"
	else
		fail "$1: status $ST $(head -c 200 curl.err)"
	fi
}
for kb in 40 200; do
	{ printf 'X-Big: '; head -c $((kb * 1000)) /dev/zero | tr '\0' 'a'; echo; } > big.hdr
	ST=$(curl -sS -o body.out -w '%{http_code}' --max-time 20 --cacert ca.pem "${CONNECT[@]}" \
		-H @big.hdr "$BASE/version" 2>curl.err) || ST=curl-error
	refused_or_reset "$kb kB header"
done
many=()
for i in $(seq 1 2000); do many+=(-H "X-H$i: v"); done
ST=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 20 --cacert ca.pem "${CONNECT[@]}" \
	"${many[@]}" "$BASE/version" 2>curl.err) || ST=curl-error
refused_or_reset "2000 headers"
alive "after big headers"
long_path=$(head -c 100000 /dev/zero | tr '\0' 'a')
api GET "folder/email/$long_path" "$SESS_alice"
refused_or_reset "100 kB path"

head -c $((300 * 1024)) /dev/zero | tr '\0' ' ' > big.json
api_file POST get_message_key "$SESS_bob" big.json
expect "body over max_request_bytes (Content-Length)" 413 too_large
ST=$(curl -sS -o body.out -w '%{http_code}' --max-time 30 --cacert ca.pem "${CONNECT[@]}" \
	-H "SMIMP-Authentication: $SESS_bob" -H 'Transfer-Encoding: chunked' \
	-H 'Content-Type: application/json' --data-binary @big.json \
	"$BASE/0.1/get_message_key" 2>curl.err) || ST=curl-error
BODY=$(cat body.out 2>/dev/null || true)
[[ $ST == 413 || $ST == curl-error ]] && pass "chunked body over the limit refused ($ST)" ||
	fail "chunked body over the limit: status $ST ${BODY:0:200}"
alive "after big bodies"

# JSON depth: 40 levels (over the parser's 32) and 100,000 levels.
deep() { printf '{"address":'; head -c "$1" /dev/zero | tr '\0' '['; head -c "$1" /dev/zero | tr '\0' ']'; printf '}'; }
deep 40 > deep.json
api_file POST get_message_key "$SESS_bob" deep.json
expect "JSON nested 40 deep" 400 bad_request
deep 100000 > deep.json
api_file POST get_message_key "$SESS_bob" deep.json
expect "JSON nested 100,000 deep" "400|413"
head -c 100000 /dev/zero | tr '\0' '[' > deep.json
api_file POST folders "$SESS_alice" deep.json
expect "100,000 unclosed brackets" "400|413"
alive "after deep JSON"

# Long strings.
printf '{"display_name":"%s","name":"long","parent":null,"message_type":"email"}' \
	"$(head -c 200000 /dev/zero | tr '\0' 'x')" > long.json
api_file POST folders "$SESS_alice" long.json
expect "200 kB folder display name" "400|413"
printf '{"address":"%s#a.test"}' "$(head -c 100000 /dev/zero | tr '\0' 'x')" > long.json
api_file POST get_message_key "$SESS_bob" long.json
expect "100 kB address" "400|413"
printf '{"hash":"%s","data":"%s"}' "$(head -c 64 /dev/zero | tr '\0' '1')" \
	"$(head -c 200000 /dev/zero | tr '\0' 'A')" > long.json
api_file POST whitelist "$SESS_alice" long.json
expect "200 kB list note" "400|413"
# Arrays: one ephemeral key over max_ephemeral_keys, and 50,000 elements.
"$TC" keys-body alice#a.test 1 $((MAX_EPH + 1)) > keys.json
api_file POST ephemeral_keys "$SESS_alice" keys.json
expect "$((MAX_EPH + 1)) ephemeral keys" 413 too_large
{ printf '{"keys":['; for i in $(seq 1 5000); do printf '1,1,1,1,1,1,1,1,1,1,'; done; printf '1]}'; } > arr.json
api_file POST ephemeral_keys "$SESS_alice" arr.json
expect "50,001-element array" "400|413"
api GET "ephemeral_keys" "$SESS_alice"
[[ $ST == 200 && $(jq '.keys | length' <<<"$BODY") == 10 ]] &&
	pass "refused key uploads changed nothing" ||
	fail "ephemeral keys after refusals: $ST $(jq '.keys | length' <<<"$BODY")"
# An envelope over max_envelope_bytes (the check comes before the key's).
api POST get_message_key "$SESS_bob" '{"address":"alice#a.test"}'
MK=$(jq -r .message_key.key <<<"$BODY")
"$TC" send-body alice#a.test bob#a.test 2 "$MK" "$TOK_bob" email - 0 8000 > env.json
api_file POST "send_message/alice%23a.test" "$SESS_bob" env.json
expect "envelope over max_envelope_bytes" 413 too_large
# An avatar over max_avatar_bytes.
{ printf '\x89PNG\r\n\x1a\n'; head -c 4000 /dev/urandom; } > big.png
api_file POST user_avatar "$SESS_alice" <("$TC" avatar-body alice#a.test 1 big.png)
expect "avatar over max_avatar_bytes" 413 too_large
alive "after oversized fields"

# ---- invalid UTF-8 and Unicode ------------------------------------------
for bad in 'c328' 'ff' 'e28228' 'c0af' 'eda080' 'f4908080'; do
	printf '{"display_name":"a%sb","name":"u%s","parent":null,"message_type":"email"}' \
		"$(printf "$(sed 's/../\\x&/g' <<<"$bad")")" "$bad" > utf.json
	api_file POST folders "$SESS_alice" utf.json
	expect "invalid UTF-8 bytes $bad in a string" 400 bad_request
done
printf '{"address":"alice#a.test","x":"\\ud800"}' > utf.json
api_file POST get_message_key "$SESS_bob" utf.json
expect "lone surrogate escape" 400 bad_request
printf '{"address":"alice#a.test"}\xff' > utf.json
api_file POST get_message_key "$SESS_bob" utf.json
expect "invalid byte after the JSON" 400 bad_request
api GET "get_user/al%ffice%23a.test/history" -
expect "invalid UTF-8 in a path address" 400 bad_request
api GET "get_user/alice%00%23a.test/history" -
expect "NUL in a path address" 400 bad_request

# ---- traversal and control characters ----------------------------------
api POST folders "$SESS_alice" '{"display_name":"Work","name":"work","parent":null,"message_type":"email"}'
expect "a normal folder" 201
for name in '..' '../etc' 'a/b' '..%2f..' 'a\\b' '.' 'a\u0000' 'a\nb' 'a\u001b[0m' 'Work' ' w'; do
	api POST folders "$SESS_alice" "{\"display_name\":\"x\",\"name\":\"$name\",\"parent\":null,\"message_type\":\"email\"}"
	expect "folder name '$name' refused" 400 bad_request
done
api POST folders "$SESS_alice" '{"display_name":"x","name":"sub","parent":"../work","message_type":"email"}'
expect "parent '../work'" "400|404"
for seg in '..' '..%2F..%2Fetc' '%2e%2e' 'work%2F..' 'work%00' '%0a' 'work/../work'; do
	api GET "folder/email/$seg" "$SESS_alice"
	expect "folder path '$seg' refused" "400|404"
	api DELETE "folders/email/$seg" "$SESS_alice"
	expect "delete path '$seg' refused" "400|404|405"
done
api GET "folder/../../../../etc/passwd" "$SESS_alice"
expect "traversal above the version" "400|404"
api GET "../../../etc/passwd" -
expect "traversal before the version" "400|404"
# Control characters in a display name: refused, or stored and returned
# byte for byte as JSON escapes (never as raw control bytes).
api POST folders "$SESS_alice" '{"display_name":"a\u0001b\u001b[31mc\u007f","name":"ctl","parent":null,"message_type":"email"}'
if [[ $ST == 400 ]]; then
	pass "control characters in a display name refused"
elif [[ $ST == 201 ]]; then
	api GET "folders/email" "$SESS_alice"
	if LC_ALL=C grep -q $'[\x01\x1b]' body.out; then
		fail "raw control bytes in a folder listing"
	elif jq -e '.folders[] | select(.name == "ctl") | .display_name == "a\u0001b\u001b[31mc\u007f"' body.out >/dev/null; then
		pass "control characters in a display name kept exactly, escaped"
	else
		fail "display name with control characters changed: ${BODY:0:300}"
	fi
else
	fail "control characters in a display name: status $ST"
fi
# Avatar data: not an image, a PNG whose bytes carry a path, bad base64,
# a signature over other bytes; avatar_file with traversal.
printf 'GIF89a../../etc/passwd' > gif.bin
api_file POST user_avatar "$SESS_alice" <("$TC" avatar-body alice#a.test 1 gif.bin)
expect "GIF avatar" 415 unsupported_media
: > empty.bin
api_file POST user_avatar "$SESS_alice" <("$TC" avatar-body alice#a.test 1 empty.bin)
expect "empty avatar" "400|415"
printf '\x89PNG\r\n\x1a\n../../../../etc/passwd\x00\n\x1b[2J' > trav.png
api_file POST user_avatar "$SESS_alice" <("$TC" avatar-body alice#a.test 1 trav.png)
expect "PNG carrying a path and control bytes" 200
api GET "user_avatar/alice%23a.test" -
expect "avatar URL" 200
url=$(jq -r .url <<<"$BODY")
[[ $url == "$BASE/0.1/avatar_file/"* && ! $url =~ \.\. ]] && pass "avatar URL is the server's own" ||
	fail "avatar URL $url"
ST=$(curl -sS -o avatar.out -w '%{http_code}' --cacert ca.pem "${CONNECT[@]}" "$url") || ST=curl-error
[[ $ST == 200 ]] && cmp -s avatar.out trav.png && pass "avatar bytes served back exactly" ||
	fail "avatar file: $ST"
"$TC" avatar-body alice#a.test 1 trav.png | jq -c '.image |= sub("=*$"; "") + "A="' > a.json
api_file POST user_avatar "$SESS_alice" a.json
expect "avatar with non-canonical base64" 400 bad_request
"$TC" avatar-body alice#a.test 1 trav.png | jq -c --arg i "$(base64 -w0 < gif.bin)" '.image = $i' > a.json
api_file POST user_avatar "$SESS_alice" a.json
expect "avatar signature over other bytes" "415|422"
for f in '..%2F..%2Fetc%2Fpasswd' '../../etc/passwd' "$(printf '%064d' 0)" 'ABCDEF' '%00'; do
	api GET "avatar_file/$f" -
	expect "avatar_file '$f'" "400|404"
done
alive "after traversal"

# ---- replays --------------------------------------------------------------
# A login signature used twice: the second POST is 401.
api GET "create_session/alice%23a.test" -
token=$(jq -r .token <<<"$BODY")
lb=$("$TC" login-body "$BASE" alice#a.test "$token" 1)
api POST "create_session/alice%23a.test" - "$lb"
expect "login" 200
api POST "create_session/alice%23a.test" - "$lb"
expect "replayed login signature" 401 unauthenticated
# The same token signed for bob's address, at alice's path.
api GET "create_session/alice%23a.test" -
token=$(jq -r .token <<<"$BODY")
api POST "create_session/bob%23a.test" - "$("$TC" login-body "$BASE" bob#a.test "$token" 2)"
expect "token of alice used for bob" 401 unauthenticated
# A login signature bound to another server's base URL.
api GET "create_session/alice%23a.test" -
token=$(jq -r .token <<<"$BODY")
api POST "create_session/alice%23a.test" - "$("$TC" login-body "https://b.test:$PORT" alice#a.test "$token" 1)"
expect "login signed for another server" 422 bad_signature
api POST "create_session/alice%23a.test" - "$("$TC" login-body "$BASE" alice#a.test "$token" 1)"
expect "the token is used up by the failed login" 401 unauthenticated
api GET "create_session/alice%23a.test" -
token=$(jq -r .token <<<"$BODY")
api POST "create_session/alice%23a.test" - "$("$TC" login-body "$BASE/" alice#a.test "$token" 1)"
expect "login signed for the base URL with a trailing slash" 422 bad_signature

# A proof of work used twice: a second, different envelope with the nonce
# of the first is 422 bad_proof_of_work.
pow_send() {  # pow_send NONCE SIZE OUTFILE: a send_message body in bob's session
	api POST get_message_key "$SESS_bob" '{"address":"alice#a.test"}'
	"$TC" send-body alice#a.test bob#a.test 2 "$(jq -r .message_key.key <<<"$BODY")" \
		"$TOK_bob" email "$1" 4 "$2" > "$3"
}
api GET "get_pow_params/alice%23a.test/email" "$SESS_bob"
NONCE=$(jq -r .nonce <<<"$BODY")
pow_send "$NONCE" 64 env1.json
api_file POST "send_message/alice%23a.test" "$SESS_bob" env1.json
expect "message with a fresh proof of work" 200
MID=$(jq -r .message_id <<<"$BODY")
api_file POST "send_message/alice%23a.test" "$SESS_bob" env1.json
[[ $ST == 200 && $(jq -r .message_id <<<"$BODY") == "$MID" ]] &&
	pass "identical retry answers the first message_id" || fail "identical retry: $ST $BODY"
pow_send "$NONCE" 65 env2.json
api_file POST "send_message/alice%23a.test" "$SESS_bob" env2.json
expect "replayed proof of work" 422 bad_proof_of_work
# The envelope replayed in another session of bob (its login token hash and
# PoW nonce belong to the first session).
OLD_SESS=$SESS_bob
login bob 2
api_file POST "send_message/alice%23a.test" "$SESS_bob" env1.json
expect "envelope replayed in another session" 422
[[ $SESS_bob != "$OLD_SESS" ]] || fail "second session equals the first"
# And after the session it came from is destroyed.
api POST destroy_session "$OLD_SESS" '{}'
expect "destroy the first session" 204
api_file POST "send_message/alice%23a.test" "$OLD_SESS" env1.json
expect "envelope replayed in a destroyed session" 401 unauthenticated
api GET "folder/email" "$SESS_alice"
[[ $(jq '[.messages[] | select(.message_id == "'"$MID"'")] | length' <<<"$BODY") == 1 &&
   $(jq '.messages | length' <<<"$BODY") == 1 ]] &&
	pass "exactly one message stored through all the replays" ||
	fail "mailbox after replays: ${BODY:0:400}"

# ---- racing initialize_account -------------------------------------------
for r in 1 2 3; do
	pw=$("$SMIMPD" --config smimpd.conf account add "race$r#a.test")
	body=$("$TC" init-body "race$r#a.test" "$pw" $((10 + r)) 2)
	pids=()
	for k in 1 2; do
		printf '%s' "$body" > "race$k.json"
		curl -sS -o "race$k.out" -w '%{http_code}' --max-time 30 --cacert ca.pem \
			"${CONNECT[@]}" -H 'Content-Type: application/json' \
			--data-binary "@race$k.json" "$BASE/0.1/initialize_account/race$r%23a.test" \
			> "race$k.st" 2>/dev/null &
		pids+=("$!")
	done
	wait "${pids[@]}" || true
	got=$(printf '%s\n%s\n' "$(cat race1.st)" "$(cat race2.st)" | sort | tr '\n' ' ')
	[[ $got == "200 409 " ]] && pass "race $r: one 200, one 409" || fail "race $r: statuses $got"
	api GET "get_user/race$r%23a.test/history" -
	[[ $(jq '.records | length' <<<"$BODY") == 1 ]] || fail "race $r: history ${BODY:0:200}"
done

# ---- a long history -------------------------------------------------------
# HISTORY update_profile calls over one keep-alive connection (a curl config
# file with --next), then the history must be whole, fast to serve, and
# the chain's limits must hold. Each call's time is kept: an update must
# not slow down as the history grows.
api GET "get_user/alice%23a.test/public_key" -
prev=$(jq -r .signed_hash <<<"$BODY")
seq0=$(jq -r .seq <<<"$BODY")
mkdir chain
t0=$(date +%s%N)
last=$("$HELPER" chain alice#a.test 1 $((seq0 + 1)) "$prev" "$HISTORY" chain)
echo "$HISTORY records built and signed in $(elapsed_ms "$t0") ms"
t0=$(date +%s%N)
{
	for i in $(seq 1 "$HISTORY"); do
		printf 'url = "%s/0.1/update_profile"\n' "$BASE"
		printf 'cacert = "%s/ca.pem"\nconnect-to = "%s"\n' "$TMP" "${CONNECT[1]}"
		printf 'header = "SMIMP-Authentication: %s"\n' "$SESS_alice"
		printf 'header = "Content-Type: application/json"\n'
		printf 'data-binary = "@chain/%s"\n' "$i"
		printf 'write-out = "%%{http_code} %%{time_total}\\n"\noutput = "/dev/null"\n'
		[[ $i -lt $HISTORY ]] && printf 'next\n'
	done
} > chain.curl
curl -sS -K chain.curl > chain.st 2>curl.err || true
ms=$(elapsed_ms "$t0")
ok=$(grep -c '^200 ' chain.st || true)
[[ $ok == "$HISTORY" ]] && pass "$HISTORY profile updates accepted in ${ms} ms" ||
	fail "profile updates: $ok of $HISTORY answered 200 ($(cut -d ' ' -f 1 chain.st | sort | uniq -c | tr '\n' ' '))"
# median_ms: the median of the times (seconds, column 2) on stdin, in ms.
median_ms() {
	awk '{ print $2 * 1000 }' | LC_ALL=C sort -n |
		awk '{ v[NR] = $1 } END { printf "%.2f", NR ? v[int((NR + 1) / 2)] : 0 }'
}
# The first and the last tenth of the updates: bounded work per update keeps
# them alike. The bound is loose (twice, plus 2 ms, for a busy machine); the
# full run still catches an update that reads the whole history, as the
# former read of every earlier record's key did (median 1.9 ms at the start,
# 8.8 ms near 10,000 records on SQLite; 3.1 and 20.6 ms on PostgreSQL).
tenth=$((HISTORY >= 10 ? HISTORY / 10 : 1))
first_ms=$(head -n "$tenth" chain.st | median_ms)
last_ms=$(tail -n "$tenth" chain.st | median_ms)
took="an update takes ${first_ms} ms at the start of the history, ${last_ms} ms at the end"
# Timing is judged only in the full run (HOSTILE_HISTORY=9999, RELIABILITY.md),
# where a per-update read of the history is 4-7 times slower at the end; in
# the short CI run the difference would be within the noise of a shared
# machine, so there the figures are printed, not judged.
if ((HISTORY >= 5000)); then
	awk -v f="$first_ms" -v l="$last_ms" 'BEGIN { exit !(l <= 2 * f + 2) }' &&
		pass "$took" || fail "$took: it grows with the history"
else
	echo "figures: $took (judged only with HOSTILE_HISTORY >= 5000)"
fi
t0=$(date +%s%N)
api GET "get_user/alice%23a.test/history" -
ms=$(elapsed_ms "$t0")
n=$(jq '.records | length' body.out)
[[ $ST == 200 && $n == $((seq0 + 1 + HISTORY)) ]] && pass "history of $n records" ||
	fail "history: status $ST, $n records, want $((seq0 + 1 + HISTORY))"
((ms < 5000)) && pass "history of $n records served in ${ms} ms" ||
	fail "history of $n records took ${ms} ms"
t0=$(date +%s%N)
api GET "get_user/alice%23a.test/public_key" -
ms=$(elapsed_ms "$t0")
[[ $(jq -r .signed_hash <<<"$BODY") == "$last" ]] && pass "latest record is the last one sent" ||
	fail "latest record: ${BODY:0:200}"
((ms < 1000)) && pass "public_key after $n records in ${ms} ms" || fail "public_key took ${ms} ms"
# Limits: a record that does not extend the chain (seq reused) is 409; at
# the spec's 10,000 records the next one is refused.
mkdir chain2
"$HELPER" chain alice#a.test 1 $((seq0 + HISTORY)) "$prev" 1 chain2 >/dev/null
api_file POST update_profile "$SESS_alice" chain2/1
expect "record with a used seq" 409 conflict
if ((seq0 + 1 + HISTORY >= 10000)); then
	mkdir chain3
	"$HELPER" chain alice#a.test 1 $((seq0 + 1 + HISTORY)) "$last" 1 chain3 >/dev/null
	api_file POST update_profile "$SESS_alice" chain3/1
	expect "record 10,001 refused" "409|413"
fi
alive "after the long history"
grep -q 'AddressSanitizer\|runtime error' server.log && fail "sanitizer report in server.log" || true

lib_finish server.log
