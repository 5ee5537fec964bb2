#!/usr/bin/env bash
# smimp's transport fails closed (spec 4.2): a server whose certificate comes
# from a CA the client was not told to trust is refused before any request
# is sent (checked with an openssl s_server that logs every byte it gets,
# with a positive control proving that it would see the request), and so is
# smimpd itself when smimp trusts another CA or only the system's. Also:
# discovery and /version against smimpd, an unknown user, and an invalid
# --connect-to. Usage: smimp_client_tls.sh PATH_TO_SMIMP PATH_TO_SMIMPD
set -euo pipefail

SMIMP=$(cd "$(dirname "${1:?usage: $0 SMIMP SMIMPD}")" && pwd)/$(basename "$1")
SMIMPD=$(cd "$(dirname "${2:?usage: $0 SMIMP SMIMPD}")" && pwd)/$(basename "$2")
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lib_init smimp_client_tls
export SMIMP_KDF=interactive

make_certs
# A second CA, unknown to the client, with a certificate for a.test.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout other-ca.key -out other-ca.pem -days 2 -subj "/CN=other CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout other.key -out other.csr -subj "/CN=a.test" 2>/dev/null
openssl x509 -req -in other.csr -CA other-ca.pem -CAkey other-ca.key \
	-CAcreateserial -out other.pem -days 2 -extfile ext.cnf 2>/dev/null

# expect_rc NAME WANT CMD...: runs CMD, checks its exit code, keeps stderr
# in last.err.

# ---- a TLS listener that logs what it receives -----------------------------
SPORT=$(pick_port)
mkfifo hold
sleep 300 > hold &
LIB_PIDS+=("$!")
openssl s_server -accept "127.0.0.1:$SPORT" -cert other.pem -key other.key \
	-quiet < hold > sserver.log 2>&1 &
LIB_PIDS+=("$!")
for _ in $(seq 1 50); do port_in_use "$SPORT" && break; sleep 0.1; done

H1=$TMP/home1
MAP="a.test:443:127.0.0.1:$SPORT"

# The client trusts ca.pem only: the listener's certificate must be refused
# with no request sent.
expect_rc "unknown CA refused" 76 \
	"$SMIMP" --home "$H1" --cacert ca.pem --connect-to "$MAP" whois alice#a.test
grep -q 'TLS failure' last.err && pass "refusal names the TLS failure" ||
	fail "refusal message: $(cat last.err)"
grep -q 'no request was sent' last.err || fail "refusal message: $(cat last.err)"
echo "password" > pw
expect_rc "init refused by the unknown CA" 76 \
	"$SMIMP" --home "$H1" --cacert ca.pem --connect-to "$MAP" \
	--passphrase-file pw init alice#a.test --password-file pw
expect_rc "system trust store refuses the test CA" 76 \
	"$SMIMP" --home "$H1" --connect-to "$MAP" whois alice#a.test
sleep 0.3
if grep -q 'GET\|POST\|password' sserver.log; then
	fail "the listener received a request: $(head -c 300 sserver.log)"
else
	pass "no request reached the untrusted server"
fi
[[ ! -e $H1/accounts/alice#a.test/keystore ]] && pass "no keystore made" ||
	fail "a keystore was made although discovery failed"

# Positive control: trusting other-ca.pem, the same listener sees the GET.
"$SMIMP" --home "$H1" --cacert other-ca.pem --connect-to "$MAP" -q \
	whois alice#a.test >/dev/null 2>&1 &
CPID=$!
LIB_PIDS+=("$CPID")
seen=
for _ in $(seq 1 50); do
	grep -q 'GET /.well-known/smimp.txt HTTP/1.1' sserver.log && { seen=1; break; }
	sleep 0.1
done
kill -TERM "$CPID" 2>/dev/null || true
wait "$CPID" 2>/dev/null || true
[[ -n $seen ]] && pass "control: a trusted listener receives the request" ||
	fail "control: the listener never saw the request: $(head -c 300 sserver.log)"
grep -qi 'SMIMP-Authentication' sserver.log && fail "session header sent to discovery" || true

# ---- against smimpd ------------------------------------------------------
PORT=$(pick_port)
cat > smimpd.conf <<EOC
domain = a.test
listen = 127.0.0.1:$PORT
public_url = https://a.test:$PORT/
tls_cert = $TMP/srv.pem
tls_key = $TMP/srv.key
database = sqlite:$TMP/smimpd.db
allow_private_addresses = true
EOC
start_smimpd "$SMIMPD" smimpd.conf server.log a.test "$PORT" || {
	echo "FAIL: smimpd did not start" >&2
	exit 1
}
CT=(--connect-to "a.test:443:127.0.0.1:$PORT" --connect-to "a.test:$PORT:127.0.0.1:$PORT")

expect_rc "smimpd with another CA's trust refused" 76 \
	"$SMIMP" --home "$H1" --cacert other-ca.pem "${CT[@]}" whois alice#a.test
expect_rc "unknown user is a refusal from the server" 69 \
	"$SMIMP" --home "$H1" --cacert ca.pem "${CT[@]}" whois nobody#a.test
grep -q "HTTP 404 not_found" last.err && pass "server error code shown" ||
	fail "404 message: $(cat last.err)"
grep -q "looking up the server of a.test" last.err && pass "progress shown" ||
	fail "no progress line: $(cat last.err)"
expect_rc "unreachable server is a temporary failure" 75 \
	"$SMIMP" --home "$H1" --cacert ca.pem --connect-to "a.test:443:127.0.0.1:1" \
	whois alice#a.test
expect_rc "bad --connect-to" 64 "$SMIMP" --connect-to nonsense whois a#a.test
expect_rc "missing --cacert file" 66 "$SMIMP" --cacert "$TMP/none.pem" whois a#a.test
expect_rc "bad address" 65 "$SMIMP" --home "$H1" whois 'not an address'
expect_rc "unknown command" 64 "$SMIMP" frobnicate
[[ $(stat -c %a "$H1") == 700 ]] && pass "home is 0700" || fail "home mode $(stat -c %a "$H1")"

lib_finish server.log
