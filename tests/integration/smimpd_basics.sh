#!/usr/bin/env bash
# smimpd basics over real TLS on loopback: a CA and a server certificate made
# here for a.test, b.test and localhost; configuration errors; the account
# commands; /version, versions and unknown paths, 405, server_information,
# /.well-known/smimp.txt, 413; certificate reload on SIGHUP; a clean stop on
# SIGTERM. Usage: smimpd_basics.sh PATH_TO_SMIMPD. Any wrong answer fails.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)

SMIMPD=${1:?usage: $0 PATH_TO_SMIMPD}
SMIMPD=$(cd "$(dirname "$SMIMPD")" && pwd)/$(basename "$SMIMPD")
TMP=$(mktemp -d "${TMPDIR:-/tmp}/smimpd_basics.XXXXXX")
PID=
FAILS=0

cleanup() {
	if [[ -n $PID ]] && kill -0 "$PID" 2>/dev/null; then
		kill -KILL "$PID" 2>/dev/null || true
		wait "$PID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
	release_ports 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$TMP"

fail() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}
pass() { echo "ok: $*"; }

# ---- certificates ------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout ca.key -out ca.pem -days 2 -subj "/CN=smimpd test CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout srv.key -out srv.csr -subj "/CN=a.test" 2>/dev/null
cat > ext.cnf <<'EOF'
subjectAltName = DNS:a.test, DNS:b.test, DNS:localhost
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = serverAuth
EOF
sign_cert() {
	openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
		-out "$1" -days 2 -extfile ext.cnf 2>/dev/null
}
sign_cert srv.pem

# ---- a free port -------------------------------------------------------
# shellcheck source=../../scripts/ports.sh
source "$HERE/../../scripts/ports.sh"

write_config() {
	cat > smimpd.conf <<EOF
# smimpd integration test configuration
domain = a.test
domain = B.Test            # normalized to b.test
listen = 127.0.0.1:$PORT
public_url = https://a.test:$PORT/
tls_cert = $TMP/srv.pem
tls_key = $TMP/srv.key
database = sqlite:$TMP/smimpd.db
max_envelope_bytes = 1k
max_request_bytes = 100k
connection_timeout = 5
threads = 2
connect_to = a.test:443:127.0.0.1:$PORT
allow_private_addresses = true
EOF
}

# ---- configuration errors ----------------------------------------------
PORT=8443
write_config
cp smimpd.conf good.conf
printf 'domain = a.test\nfrobnicate = 1\n' > bad1.conf
printf 'domain = a.test\npublic_url = http://a.test\n' > bad2.conf
printf 'domain = a.test\npublic_url = https://a.test\nlisten = nowhere\n' > bad3.conf
printf 'domain = a.test\npublic_url = https://a.test\nmax_list_page = 0\n' > bad4.conf
printf 'domain = -a.test\n' > bad5.conf
printf 'domain = a.test\npublic_url = https://a.test\nrate_ipv6_prefix = 129\n' > bad6.conf
for n in 1 2 3 4 5 6; do
	line=$(grep -c '' "bad$n.conf")
	set +e
	out=$("$SMIMPD" --config "bad$n.conf" account list 2>&1 >/dev/null)
	rc=$?
	set -e
	if [[ $rc -eq 78 && $out == *"bad$n.conf:$line:"* ]]; then
		pass "bad config $n refused with file and line"
	else
		fail "bad config $n: exit $rc, message: $out"
	fi
done
set +e
"$SMIMPD" --config "$TMP/nonexistent.conf" account list 2>/dev/null
rc=$?
"$SMIMPD" --config good.conf frobnicate 2>/dev/null
rc2=$?
set -e
[[ $rc -eq 78 ]] && pass "missing config is 78" || fail "missing config: exit $rc"
[[ $rc2 -eq 64 ]] && pass "unknown command is 64" || fail "unknown command: exit $rc2"
"$SMIMPD" --help | grep -q 'account add LOCAL\[#DOMAIN\]' && pass "--help" || fail "--help"
"$SMIMPD" --version | grep -q '^smimpd ' && pass "--version" || fail "--version"

# ---- smimpd check ------------------------------------------------------
# The test certificate names a.test for 2 days: ok, with a warning.
set +e
"$SMIMPD" --config good.conf check >check.out 2>check.err
rc_check=$?
set -e
[[ $rc_check -eq 0 ]] && grep -q 'names a.test, valid until' check.out &&
	grep -qE 'expires in [12] days' check.err &&
	pass "check: certificate ok for a.test, expiry warned" ||
	fail "check: exit $rc_check: $(cat check.out check.err)"
# A database that cannot be opened (a directory) stops account list, not check.
sed "s|^database = .*|database = sqlite:$TMP|" good.conf > nodb.conf
set +e
"$SMIMPD" --config nodb.conf check >/dev/null 2>&1
rc_check=$?
"$SMIMPD" --config nodb.conf account list >/dev/null 2>&1
rc_list=$?
set -e
[[ $rc_check -eq 0 && $rc_list -eq 69 ]] && pass "check opens no database" ||
	fail "unusable database: check exit $rc_check, account list exit $rc_list"
check_refused() { # WHAT CONF WANT
	set +e
	"$SMIMPD" --config "$2" check >/dev/null 2>check.err
	rc_check=$?
	set -e
	[[ $rc_check -eq 78 ]] && grep -qF "$3" check.err && pass "check refuses $1" ||
		fail "check with $1: exit $rc_check: $(cat check.err)"
}
sed 's|^public_url = .*|public_url = https://c.test/|' good.conf > host.conf
check_refused "a certificate not naming public_url's host" host.conf "does not name c.test"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout other.key -out /dev/null -subj "/CN=other" 2>/dev/null
sed "s|^tls_key = .*|tls_key = $TMP/other.key|" good.conf > key.conf
check_refused "a key of another certificate" key.conf "not a usable certificate and key"
grep -v '^tls_cert' good.conf > nocert.conf
check_refused "a configuration without tls_cert" nocert.conf "needs tls_cert and tls_key"

# ---- account commands --------------------------------------------------
pw=$("$SMIMPD" --config good.conf account add alice#a.test 2>add.err)
if [[ $(printf '%s\n' "$pw" | wc -l) -eq 1 && $pw =~ ^[0-9a-f]{32}$ ]]; then
	pass "account add prints one 32-hex-digit password"
else
	fail "account add printed: $pw"
fi
set +e
"$SMIMPD" --config good.conf account add Alice#A.TEST >/dev/null 2>&1
rc=$?
"$SMIMPD" --config good.conf account add carol >/dev/null 2>&1
rc2=$?
"$SMIMPD" --config good.conf account add carol#c.test >/dev/null 2>&1
rc3=$?
"$SMIMPD" --config good.conf account add 'bad name#a.test' >/dev/null 2>&1
rc4=$?
set -e
[[ $rc -eq 73 ]] && pass "second add of the same address is 73" || fail "second add: exit $rc"
[[ $rc2 -eq 65 ]] && pass "bare local part with two domains is 65" || fail "bare local: exit $rc2"
[[ $rc3 -eq 65 ]] && pass "foreign domain is 65" || fail "foreign domain: exit $rc3"
[[ $rc4 -eq 65 ]] && pass "bad address is 65" || fail "bad address: exit $rc4"
"$SMIMPD" --config good.conf account add bob#b.test >/dev/null
"$SMIMPD" --config good.conf account quota bob#b.test 10m
expected=$(printf 'alice#a.test\tuninitialized\t0\t1073741824\nbob#b.test\tuninitialized\t0\t10485760')
got=$("$SMIMPD" --config good.conf account list)
[[ $got == "$expected" ]] && pass "account list" || fail "account list: $got"
"$SMIMPD" --config good.conf account remove bob#b.test
set +e
"$SMIMPD" --config good.conf account remove bob#b.test 2>/dev/null
rc=$?
"$SMIMPD" --config good.conf account quota bob#b.test 1k 2>/dev/null
rc2=$?
"$SMIMPD" --config good.conf account quota alice#a.test lots 2>/dev/null
rc3=$?
set -e
[[ $rc -eq 67 ]] && pass "removing a missing account is 67" || fail "remove missing: exit $rc"
[[ $rc2 -eq 67 ]] && pass "quota of a missing account is 67" || fail "quota missing: exit $rc2"
[[ $rc3 -eq 65 ]] && pass "bad quota is 65" || fail "bad quota: exit $rc3"
got=$("$SMIMPD" --config good.conf account list)
[[ $got == $(printf 'alice#a.test\tuninitialized\t0\t1073741824') ]] &&
	pass "account list after remove" || fail "account list after remove: $got"

# ---- start the server --------------------------------------------------
started=
for _ in 1 2 3 4 5; do
	PORT=$(pick_port)
	write_config
	"$SMIMPD" --config smimpd.conf serve 2>server.log &
	PID=$!
	for _ in $(seq 1 50); do
		if curl -s -o /dev/null --cacert ca.pem \
			--connect-to "a.test:$PORT:127.0.0.1:$PORT" \
			"https://a.test:$PORT/version"; then
			started=1
			break
		fi
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	[[ -n $started ]] && break
	kill -KILL "$PID" 2>/dev/null || true
	wait "$PID" 2>/dev/null || true
	PID=
done
if [[ -z $started ]]; then
	cat server.log >&2
	echo "FAIL: smimpd did not start" >&2
	exit 1
fi
pass "smimpd serves on 127.0.0.1:$PORT"

BASE=https://a.test:$PORT
# check NAME EXPECTED_STATUS EXPECTED_BODY CURL_ARGS... (EXPECTED_BODY "" = any)
check() {
	local name=$1 want_status=$2 want_body=$3 status body
	shift 3
	status=$(curl -sS -o body.out -D headers.out -w '%{http_code}' \
		--cacert ca.pem --connect-to "a.test:$PORT:127.0.0.1:$PORT" \
		--connect-to "b.test:$PORT:127.0.0.1:$PORT" "$@") || status="curl-error"
	body=$(cat body.out 2>/dev/null || true)
	if [[ $status != "$want_status" ]]; then
		fail "$name: status $status, want $want_status (body: $body)"
	elif [[ -n $want_body && $body != "$want_body" ]]; then
		fail "$name: body $body, want $want_body"
	else
		pass "$name"
	fi
}
header_has() {
	if tr -d '\r' < headers.out | grep -qi "^$1\$"; then
		pass "header $1"
	else
		fail "header $1 missing: $(tr -d '\r' < headers.out | tr '\n' '|')"
	fi
}

check "GET /version" 200 '{"versions":["0.1"]}' "$BASE/version"
header_has "content-type: application/json"
check "unsupported version" 404 "" "$BASE/0.2/server_information"
grep -q '"error":"unsupported_version"' body.out && pass "unsupported_version code" ||
	fail "unsupported_version code: $(cat body.out)"
check "unsupported version 10.0" 404 "" "$BASE/10.0/get_user/a%23a.test/history"
grep -q '"error":"unsupported_version"' body.out || fail "10.0: $(cat body.out)"
check "unknown path" 404 "" "$BASE/nothing/here"
grep -q '"error":"not_found"' body.out && pass "not_found code" || fail "not_found code: $(cat body.out)"
check "unknown endpoint" 404 "" "$BASE/0.1/no_such_endpoint"
grep -q '"error":"not_found"' body.out || fail "unknown endpoint: $(cat body.out)"
check "version without 0.1 prefix segment" 404 "" "$BASE/0.1"
check "NUL escape in path" 404 "" "$BASE/0.1/%00"
check "POST /version" 405 "" -X POST -d '{}' "$BASE/version"
grep -q '"error":"method_not_allowed"' body.out && pass "method_not_allowed code" ||
	fail "method_not_allowed code: $(cat body.out)"
header_has "allow: GET"
check "DELETE server_information" 405 "" -X DELETE "$BASE/0.1/server_information"
check "server_information" 200 "" "$BASE/0.1/server_information"
want_limits='"limits":{"max_request_bytes":102400,"max_envelope_bytes":1024,"max_record_bytes":16384,"max_history_records":10000,"max_ephemeral_keys":10000,"max_avatar_bytes":262144,"max_list_page":1000}'
grep -qF "$want_limits" body.out && pass "server_information limits" ||
	fail "server_information limits: $(cat body.out)"
grep -qE '"apis":\["version","server_information"' body.out && pass "server_information apis" ||
	fail "server_information apis: $(cat body.out)"
grep -q '"software":"smimpd ' body.out || fail "server_information software: $(cat body.out)"

check "well-known a.test" 200 "https://a.test:$PORT" "https://a.test:$PORT/.well-known/smimp.txt"
[[ $(od -An -c body.out | tr -d ' \n') == *'\n' ]] || fail "well-known: no final LF"
check "well-known b.test" 200 "https://a.test:$PORT" "https://b.test:$PORT/.well-known/smimp.txt"
check "well-known other host" 404 "" -H "Host: c.test" "$BASE/.well-known/smimp.txt"
check "well-known POST" 405 "" -X POST -d x "$BASE/.well-known/smimp.txt"

head -c 204800 /dev/zero > big.bin
check "oversize body (Content-Length)" 413 "" -X POST -H 'Content-Type: application/json' \
	--data-binary @big.bin "$BASE/0.1/server_information"
grep -q '"error":"too_large"' body.out && pass "too_large code" || fail "too_large code: $(cat body.out)"
head -c 150000 /dev/zero > over.bin
check "oversize chunked body" 413 "" -X POST -H 'Transfer-Encoding: chunked' \
	--data-binary @over.bin "$BASE/0.1/server_information"
check "small body is not 413" 405 "" -X POST -d '{}' "$BASE/0.1/server_information"
check "still answering" 200 '{"versions":["0.1"]}' "$BASE/version"

grep -q 'smimpd: GET /version 200 [0-9]*us' server.log && pass "request log line" ||
	fail "request log line missing"

# ---- certificate reload ------------------------------------------------
serial() {
	openssl s_client -connect "127.0.0.1:$PORT" -servername a.test </dev/null 2>/dev/null |
		openssl x509 -noout -serial
}
before=$(serial)
sign_cert srv2.pem
cp srv2.pem srv.pem
kill -HUP "$PID"
after=
for _ in $(seq 1 30); do
	after=$(serial)
	[[ $after != "$before" ]] && break
	sleep 0.1
done
[[ -n $after && $after != "$before" ]] && pass "SIGHUP reloads the certificate" ||
	fail "SIGHUP: serial $before still served"
echo "not a certificate" > srv.pem
kill -HUP "$PID"
sleep 0.3
[[ $(serial) == "$after" ]] && pass "a bad certificate on SIGHUP keeps the old one" ||
	fail "bad certificate on SIGHUP"
grep -q 'keeping the certificate in use' server.log || fail "no reload failure logged"
sleep 1.5   # the quiesced daemons are stopped on the next ticks
check "serving after reloads" 200 '{"versions":["0.1"]}' "$BASE/version"

# ---- SIGTERM -----------------------------------------------------------
kill -TERM "$PID"
rc=
for _ in $(seq 1 100); do
	if ! kill -0 "$PID" 2>/dev/null; then
		set +e
		wait "$PID"
		rc=$?
		set -e
		break
	fi
	sleep 0.1
done
if [[ $rc == 0 ]] && grep -q 'smimpd: stopped' server.log; then
	pass "SIGTERM stops cleanly"
else
	fail "SIGTERM: exit '${rc:-still running}'"
fi
PID=
[[ ! -e smimpd.db-wal || ! -s smimpd.db-wal ]] && pass "store closed (WAL checkpointed)" ||
	fail "WAL left behind"

grep -q "previous listener stopped" server.log && pass "quiesced listener stopped after reload" ||
	fail "quiesced listener not stopped"

if [[ $FAILS -ne 0 ]]; then
	echo "---- server log ----" >&2
	cat server.log >&2
	echo "$FAILS check(s) failed" >&2
	exit 1
fi
echo "all checks passed"
