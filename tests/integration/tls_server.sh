#!/usr/bin/env bash
# TLS (spec 4.2; issue 6, part 4). smimpd: TLS 1.0 and 1.1 refused, TLS 1.2
# and 1.3 accepted, weak suites (RC4, 3DES, CBC with SHA-1 or SHA-2, NULL,
# EXPORT, anonymous, static RSA) never negotiated — checked with
# `openssl s_client` at SECLEVEL=0, so that a refusal is the server's and
# not the client library's (and with gnutls-cli when it is installed).
# smimp: a self-signed, an expired, a not-yet-valid and a wrong-name
# certificate are refused with no request sent, checked against an
# `openssl s_server` that logs every byte it receives, with a positive
# control. Usage: tls_server.sh SMIMPD SMIMP
set -euo pipefail

SMIMPD=$(cd "$(dirname "${1:?usage: $0 SMIMPD SMIMP}")" && pwd)/$(basename "$1")
SMIMP=$(cd "$(dirname "${2:?usage: $0 SMIMPD SMIMP}")" && pwd)/$(basename "$2")
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lib_init tls_server
export SMIMP_KDF=interactive
make_certs

PORT=$(pick_port)
{
	server_conf a.test "$PORT" "sqlite:$TMP/smimpd.db"
	cat <<EOF
threads = 2
EOF
} > smimpd.conf
start_smimpd "$SMIMPD" smimpd.conf server.log a.test "$PORT" || {
	echo "FAIL: smimpd did not start" >&2
	exit 1
}

# handshake ARGS...: one s_client handshake with smimpd; NEG gets the
# negotiated "PROTOCOL CIPHER" or "none".
handshake() {
	local out
	out=$(timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -servername a.test \
		-CAfile ca.pem "$@" </dev/null 2>&1) || true
	printf '%s\n' "$out" > sclient.log
	NEG=$(sed -n 's/^New, \(TLSv[0-9.]*\|SSLv3\), Cipher is \(.*\)$/\1 \2/p' <<<"$out" | head -1)
	[[ -z $NEG || $NEG == *"(NONE)"* ]] && NEG=none
	return 0
}

# ---- protocol versions ---------------------------------------------------
LOW='DEFAULT:@SECLEVEL=0'
for v in tls1 tls1_1; do
	# The client must be able to offer the version, or the check is empty.
	if ! openssl s_client -help 2>&1 | grep -q -- "-$v "; then
		fail "openssl s_client cannot offer -$v here"
		continue
	fi
	handshake "-$v" -cipher "$LOW"
	[[ $NEG == none ]] && pass "smimpd refuses ${v/_/.}" ||
		fail "smimpd accepted ${v/_/.}: $NEG"
	# Evidence that the client did offer it and the handshake did not end.
	grep -q 'Cipher is (NONE)' sclient.log ||
		fail "${v}: no failed handshake in s_client output: $(tail -5 sclient.log)"
done
handshake -ssl3 -cipher "$LOW" 2>/dev/null || true
[[ $NEG == none ]] && pass "smimpd refuses SSLv3 (or the client cannot offer it)" ||
	fail "smimpd accepted SSLv3: $NEG"
handshake -tls1_2
[[ $NEG == TLSv1.2\ * ]] && pass "smimpd accepts TLS 1.2 ($NEG)" || fail "TLS 1.2: $NEG"
[[ $NEG =~ GCM|CHACHA20 ]] && pass "TLS 1.2 default suite is an AEAD ($NEG)" ||
	fail "TLS 1.2 default suite $NEG"
handshake -tls1_3
[[ $NEG == TLSv1.3\ * ]] && pass "smimpd accepts TLS 1.3 ($NEG)" || fail "TLS 1.3: $NEG"
grep -q 'Verify return code: 0 (ok)' sclient.log && pass "certificate verifies against the test CA" ||
	fail "verify: $(grep 'Verify return' sclient.log)"

# ---- weak suites over TLS 1.2 (TLS 1.3 has only AEAD suites) -------------
# Each cipher string is offered alone at SECLEVEL=0; the server must refuse.
# A string this openssl cannot offer at all is reported, not counted.
weak=(
	'RC4' '3DES' 'DES' 'NULL' 'eNULL' 'EXPORT' 'aNULL' 'ADH' 'AECDH'
	'ECDHE-ECDSA-AES128-SHA' 'ECDHE-ECDSA-AES256-SHA' 'ECDHE-RSA-AES128-SHA'
	'AES128-SHA' 'AES256-SHA' 'AES128-SHA256' 'AES128-GCM-SHA256'
	'ECDHE-ECDSA-AES128-SHA256' 'ECDHE-ECDSA-AES256-SHA384'
	'CAMELLIA' 'SEED' 'IDEA' 'PSK' 'SRP' 'MD5' 'kRSA' 'DHE'
)
offered=0
for c in "${weak[@]}"; do
	if ! openssl ciphers "$c:@SECLEVEL=0" >/dev/null 2>&1; then
		echo "note: this openssl cannot offer '$c' (not tested with openssl)"
		continue
	fi
	offered=$((offered + 1))
	handshake -tls1_2 -cipher "$c:@SECLEVEL=0"
	[[ $NEG == none ]] && pass "weak suite '$c' refused" || fail "weak suite '$c' negotiated: $NEG"
done
((offered >= 15)) && pass "$offered weak cipher strings offered by openssl" ||
	fail "only $offered weak cipher strings could be offered"
# TLS 1.3 suites outside the server's list (CCM).
handshake -tls1_3 -ciphersuites TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256
[[ $NEG == none ]] && pass "TLS 1.3 CCM suites refused" || fail "TLS 1.3 CCM negotiated: $NEG"
# The server's whole offer, as openssl sees it: every suite that completes
# a handshake from the full list must be an AEAD.
accepted=()
for c in $(openssl ciphers 'ALL:COMPLEMENTOFALL:@SECLEVEL=0' | tr ':' ' '); do
	case $c in TLS_*) continue ;; esac
	handshake -tls1_2 -cipher "$c:@SECLEVEL=0"
	[[ $NEG != none ]] && accepted+=("${NEG#* }")
done
bad=$(printf '%s\n' "${accepted[@]}" | grep -vE 'GCM|CHACHA20-POLY1305' || true)
[[ ${#accepted[@]} -gt 0 && -z $bad ]] &&
	pass "TLS 1.2 suites accepted: ${accepted[*]}" ||
	fail "TLS 1.2 suites accepted: ${accepted[*]} (non-AEAD: $bad)"

# A second opinion from GnuTLS's client, which can still offer the legacy
# suites and versions.
if command -v gnutls-cli >/dev/null; then
	gtls() {
		timeout 10 gnutls-cli --port "$PORT" --x509cafile ca.pem --sni-hostname a.test \
			--verify-hostname a.test \
			--priority "$1" 127.0.0.1 </dev/null >gtls.log 2>&1
	}
	if gtls 'NORMAL:-VERS-ALL:+VERS-TLS1.2'; then
		pass "gnutls-cli: TLS 1.2 handshake"
	else
		fail "gnutls-cli control: $(tail -3 gtls.log)"
	fi
	for p in 'NORMAL:-VERS-ALL:+VERS-TLS1.0' 'NORMAL:-VERS-ALL:+VERS-TLS1.1' \
		 'NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+3DES-CBC' \
		 'NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+ARCFOUR-128' \
		 'NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-CBC:+AES-256-CBC:-MAC-ALL:+SHA1:+SHA256' \
		 'NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+NULL:-MAC-ALL:+SHA1:+SHA256' \
		 'NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+ANON-ECDH:+ANON-DH' \
		 'NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+RSA'; do
		if gtls "$p"; then
			fail "gnutls-cli negotiated $p: $(grep -i 'cipher\|version' gtls.log | head -3)"
		elif ! grep -q 'Connecting to' gtls.log; then
			echo "note: gnutls-cli cannot offer $p: $(tail -1 gtls.log)"
		else
			pass "gnutls-cli: $p refused"
		fi
	done
else
	echo "note: gnutls-cli not installed; the openssl checks stand alone"
fi
api_ok=$(curl -sS -o /dev/null -w '%{http_code}' --cacert ca.pem \
	--connect-to "a.test:$PORT:127.0.0.1:$PORT" "https://a.test:$PORT/version") || api_ok=curl-error
[[ $api_ok == 200 ]] && pass "smimpd still serves after the probes" || fail "after probes: $api_ok"

# ---- the client refuses bad certificates ---------------------------------
# Certificates for the listener: self-signed for a.test; from the test CA
# but expired, not yet valid, or for another name; and a good one.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout self.key -out self.pem -days 2 -subj "/CN=a.test" \
	-addext "subjectAltName=DNS:a.test" 2>/dev/null
mkdir -p newcerts
: > index.txt
echo 1000 > serial
cat > ca.cnf <<'EOC'
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = .
database = index.txt
new_certs_dir = newcerts
serial = serial
default_md = sha256
policy = any
unique_subject = no
[ any ]
commonName = supplied
EOC
cat > wrong.cnf <<'EOC'
subjectAltName = DNS:wrong.test, DNS:a.test.evil.test
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = serverAuth
EOC
# issue NAME CN EXTFILE START END: NAME.pem/NAME.key signed by ca.pem
issue() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
	openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in "$1.csr" \
		-out "$1.pem" -notext -extfile "$3" -startdate "$4" -enddate "$5" \
		>"$1.ca.log" 2>&1 || { cat "$1.ca.log" >&2; return 1; }
}
past1=$(date -u -d '-30 days' +%y%m%d%H%M%SZ)
past2=$(date -u -d '-2 days' +%y%m%d%H%M%SZ)
fut1=$(date -u -d '+10 days' +%y%m%d%H%M%SZ)
fut2=$(date -u -d '+40 days' +%y%m%d%H%M%SZ)
now1=$(date -u -d '-1 hour' +%y%m%d%H%M%SZ)
issue expired a.test ext.cnf "$past1" "$past2"
issue future a.test ext.cnf "$fut1" "$fut2"
issue wrong wrong.test wrong.cnf "$now1" "$fut1"
issue good a.test ext.cnf "$now1" "$fut1"
openssl x509 -in expired.pem -noout -checkend 0 >/dev/null 2>&1 &&
	fail "expired.pem is not expired" || pass "made an expired certificate ($(openssl x509 -in expired.pem -noout -enddate))"
openssl verify -CAfile ca.pem good.pem >/dev/null 2>&1 && pass "good.pem verifies" ||
	fail "good.pem does not verify: $(openssl verify -CAfile ca.pem good.pem 2>&1)"

mkfifo hold
sleep 600 > hold &
LIB_PIDS+=("$!")
# serve NAME: an openssl s_server with NAME.pem logging to NAME.log; SPORT.
# Tries a few ports: a listener that does not come up is retried elsewhere.
serve() {
	for _ in 1 2 3 4 5; do
		SPORT=$(pick_port)
		openssl s_server -accept "127.0.0.1:$SPORT" -cert "$1.pem" -key "$1.key" \
			-quiet < hold > "$1.log" 2>&1 &
		SPID=$!
		LIB_PIDS+=("$SPID")
		for _ in $(seq 1 50); do
			kill -0 "$SPID" 2>/dev/null || break
			if port_in_use "$SPORT"; then
				sleep 0.2
				kill -0 "$SPID" 2>/dev/null && return 0
				break
			fi
			sleep 0.1
		done
		echo "note: s_server for $1 did not come up on $SPORT: $(head -c 200 "$1.log")"
		kill "$SPID" 2>/dev/null || true
	done
	fail "no s_server for $1"
}
# refused NAME WHAT: smimp must fail with a TLS error and send nothing.
refused() {
	local rc
	serve "$1"
	set +e
	"$SMIMP" --home "$TMP/home-$1" --cacert ca.pem \
		--connect-to "a.test:443:127.0.0.1:$SPORT" whois alice#a.test \
		>"$1.out" 2>"$1.err"
	rc=$?
	set -e
	sleep 0.3
	[[ $rc -eq 76 ]] && pass "$2: smimp exits 76 (TLS failure)" ||
		fail "$2: smimp exit $rc: $(head -c 300 "$1.err") (listener: $(head -c 300 "$1.log"))"
	grep -qi 'tls\|certificate' "$1.err" && pass "$2: the message names the TLS failure" ||
		fail "$2: message $(head -c 300 "$1.err")"
	if grep -qaE 'GET |POST |HTTP/1|SMIMP-Authentication' "$1.log"; then
		fail "$2: the server received a request: $(head -c 300 "$1.log")"
	else
		pass "$2: no request reached the server"
	fi
	kill "$SPID" 2>/dev/null || true
}
refused self "self-signed certificate"
refused expired "expired certificate"
refused future "not-yet-valid certificate"
refused wrong "certificate for another name"

# Positive control: the same listener with a good certificate sees the GET.
serve good
"$SMIMP" --home "$TMP/home-good" --cacert ca.pem -q \
	--connect-to "a.test:443:127.0.0.1:$SPORT" whois alice#a.test >/dev/null 2>&1 &
CPID=$!
LIB_PIDS+=("$CPID")
seen=
for _ in $(seq 1 50); do
	grep -qa 'GET /.well-known/smimp.txt HTTP/1.1' good.log && { seen=1; break; }
	sleep 0.1
done
kill -TERM "$CPID" 2>/dev/null || true
wait "$CPID" 2>/dev/null || true
[[ -n $seen ]] && pass "control: a good certificate gets the request" ||
	fail "control: the listener never saw the request: $(head -c 300 good.log)"

lib_finish server.log
