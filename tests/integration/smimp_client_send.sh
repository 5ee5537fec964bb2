#!/usr/bin/env bash
# smimp's sending commands end to end, against two real smimpd (a.test and
# b.test) over real TLS: an email with an attachment across the domains;
# To + Cc + Bcc (one envelope each, Bcc listed nowhere); sms, send-key,
# send-custom; the non-ephemeral fallback when one-time keys ran out; two
# accounts in one home; a recipient server that is down (queued in the
# encrypted outbox, then flushed when it is back; drop); Ctrl-C during the
# proof of work; a message key that is badly signed or foreign (a TLS proxy
# in python3 rewrites get_message_key answers) -> refused, nothing sent; a
# pinned identity whose history was truncated or replaced -> refused (exit
# 10), nothing sent. Reading is checked with smimp list/read.
# Usage: smimp_client_send.sh PATH_TO_SMIMP PATH_TO_SMIMPD
set -euo pipefail

SMIMP=$(cd "$(dirname "${1:?usage: $0 SMIMP SMIMPD}")" && pwd)/$(basename "$1")
SMIMPD=$(cd "$(dirname "${2:?usage: $0 SMIMP SMIMPD}")" && pwd)/$(basename "$2")
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY SMIMP_PASSPHRASE
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lib_init smimp_client_send
export SMIMP_KDF=interactive   # fast Argon2id for tests only

has() { # NAME FILE PATTERN
	if grep -q -- "$3" "$2"; then pass "$1"; else fail "$1: no '$3' in $(head -c 800 "$2")"; fi
}
hasnt() {
	if grep -q -- "$3" "$2"; then fail "$1: '$3' in $(head -c 800 "$2")"; else pass "$1"; fi
}
sent_id() { sed -n "s/^sent to $1: message id \([0-9a-f]\{64\}\)\$/\1/p" "${2:-last.out}"; }

make_certs
start_two_domains "$SMIMPD" "pow_zero_bits = 6"
PX=$(pick_port)   # the rewriting proxy in front of b.test
echo "pass phrase" > pass.txt

# user NAME DOMAIN HOME N_EPHEMERAL: account add + smimp init.
user() {
	"$SMIMPD" --config "${2%%.*}.conf" account add "$1#$2" > "$1.pw"
	"$SMIMP" --home "$3" "${TLS_ARGS[@]}" --passphrase-file pass.txt \
		init "$1#$2" --password-file "$1.pw" --ephemeral "$4" >/dev/null 2>>init.err ||
		{ fail "init $1#$2: $(cat init.err)"; return 1; }
}
user alice a.test "$TMP/h-alice" 30
user bob b.test "$TMP/h-bob" 30
user carol b.test "$TMP/h-carol" 5
user erin b.test "$TMP/h-erin" 1
user dave a.test "$TMP/h-bob" 5      # a second account in bob's home
A=("$SMIMP" --home "$TMP/h-alice" "${TLS_ARGS[@]}" --passphrase-file pass.txt)
B=("$SMIMP" --home "$TMP/h-bob" "${TLS_ARGS[@]}" --passphrase-file pass.txt --account bob#b.test)
D=("$SMIMP" --home "$TMP/h-bob" "${TLS_ARGS[@]}" --passphrase-file pass.txt --account dave#a.test)
C=("$SMIMP" --home "$TMP/h-carol" "${TLS_ARGS[@]}" --passphrase-file pass.txt)
E=("$SMIMP" --home "$TMP/h-erin" "${TLS_ARGS[@]}" --passphrase-file pass.txt)
count_msgs() { # CLIENT... : number of messages in the root folder of every type
	"$@" --json list --all 2>/dev/null | grep -c '"message_id"' || true
}

# ---- one email with an attachment across the domains ----------------------
printf 'Hello **Bob**,\n\nthe report is attached.\n' > body.md
head -c 5000 /dev/urandom > report.bin
expect_rc "send: alice#a.test -> bob#b.test with an attachment" 0 \
	"${A[@]}" send --to bob#b.test --subject "Report" --body-file body.md --attach report.bin
M1=$(sent_id bob#b.test)
[[ -n $M1 ]] && pass "message id shown" || fail "send output: $(cat last.out)"
has "remote login to the recipient's server" last.err "logging in as alice#a.test to https://b.test:$PB"
mkdir -m 700 saved
expect_rc "bob reads it" 0 "${B[@]}" read "$M1" --save-attachments saved
has "bob's client verified it" last.out "^Status *VALID"
has "subject" last.out "Report"
has "body" last.out "the report is attached"
cmp -s saved/report.bin report.bin && pass "attachment arrived byte for byte" ||
	fail "attachment differs"

# ---- To + Cc + Bcc ------------------------------------------------------------
expect_rc "send to two To, one Cc, one Bcc" 0 \
	"${A[@]}" send --to bob#b.test --to Carol#B.test --cc dave#a.test --bcc erin#b.test \
	--subject "Party" --body-file body.md
for r in bob#b.test carol#b.test dave#a.test erin#b.test; do
	[[ -n $(sent_id "$r") ]] && pass "envelope for $r" || fail "no envelope for $r: $(cat last.out)"
done
cp last.out party.out
[[ $(sent_id bob#b.test party.out) != "$(sent_id carol#b.test party.out)" ]] &&
	pass "every recipient its own message" || fail "shared message id"
expect_rc "carol reads hers" 0 "${C[@]}" read "$(sent_id carol#b.test party.out)"
has "carol: valid" last.out "^Status *VALID"
has "carol sees To" last.out "^To .*bob#b.test, carol#b.test"
has "carol sees Cc" last.out "^Cc .*dave#a.test"
hasnt "the Bcc recipient is listed nowhere (carol)" last.out "erin"
expect_rc "dave (second account in bob's home) reads his" 0 "${D[@]}" read "$(sent_id dave#a.test party.out)"
has "dave: valid" last.out "^Status *VALID"
hasnt "the Bcc recipient is listed nowhere (dave)" last.out "erin"
expect_rc "erin (Bcc) reads hers" 0 "${E[@]}" read "$(sent_id erin#b.test party.out)"
has "erin: valid" last.out "^Status *VALID"
hasnt "erin is not named in her copy either" last.out "erin#"

# ---- non-ephemeral fallback: erin had one one-time key, alice used it ------
expect_rc "send to erin without one-time keys left" 0 \
	"${A[@]}" --json sms erin#b.test "still there?"
has "JSON result: non-ephemeral key" last.out '"non_ephemeral": true'
expect_rc "erin reads the message sent to her non-ephemeral key" 0 \
	"${E[@]}" read "$(sed -n 's/.*"message_id": "\([0-9a-f]*\)".*/\1/p' last.out)"
has "erin: valid" last.out "^Status *VALID"
has "erin: the text" last.out "still there?"
expect_rc "human output says so" 0 "${A[@]}" sms erin#b.test "again"
has "the non-ephemeral key is mentioned" last.out "non-ephemeral key"

# ---- sms, send-key, send-custom, two accounts in one home ------------------
expect_rc "sms from dave (bob's home, --account)" 0 "${D[@]}" sms alice#a.test "hi from dave"
MS=$(sent_id alice#a.test)
expect_rc "alice reads the sms" 0 "${A[@]}" read "$MS"
has "sms text" last.out "hi from dave"
has "sms type" last.out "short-message"
expect_rc "several accounts without --account" 64 \
	"$SMIMP" --home "$TMP/h-bob" "${TLS_ARGS[@]}" --passphrase-file pass.txt sms alice#a.test x
echo hello | "${A[@]}" sms bob#b.test >last.out 2>last.err && pass "sms from stdin" ||
	fail "sms from stdin: $(cat last.err)"
expect_rc "send-key --ed25519 with --save" 0 \
	"${A[@]}" send-key bob#b.test --ed25519 --note "the list key" --save "$TMP/ed.key"
has "public key printed" last.out "secret-ed25519 key with public key [0-9a-f]\{64\}"
[[ $(stat -c %a "$TMP/ed.key") == 600 ]] && pass "saved key is 0600" || fail "key file mode"
MK=$(sent_id bob#b.test)
expect_rc "bob reads the key message" 0 "${B[@]}" read "$MK"
has "secret key message recognised" last.out "secret-ed25519"
hasnt "the secret is not shown" last.out "$(cat "$TMP/ed.key")"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > x.key
expect_rc "send-key --xsalsa20 --key-file" 0 "${A[@]}" send-key bob#b.test --xsalsa20 --key-file x.key
expect_rc "send-key --curve25519 ephemeral" 0 "${A[@]}" send-key bob#b.test --curve25519 ephemeral
expect_rc "send-key --curve25519 bad kind" 64 "${A[@]}" send-key bob#b.test --curve25519 sometimes
head -c 300 /dev/urandom > blob.bin
"${A[@]}" send-custom x-custom-blob bob#b.test < blob.bin > last.out 2>last.err &&
	pass "send-custom" || fail "send-custom: $(cat last.err)"
MC=$(sent_id bob#b.test)
expect_rc "bob reads the custom message raw" 0 "${B[@]}" read "$MC" --raw
cmp -s last.out blob.bin && pass "custom bytes arrive unchanged (read --raw)" ||
	fail "read --raw output is not exactly the bytes sent ($(wc -c < last.out) bytes)"
tail -c 300 last.out | cmp -s - blob.bin && pass "custom bytes arrive unchanged" ||
	fail "custom bytes differ"
expect_rc "send-custom with a bad type" 64 "${A[@]}" send-custom "Bad_Type" bob#b.test </dev/null

# ---- outbox: the recipient's server is down, then back ----------------------
stop_smimpd "$BPID"
expect_rc "send while b.test is down: queued" 75 \
	"${A[@]}" send --to bob#b.test --subject "Queued" --body-file body.md --attach report.bin
has "says queued" last.out "^queued for bob#b.test: outbox id [0-9a-f]\{32\}"
OID=$(sed -n 's/^queued for bob#b.test: outbox id \([0-9a-f]\{32\}\).*/\1/p' last.out)
expect_rc "outbox lists it" 0 "${A[@]}" outbox
has "entry listed" last.out "^$OID  email  to bob#b.test"
has "attempts counted" last.out "attempts 1"
expect_rc "outbox --json" 0 "${A[@]}" --json outbox
has "outbox JSON" last.out "\"id\": \"$OID\""
OBF=$TMP/h-alice/accounts/alice#a.test/outbox/$OID
[[ -f $OBF && $(stat -c %a "$OBF") == 600 ]] && pass "outbox file 0600" || fail "outbox file"
if grep -q "bob#b.test\|Queued\|report is attached" "$OBF"; then
	fail "outbox file holds plaintext"
else
	pass "outbox file is encrypted"
fi
echo "second" > body2.md
expect_rc "a second queued message" 75 \
	"${A[@]}" send --to bob#b.test --subject "Dropped" --body-file body2.md
OID2=$(sed -n 's/^queued for bob#b.test: outbox id \([0-9a-f]\{32\}\).*/\1/p' last.out)
expect_rc "outbox drop" 0 "${A[@]}" outbox drop "$OID2"
expect_rc "drop of an unknown id" 66 "${A[@]}" outbox drop "$OID2"
expect_rc "flush while still down: kept" 75 "${A[@]}" outbox flush
has "still queued" last.out "queued for bob#b.test: outbox id $OID"
start_smimpd "$SMIMPD" b.conf b.log b.test "$PB" || fail "b.test restart"
BPID=$LAST_PID
expect_rc "flush --due: backoff not over yet, nothing tried" 0 "${A[@]}" outbox flush --due
has "nothing due" last.out "nothing to send"
expect_rc "flush after the server is back" 0 "${A[@]}" outbox flush
MQ=$(sent_id bob#b.test)
[[ -n $MQ ]] && pass "flushed and delivered" || fail "flush output: $(cat last.out)"
expect_rc "outbox empty after delivery" 0 "${A[@]}" outbox
has "empty" last.out "is empty"
expect_rc "bob reads the queued message" 0 "${B[@]}" read "$MQ" --save-attachments saved2
has "queued message valid" last.out "^Status *VALID"
has "queued subject" last.out "Queued"
"${B[@]}" --json list --all 2>/dev/null | grep -c "Dropped" >/dev/null &&
	fail "the dropped message arrived" || pass "the dropped message was not sent"

# ---- Ctrl-C during the proof of work ----------------------------------------
stop_smimpd "$BPID"
domain_conf b b.test "$PB" "pow_zero_bits = 34"
start_smimpd "$SMIMPD" b.conf b.log b.test "$PB" || fail "b.test restart (34 bits)"
BPID=$LAST_PID
N0=$(count_msgs "${B[@]}")
set +e
"${A[@]}" sms bob#b.test "never" >last.out 2>last.err &
SPID=$!
sleep 2
kill -INT "$SPID"
wait "$SPID"
rc=$?
set -e
[[ $rc -eq 130 ]] && pass "Ctrl-C: exit 130" || fail "Ctrl-C: exit $rc: $(cat last.out last.err)"
has "Ctrl-C: cancelled" last.out "cancelled: nothing was sent to bob#b.test"
expect_rc "outbox empty after Ctrl-C" 0 "${A[@]}" outbox
has "no entry left" last.out "is empty"
stop_smimpd "$BPID"
domain_conf b b.test "$PB" "pow_zero_bits = 6"
start_smimpd "$SMIMPD" b.conf b.log b.test "$PB" || fail "b.test restart"
BPID=$LAST_PID
[[ $(count_msgs "${B[@]}") -eq $N0 ]] && pass "nothing arrived after Ctrl-C" || fail "a message arrived"

# ---- message keys rewritten by a proxy --------------------------------------
cat > proxy.py <<'EOP'
import http.client, http.server, json, ssl, sys
port, upstream, mode, ca, cert, key = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
up = ssl.create_default_context(cafile=ca)
up.check_hostname = False
class H(http.server.BaseHTTPRequestHandler):
    def fwd(self, method, path, body, headers):
        c = http.client.HTTPSConnection("127.0.0.1", upstream, context=up)
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        return r.status, r.read()
    def handle_one(self, method):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        h = {k: v for k, v in self.headers.items() if k.lower() in ("host", "content-type", "smimp-authentication")}
        st, data = self.fwd(method, self.path, body, h)
        if st == 200 and self.path.endswith("/get_message_key"):
            ans = json.loads(data)
            if mode == "badsig":
                sh = ans["message_key"]["signed_hash"]
                ans["message_key"]["signed_hash"] = ("0" if sh[0] != "0" else "1") + sh[1:]
            else:  # foreign: a key of carol's, validly signed by carol
                st2, d2 = self.fwd("POST", self.path, json.dumps({"address": "carol#b.test"}), h)
                ans["message_key"] = json.loads(d2)["message_key"]
            data = json.dumps(ans).encode()
        self.send_response(st)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self): self.handle_one("GET")
    def do_POST(self): self.handle_one("POST")
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
s.socket = ctx.wrap_socket(s.socket, server_side=True)
s.serve_forever()
EOP
PTLS=(--cacert "$TMP/ca.pem" --connect-to "a.test:443:127.0.0.1:$PA" --connect-to "a.test:$PA:127.0.0.1:$PA"
      --connect-to "b.test:443:127.0.0.1:$PX" --connect-to "b.test:$PB:127.0.0.1:$PX")
AP=("$SMIMP" --home "$TMP/h-alice" "${PTLS[@]}" --passphrase-file pass.txt)
for mode in badsig foreign; do
	python3 proxy.py "$PX" "$PB" "$mode" ca.pem srv.pem srv.key 2>proxy.log &
	XPID=$!
	LIB_PIDS+=("$XPID")
	for _ in $(seq 1 50); do port_in_use "$PX" && break; sleep 0.1; done
	N0=$(count_msgs "${B[@]}")
	expect_rc "$mode message key refused" 76 "${AP[@]}" sms bob#b.test "through the proxy"
	has "$mode: said plainly" last.out "does not verify with the pinned key of bob#b.test"
	has "$mode: nothing sent" last.out "nothing was sent"
	expect_rc "$mode: not queued" 0 "${A[@]}" outbox
	has "$mode: outbox empty" last.out "is empty"
	[[ $(count_msgs "${B[@]}") -eq $N0 ]] && pass "$mode: no message arrived" || fail "$mode: a message arrived"
	kill "$XPID"; wait "$XPID" 2>/dev/null || true
done

# ---- a pinned identity truncated, then replaced, on the server ----------------
stop_smimpd "$BPID"
cp b.db b-before.db
start_smimpd "$SMIMPD" b.conf b.log b.test "$PB" || fail "b.test restart"
BPID=$LAST_PID
expect_rc "bob publishes a new record" 0 "${B[@]}" profile set --name "Bob B."
expect_rc "alice sends again: pin moves to bob's new record" 0 "${A[@]}" sms bob#b.test "seq 1"
expect_rc "alice's pin of bob is at seq 1" 0 "${A[@]}" --json pins bob#b.test
has "pin at seq 1" last.out '"latest_seq": 1'
stop_smimpd "$BPID"
cp b-before.db b.db
rm -f b.db-wal b.db-shm
start_smimpd "$SMIMPD" b.conf b.log b.test "$PB" || fail "b.test restart (old database)"
BPID=$LAST_PID
N0=$(count_msgs "${B[@]}")
expect_rc "truncated history: refused" 10 "${A[@]}" sms bob#b.test "to a truncated identity"
has "truncated: NOT sent" last.out "NOT sent to bob#b.test"
has "truncated: explained" last.out "rolled back\|truncated"
expect_rc "truncated: not queued" 0 "${A[@]}" outbox
has "truncated: outbox empty" last.out "is empty"
[[ $(count_msgs "${B[@]}") -eq $N0 ]] && pass "truncated: nothing arrived" || fail "truncated: a message arrived"

stop_smimpd "$BPID"
domain_conf b-new b.test "$PB" "pow_zero_bits = 6"   # a fresh store, b-new.db
mv b-new.conf b.conf
start_smimpd "$SMIMPD" b.conf b.log b.test "$PB" || fail "b.test restart (new database)"
BPID=$LAST_PID
user bob b.test "$TMP/h-bob2" 5
expect_rc "replaced history: refused" 10 \
	"${A[@]}" send --to bob#b.test --to carol#b.test --subject "x" --body-file body.md
has "replaced: NOT sent to bob" last.out "NOT sent to bob#b.test"
has "replaced: plain explanation" last.out "smimp pins forget bob#b.test"
B2=("$SMIMP" --home "$TMP/h-bob2" "${TLS_ARGS[@]}" --passphrase-file pass.txt)
[[ $(count_msgs "${B2[@]}") -eq 0 ]] && pass "replaced: nothing arrived" || fail "replaced: a message arrived"

lib_finish a.log b.log
