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
# Rate limits hold across nodes: two more nodes with a small per-session
# limit share one bucket (the burst passes once over both, then 429 with
# Retry-After on either, and after the wait it passes again); the buckets
# keep hashes only, full ones are swept, and a node whose bucket table
# fails keeps answering, limiting on its own until the table is back.
# Usage: pg_multinode.sh PATH_TO_SMIMPD PATH_TO_TESTCLIENT
set -euo pipefail

SMIMPD=${1:?usage: $0 SMIMPD TESTCLIENT}
TC=${2:?usage: $0 SMIMPD TESTCLIENT}
SMIMPD=$(cd "$(dirname "$SMIMPD")" && pwd)/$(basename "$SMIMPD")
TC=$(cd "$(dirname "$TC")" && pwd)/$(basename "$TC")
PG_SQL=$(cd "$(dirname "$0")/../../sql/postgresql" && pwd)
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
PORTS=([1]="$P1" [2]="$P2")
# node_conf N [LINES]: nN.conf, listening on PORTS[N] and answering for
# https://a.test:P1 like every node, with LINES added.
node_conf() {
	cat > "n$1.conf" <<EOC
domain = a.test
listen = 127.0.0.1:${PORTS[$1]}
public_url = https://a.test:$P1
tls_cert = $TMP/srv.pem
tls_key = $TMP/srv.key
database = $PG_URL
pow_zero_bits = $BITS
max_envelope_bytes = 64k
max_request_bytes = 512k
threads = 4
${2-}
EOC
}
node_conf 1
node_conf 2
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
[[ $(cat n1.log n2.log | grep -c 'migrated from version 0 to [1-9]') -eq 1 ]] &&
	pass "the schema was migrated once" || fail "migrations: $(cat n1.log n2.log)"

# api NODE METHOD PATH SESSION|- [BODY]: ST, BODY and RA (the Retry-After
# header or ""); OUT names the file.
api() {
	local node=$1 m=$2 p=$3 s=$4 b=${5-} out=${OUT:-body.out}
	local args=(-X "$m")
	[[ $s != - ]] && args+=(-H "SMIMP-Authentication: $s")
	if [[ $# -ge 5 ]]; then
		printf '%s' "$b" > "$out.req"
		args+=(-H 'Content-Type: application/json' --data-binary "@$out.req")
	fi
	ST=$(curl -sS -o "$out" -D "$out.h" -w '%{http_code}' --max-time 20 --cacert ca.pem \
		--connect-to "a.test:$P1:127.0.0.1:${PORTS[$node]}" "${args[@]}" \
		"$BASE/0.1/$p" 2>/dev/null) || ST=curl-error
	BODY=$(cat "$out" 2>/dev/null || true)
	RA=$(tr -d '\r' < "$out.h" 2>/dev/null | sed -n 's/^[Rr]etry-[Aa]fter: //p')
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

# ---- rate limits shared across nodes ---------------------------------
# Nodes 3 and 4 allow a session one request per second and a burst of RB;
# session rl is used on them only, so no other traffic touches its bucket.
RB=5
PORTS[3]=$(pick_port)
PORTS[4]=$(pick_port)
for n in 3 4; do
	node_conf "$n" "rate_per_session = 1
rate_burst_per_session = $RB"
done
# A full bucket (its time has passed) and one that is not: a node's first
# request sweeps the first away and keeps the second.
PG_DB=smimp pg_psql -c "INSERT INTO rate_buckets VALUES ('\\x00', 0, true),
	('\\x01', (extract(epoch FROM now()) * 1e9)::bigint + 3600 * 1000000000::bigint, true)"
RPIDS=()
for n in 3 4; do
	start_smimpd "$SMIMPD" "n$n.conf" "n$n.log" a.test "${PORTS[$n]}" ||
		{ fail "node $n did not start"; lib_finish n1.log n2.log "n$n.log"; }
	RPIDS+=("$LAST_PID")
done
account 1 rl 15 0

# 2 RB + 2 requests alternating between nodes 3 and 4, as fast as they go:
# at most RB plus one per whole second elapsed may pass (RB on each node
# if the nodes kept their own buckets); the refused ones are 429
# rate_limited with a Retry-After on both nodes.
n_ok=0
first_ok=0
ra3=
ra4=
t0=$(date +%s%N)
for i in $(seq 1 $((2 * RB + 2))); do
	node=$((3 + i % 2))
	OUT=rate.out api "$node" GET quota "$SESS_rl"
	if [[ $ST == 200 ]]; then
		n_ok=$((n_ok + 1))
		[[ $i -le $RB ]] && first_ok=$((first_ok + 1))
	elif [[ $ST == 429 && $RA =~ ^[12]$ ]] && jq -e '.error == "rate_limited"' <<<"$BODY" >/dev/null; then
		printf -v "ra$node" '%s' "$RA"
	else
		fail "rate: request $i on node $node: $ST, Retry-After '$RA' (body: ${BODY:0:200})"
	fi
done
elapsed=$((($(date +%s%N) - t0) / 1000000000))
[[ $first_ok -eq $RB ]] && pass "the first $RB requests over two nodes pass" ||
	fail "only $first_ok of the first $RB requests passed"
[[ $n_ok -le $((RB + elapsed)) ]] &&
	pass "$n_ok of $((2 * RB + 2)) passed in ${elapsed}s: one budget of $RB for both nodes" ||
	fail "$n_ok of $((2 * RB + 2)) passed in ${elapsed}s: more than $((RB + elapsed)), the nodes do not share the bucket"
[[ -n $ra3 && -n $ra4 ]] && pass "429 with Retry-After on both nodes ($ra3 s, $ra4 s)" ||
	fail "429 with Retry-After on node 3: '$ra3', on node 4: '$ra4'"
# Empty the bucket, wait what the 429 says, and the other node admits.
for _ in 1 2 3; do
	OUT=rate.out api 3 GET quota "$SESS_rl"
	[[ $ST == 429 ]] && break
done
[[ $ST == 429 && -n $RA ]] || fail "rate: the bucket does not empty: $ST"
wait_s=${RA:-1}
sleep "$wait_s"
OUT=rate.out api 4 GET quota "$SESS_rl"
expect "after Retry-After ($wait_s s) the bucket has refilled: node 4 admits" 200

# The table holds only 32-byte hashes as keys (and the planted row that
# was not full); the full one was swept; it is UNLOGGED.
rows=$(PG_DB=smimp pg_psql -c "SELECT count(*) FILTER (WHERE length(key) = 32) > 0,
	count(*) FILTER (WHERE length(key) <> 32), count(*) FILTER (WHERE key = '\\x01'),
	(SELECT relpersistence FROM pg_class WHERE relname = 'rate_buckets') FROM rate_buckets")
[[ $rows == "t|1|1|u" ]] && pass "buckets: hashed keys only, the full one swept, unlogged" ||
	fail "rate_buckets: $rows, want t|1|1|u"

# The bucket table fails: the node keeps answering, on its own buckets,
# and says so; once the table is back, the limits are shared again.
PG_DB=smimp pg_psql -c "DROP TABLE rate_buckets"
OUT=rate.out api 3 GET quota "$SESS_rl"
expect "the bucket table gone: node 3 still answers" 200
grep -q 'rate limits: the database did not answer' n3.log &&
	pass "node 3 logs that it limits on its own" || fail "no fallback line in n3.log"
PG_DB=smimp pg_psql -f "$PG_SQL/0003.sql"  # the migration that made it
sleep 6  # policy_rate.c tries the database again after 5 s
OUT=rate.out api 3 GET quota "$SESS_rl"
expect "the bucket table back: node 3 answers" 200
grep -q 'limits are shared by all nodes again' n3.log &&
	pass "node 3 logs that the limits are shared again" || fail "no recovery line in n3.log"
for p in "${RPIDS[@]}"; do stop_smimpd "$p"; done

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

lib_finish n1.log n2.log n3.log n4.log
