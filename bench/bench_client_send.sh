#!/usr/bin/env bash
# Client wall time of `smimp send` of a 4 KiB email from alice#a.test to
# bob#b.test (another domain, another smimpd) over real TLS on loopback:
# cold (a fresh home: discovery, full history fetch and pin, remote login,
# message key, encryption, proof of work, send) with the recipient server's
# pow_zero_bits at 0 and at 20. Each figure is the median of RUNS sends
# (default 5), each from a fresh copy of alice's home.
# Usage: bench/bench_client_send.sh SMIMP SMIMPD [RUNS]
set -euo pipefail
SMIMP=$(cd "$(dirname "${1:?usage: $0 SMIMP SMIMPD [RUNS]}")" && pwd)/$(basename "$1")
SMIMPD=$(cd "$(dirname "${2:?usage: $0 SMIMP SMIMPD [RUNS]}")" && pwd)/$(basename "$2")
RUNS=${3:-5}
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY SMIMP_PASSPHRASE
source "$(dirname "$0")/../tests/integration/lib.sh"
lib_init bench_client_send
export SMIMP_KDF=interactive
make_certs
PA=$(pick_port); PB=$(pick_port)
conf() { # NAME DOMAIN PORT BITS
	cat > "$1.conf" <<EOC
domain = $2
listen = 127.0.0.1:$3
public_url = https://$2:$3/
tls_cert = $TMP/srv.pem
tls_key = $TMP/srv.key
database = sqlite:$TMP/$1.db
pow_zero_bits = $4
ca_file = $TMP/ca.pem
connect_to = a.test:443:127.0.0.1:$PA
connect_to = a.test:$PA:127.0.0.1:$PA
connect_to = b.test:443:127.0.0.1:$PB
connect_to = b.test:$PB:127.0.0.1:$PB
allow_private_addresses = true
ephemeral_draws_per_hour = 1000
EOC
}
TLS=(--cacert "$TMP/ca.pem" --connect-to "a.test:443:127.0.0.1:$PA" --connect-to "a.test:$PA:127.0.0.1:$PA"
     --connect-to "b.test:443:127.0.0.1:$PB" --connect-to "b.test:$PB:127.0.0.1:$PB")
conf a a.test "$PA" 0
conf b b.test "$PB" 0
start_smimpd "$SMIMPD" a.conf a.log a.test "$PA"
start_smimpd "$SMIMPD" b.conf b.log b.test "$PB"
BPID=$LAST_PID
echo "bench passphrase" > pass.txt
"$SMIMPD" --config a.conf account add alice#a.test > alice.pw
"$SMIMPD" --config b.conf account add bob#b.test > bob.pw
"$SMIMP" --home "$TMP/alice0" "${TLS[@]}" --passphrase-file pass.txt -q init alice#a.test --password-file alice.pw --ephemeral 0 >/dev/null
"$SMIMP" --home "$TMP/bob" "${TLS[@]}" --passphrase-file pass.txt -q init bob#b.test --password-file bob.pw --ephemeral 200 >/dev/null
head -c 4096 /dev/zero | tr '\0' 'x' > body.md
rm -f "$TMP/alice0/pins.json"   # cold: alice has never resolved anyone

measure() { # BITS -> median milliseconds
	local t=() i s e
	for i in $(seq 1 "$RUNS"); do
		rm -rf "$TMP/alice"
		cp -a "$TMP/alice0" "$TMP/alice"
		s=$(date +%s%N)
		"$SMIMP" --home "$TMP/alice" "${TLS[@]}" --passphrase-file pass.txt -q \
			send --to bob#b.test --subject bench --body-file body.md >/dev/null
		e=$(date +%s%N)
		t+=($(( (e - s) / 1000000 )))
	done
	printf '%s\n' "${t[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p"
}
if [[ -n ${BENCH_TRACE-} ]]; then rm -rf "$TMP/alice"; cp -a "$TMP/alice0" "$TMP/alice"; "$SMIMP" --home "$TMP/alice" "${TLS[@]}" --passphrase-file pass.txt -v send --to bob#b.test --subject bench --body-file body.md 2>&1 | while IFS= read -r l; do echo "$(date +%s.%N | cut -c7-14) $l"; done; fi
T0=$(measure 0)
stop_smimpd "$BPID"
conf b b.test "$PB" 20
start_smimpd "$SMIMPD" b.conf b.log b.test "$PB"
T20=$(measure 20)
echo "smimp send, 4 KiB email, cross-domain, cold (discovery + history + pin + remote login), median of $RUNS:"
echo "  PoW  0 bits: ${T0} ms"
echo "  PoW 20 bits: ${T20} ms"
echo "(keystore KDF: interactive; $(nproc) cores; the keystore unlock is included)"
