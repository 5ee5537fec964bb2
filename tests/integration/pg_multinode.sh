#!/usr/bin/env bash
# Two smimpd nodes on one PostgreSQL database, as behind a load balancer:
# both answer for https://a.test:P1 (the client reaches node 2 by pointing
# that name at its port). Started together on an empty database (the
# migrations must not race); a session made on one node works on the
# other and dies on both when destroyed; 32 concurrent key draws spread
# over both nodes never get the same key; a proof-of-work nonce issued by
# one node is accepted once across both, also when two sends race; a node
# killed with SIGKILL mid-load loses no message it answered 200 for: every
# such message is then read back on the other node, byte for byte.
# Usage: pg_multinode.sh PATH_TO_SMIMPD PATH_TO_TESTCLIENT
set -euo pipefail

SMIMPD=${1:?usage: $0 SMIMPD TESTCLIENT}
TC=${2:?usage: $0 SMIMPD TESTCLIENT}
SMIMPD=$(cd "$(dirname "$SMIMPD")" && pwd)/$(basename "$SMIMPD")
TC=$(cd "$(dirname "$TC")" && pwd)/$(basename "$TC")
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lib_init pg_multinode
make_certs
pg_start
pg_createdb smimp

P1=$(pick_port)
P2=$(pick_port)
while [[ $P2 == "$P1" ]]; do P2=$(pick_port); done
BASE=https://a.test:$P1
BITS=8
for n in 1 2; do
	port=$P1
	[[ $n == 2 ]] && port=$P2
	cat > "n$n.conf" <<EOC
domain = a.test
listen = 127.0.0.1:$port
public_url = https://a.test:$P1
tls_cert = $TMP/srv.pem
tls_key = $TMP/srv.key
database = $PG_URL
pow_zero_bits = $BITS
max_envelope_bytes = 64k
max_request_bytes = 512k
threads = 4
EOC
done
CON1=(--connect-to "a.test:$P1:127.0.0.1:$P1")
CON2=(--connect-to "a.test:$P1:127.0.0.1:$P2")

# Both nodes start at once on the empty database.
"$SMIMPD" --config n1.conf serve 2>>n1.log &
PID1=$!
"$SMIMPD" --config n2.conf serve 2>>n2.log &
PID2=$!
LIB_PIDS+=("$PID1" "$PID2")
up() { curl -s -o /dev/null --cacert ca.pem "${@}" "$BASE/version"; }
for _ in $(seq 1 100); do
	up "${CON1[@]}" && up "${CON2[@]}" && break
	sleep 0.1
done
up "${CON1[@]}" && up "${CON2[@]}" && pass "two nodes started together on one empty database" ||
	{ fail "nodes did not start"; lib_finish n1.log n2.log; }
[[ $(cat n1.log n2.log | grep -c 'migrated from version 0 to 1') -eq 1 ]] &&
	pass "the schema was migrated once" || fail "migrations: $(cat n1.log n2.log)"

# api NODE METHOD PATH SESSION|- [BODY]: ST and BODY (OUT names the file).
api() {
	local node=$1 m=$2 p=$3 s=$4 b=${5-} out=${OUT:-body.out} con
	local args=(-X "$m")
	if [[ $node == 1 ]]; then con=("${CON1[@]}"); else con=("${CON2[@]}"); fi
	[[ $s != - ]] && args+=(-H "SMIMP-Authentication: $s")
	if [[ $# -ge 5 ]]; then
		printf '%s' "$b" > "$out.req"
		args+=(-H 'Content-Type: application/json' --data-binary "@$out.req")
	fi
	ST=$(curl -sS -o "$out" -w '%{http_code}' --max-time 20 --cacert ca.pem \
		"${con[@]}" "${args[@]}" "$BASE/0.1/$p" 2>/dev/null) || ST=curl-error
	BODY=$(cat "$out" 2>/dev/null || true)
}
expect() {
	if [[ $ST != "$2" ]]; then
		fail "$1: status $ST, want $2 (body: ${BODY:0:300})"
	elif [[ -n ${3-} ]] && ! jq -e "$3" <<<"$BODY" >/dev/null 2>&1; then
		fail "$1: body ${BODY:0:300} is not $3"
	else
		pass "$1"
	fi
}

# ---- accounts and sessions across nodes --------------------------------
# account NODE LOCAL SEED N_EPHEMERAL; login NODE LOCAL SEED: SESS_x, TOK_x.
login() {
	local a="$2#a.test" token
	api "$1" GET "create_session/$2%23a.test" -
	token=$(jq -r .token <<<"$BODY")
	api "$1" POST "create_session/$2%23a.test" - "$("$TC" login-body "$BASE" "$a" "$token" "$3")"
	[[ $ST == 200 ]] || { fail "login $a on node $1: $ST $BODY"; return 1; }
	printf -v "SESS_$2" '%s' "$(jq -r .session <<<"$BODY")"
	printf -v "TOK_$2" '%s' "$token"
}
account() {
	local a="$2#a.test" pw
	pw=$("$SMIMPD" --config n1.conf account add "$a")
	api "$1" POST "initialize_account/$2%23a.test" - "$("$TC" init-body "$a" "$pw" "$3" "$4")"
	[[ $ST == 200 ]] || { fail "initialize $a on node $1: $ST $BODY"; return 1; }
	login "$1" "$2" "$3"
}
account 1 bob 2 40
account 2 s1 11 0
account 1 s2 12 0
account 2 s3 13 0
account 1 s4 14 0

# A login token fetched on one node is used up on the other.
api 1 GET "create_session/s1%23a.test" -
tok=$(jq -r .token <<<"$BODY")
lb=$("$TC" login-body "$BASE" s1#a.test "$tok" 11)
api 2 POST "create_session/s1%23a.test" - "$lb"
expect "login token from node 1 accepted by node 2" 200
api 1 POST "create_session/s1%23a.test" - "$lb"
[[ $ST == 4* ]] && pass "the same login token refused by node 1 ($ST)" ||
	fail "login token reused on node 1: $ST $BODY"
api 2 POST "create_session/s1%23a.test" - "$lb"
[[ $ST == 4* ]] && pass "and by node 2 ($ST)" || fail "login token reused on node 2: $ST"

# A session made on node 1 works on node 2; destroyed on node 2, on neither.
login 1 s4 14
api 2 GET folder/email "$SESS_s4"
expect "session from node 1 used on node 2" 200
api 2 POST destroy_session "$SESS_s4"
expect "session destroyed on node 2" 204
api 1 GET folder/email "$SESS_s4"
expect "the destroyed session is refused on node 1" 401
login 2 s4 14

# ---- 32 concurrent draws over both nodes ----------------------------------
pids=()
for i in $(seq 1 32); do
	s=s$(( (i - 1) % 4 + 1 ))
	v=SESS_$s
	OUT="draw$i.out" api $(( i % 2 + 1 )) POST get_message_key "${!v}" '{"address":"bob#a.test"}' &
	pids+=($!)
done
wait "${pids[@]}"
: > drawn.txt
neph=0
for i in $(seq 1 32); do
	if jq -e '.non_ephemeral == false' "draw$i.out" >/dev/null 2>&1; then
		jq -r .message_key.key "draw$i.out" >> drawn.txt
		neph=$((neph + 1))
	fi
done
[[ $neph -eq 32 && $(sort -u drawn.txt | wc -l) -eq 32 ]] &&
	pass "32 concurrent draws on two nodes: 32 ephemeral keys, all different" ||
	fail "concurrent draws: $neph ephemeral, $(sort -u drawn.txt | wc -l) different"

# ---- a proof-of-work nonce is used once across nodes ---------------------
# draw NODE FROM: KEY; pow NODE FROM: NONCE, ZB; body FROM KEY [SIZE] (the
# message differs by its key and nonce; sN signs with seed 10+N)
draw() {
	local v="SESS_$2"
	OUT=${OUT:-body.out} api "$1" POST get_message_key "${!v}" '{"address":"bob#a.test"}'
	KEY=$(jq -r .message_key.key <<<"$BODY")
}
pow() {
	local v="SESS_$2"
	OUT=${OUT:-body.out} api "$1" GET "get_pow_params/bob%23a.test/email" "${!v}"
	NONCE=$(jq -r .nonce <<<"$BODY")
	ZB=$(jq -r .zero_bits <<<"$BODY")
}
body() {
	local t="TOK_$1"
	"$TC" send-body bob#a.test "$1#a.test" $((10 + ${1#s})) "$2" "${!t}" email \
		"$NONCE" "$ZB" "${3:-64}"
}
send() { local v="SESS_$2"; OUT=${OUT:-body.out} api "$1" POST "send_message/bob%23a.test" "${!v}" "$3"; }

pow 1 s1
draw 1 s1
send 2 s1 "$(body s1 "$KEY")"
expect "nonce from node 1 accepted by node 2" 200 '.message_id | test("^[0-9a-f]{64}$")'
draw 2 s1
send 1 s1 "$(body s1 "$KEY")"
expect "the same nonce again on node 1: refused" 422 '.error == "bad_proof_of_work"'
# Two sends with one nonce race on the two nodes: one wins.
pow 2 s2
draw 1 s2
b1=$(body s2 "$KEY")
draw 2 s2
b2=$(body s2 "$KEY" 65)
OUT=race1.out send 1 s2 "$b1" &
r1=$!
OUT=race2.out send 2 s2 "$b2" &
r2=$!
wait "$r1" "$r2"
ok=$(cat race1.out race2.out | grep -c '"message_id"' || true)
bad=$(cat race1.out race2.out | grep -c '"bad_proof_of_work"' || true)
[[ $ok -eq 1 && $bad -eq 1 ]] && pass "two racing sends with one nonce: one accepted, one refused" ||
	fail "racing sends: $ok accepted, $bad refused ($(cat race1.out race2.out))"

# ---- SIGKILL of a node mid-load: no acknowledged message lost ----------
# loader FROM N: sends N messages alternating nodes; every 200 goes to
# acked.FROM as "message_id body_file".
loader() {
	local from=$1 n=$2 i node f
	: > "acked.$from"
	for i in $(seq 1 "$n"); do
		node=$(( i % 2 + 1 ))
		OUT="l.$from.out" pow "$node" "$from" || continue
		[[ $ST == 200 ]] || continue
		OUT="l.$from.out" draw "$node" "$from"
		[[ $ST == 200 ]] || continue
		f="msg.$from.$i.json"
		body "$from" "$KEY" 200 > "$f" || continue
		OUT="l.$from.out" send "$node" "$from" "$(cat "$f")"
		if [[ $ST == 200 ]]; then
			echo "$(jq -r .message_id "l.$from.out") $f" >> "acked.$from"
		fi
	done
}
pids=()
for s in s1 s2 s3 s4; do
	loader "$s" 30 &
	pids+=($!)
done
sleep 2
kill -KILL "$PID2"
wait "$PID2" 2>/dev/null || true
wait "${pids[@]}" || true
cat acked.s1 acked.s2 acked.s3 acked.s4 > acked.all
n_acked=$(grep -c '' acked.all || true)
[[ $n_acked -ge 20 ]] && pass "$n_acked messages answered 200 under load, node 2 killed" ||
	fail "only $n_acked messages answered 200"
lost=0
diffs=0
while read -r mid f; do
	OUT=check.out api 1 GET "message/$mid" "$SESS_bob"
	if [[ $ST != 200 ]]; then
		lost=$((lost + 1))
		continue
	fi
	want=$(jq -S 'del(.proof_of_work_unused)' "$f")
	got=$(jq -S --argjson w "$want" '. as $g | $w | keys | map({key: ., value: $g[.]}) | from_entries' check.out)
	[[ $got == "$want" ]] || diffs=$((diffs + 1))
done < acked.all
[[ $lost -eq 0 ]] && pass "every message answered 200 is stored ($n_acked read back on node 1)" ||
	fail "$lost of $n_acked acknowledged messages lost"
[[ $diffs -eq 0 ]] && pass "every stored message is byte-identical to what was sent" ||
	fail "$diffs stored messages differ from what was sent"
api 1 GET "quota" "$SESS_bob"
expect "node 1 still answers after node 2 was killed" 200

lib_finish n1.log n2.log
