#!/usr/bin/env bash
# The main job: the two-domain demo. Installs what it needs, builds smimp
# (Release), runs the protocol self-check, then runs two real smimpd servers
# on loopback — a.test and b.test, SQLite, TLS from a local CA made here —
# creates alice#a.test and bob#b.test, initializes both with the smimp
# client, sends an email with an attachment from alice to bob across the two
# domains, lets bob list, read, verify it and reply in the same thread, and
# alice read the reply. Every step is printed; the servers are stopped on
# exit; exit 0 only when all of it worked.
#
# Usage: scripts/demo.sh                      (install, build, run)
#        scripts/demo.sh --binaries SMIMP SMIMPD
#                          (run with binaries already built: ctest's
#                           integration.demo; no install, no build)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)

if [[ ${1-} == --binaries ]]; then
	SMIMP=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
	SMIMPD=$(cd "$(dirname "$3")" && pwd)/$(basename "$3")
	SELFCHECK=
else
	dir="$root/build/release"
	"$root/scripts/install-deps.sh"
	echo "== building smimp (Release) in $dir"
	cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build "$dir" -j"$(nproc 2>/dev/null || echo 2)" \
		--target smimp-selfcheck smimp_client smimpd >/dev/null
	SMIMP=$dir/src/client/smimp
	SMIMPD=$dir/src/server/smimpd
	SELFCHECK=$dir/tools/smimp-selfcheck
fi
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY \
	SMIMP_PASSPHRASE SMIMP_HOME

step=0
say() { step=$((step + 1)); printf '\n== %d. %s\n' "$step" "$*"; }
die() { printf '\nDEMO FAILED: %s\n' "$*" >&2; exit 1; }

if [[ -n $SELFCHECK ]]; then
	say "protocol self-check (libsmimp, no network)"
	"$SELFCHECK" >/dev/null || die "the protocol self-check failed"
	echo "every step verified"
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/smimp-demo.XXXXXX")
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$TMP"
	release_ports 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$TMP"

say "a local certificate authority and a certificate for a.test and b.test"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout ca.key -out ca.pem -days 2 -subj "/CN=smimp demo CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout srv.key -out srv.csr -subj "/CN=a.test" 2>/dev/null
printf '%s\n' "subjectAltName = DNS:a.test, DNS:b.test" \
	"basicConstraints = CA:FALSE" "keyUsage = digitalSignature" \
	"extendedKeyUsage = serverAuth" > ext.cnf
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
	-out srv.pem -days 2 -extfile ext.cnf 2>/dev/null
echo "CA: $TMP/ca.pem"

# shellcheck source=ports.sh
source "$root/scripts/ports.sh"
PA=$(pick_port) || die "no free port"
PB=$(pick_port) || die "no free port"
MAP=(a.test:443:127.0.0.1:$PA a.test:$PA:127.0.0.1:$PA
     b.test:443:127.0.0.1:$PB b.test:$PB:127.0.0.1:$PB)
write_config() { # NAME DOMAIN PORT
	{
		echo "domain = $2"
		echo "listen = 127.0.0.1:$3"
		echo "public_url = https://$2:$3/"
		echo "tls_cert = $TMP/srv.pem"
		echo "tls_key = $TMP/srv.key"
		echo "database = sqlite:$TMP/$1.db"
		echo "pow_zero_bits = 12"
		echo "ca_file = $TMP/ca.pem"
		for m in "${MAP[@]}"; do echo "connect_to = $m"; done
		echo "allow_private_addresses = true"
	} > "$1.conf"
}
start_server() { # NAME DOMAIN PORT
	"$SMIMPD" --config "$1.conf" serve 2>>"$1.log" &
	PIDS+=($!)
	for _ in $(seq 1 100); do
		if curl -s -o /dev/null --cacert ca.pem \
			--connect-to "$2:$3:127.0.0.1:$3" "https://$2:$3/version"; then
			echo "smimpd for $2 listens on 127.0.0.1:$3 (pid $!)"
			return 0
		fi
		kill -0 "$!" 2>/dev/null || break
		sleep 0.1
	done
	cat "$1.log" >&2
	die "smimpd for $2 did not start"
}

say "start smimpd for a.test and b.test (SQLite, TLS, loopback)"
write_config a a.test "$PA"
write_config b b.test "$PB"
start_server a a.test "$PA"
start_server b b.test "$PB"

CLIENT_TLS=(--cacert "$TMP/ca.pem")
for m in "${MAP[@]}"; do CLIENT_TLS+=(--connect-to "$m"); done
export SMIMP_KDF=interactive   # a quick Argon2id for the demo's keystores
echo "demo passphrase for alice" > alice.pass
echo "demo passphrase for bob" > bob.pass
# alice ARGS / bob ARGS: smimp with that person's home, passphrase file and
# the demo's TLS options (--cacert ca.pem and a --connect-to per host:port).
person() {
	local who=$1
	shift
	printf '%s$ smimp --home %s --passphrase-file %s.pass [TLS options] %s\n' \
		"$who" "$who" "$who" "$(printf '%q ' "$@")"
	"$SMIMP" --home "$TMP/$who" "${CLIENT_TLS[@]}" --passphrase-file "$who.pass" "$@"
}
alice() { person alice "$@"; }
bob() { person bob "$@"; }

say "the operators create alice#a.test and bob#b.test (one-time passwords)"
echo '$ smimpd --config a.conf account add alice#a.test > alice.pw'
"$SMIMPD" --config a.conf account add alice#a.test > alice.pw || die "account add alice"
echo '$ smimpd --config b.conf account add bob#b.test > bob.pw'
"$SMIMPD" --config b.conf account add bob#b.test > bob.pw || die "account add bob"
echo "one-time passwords written to alice.pw and bob.pw"

say "alice and bob initialize their accounts with the client"
alice init alice#a.test --password-file alice.pw --name "Alice" || die "init alice"
bob init bob#b.test --password-file bob.pw --name "Bob" || die "init bob"

say "alice looks bob up (discovery, signed history, pin)"
alice whois bob#b.test || die "whois bob"

say "alice sends bob an email with an attachment, across the two domains"
cat > letter.md <<'EOM'
Hello Bob,

here are the **minutes** of Tuesday's meeting, attached.

- encrypted end to end
- signed by my key, which you pinned on first contact

Alice
EOM
head -c 6000 /dev/urandom > minutes.bin
alice send --to bob#b.test --subject "Minutes of Tuesday" \
	--body-file letter.md --attach minutes.bin | tee send1.out ||
	die "alice's send failed"
SENT_ID=$(sed -n 's/^sent to bob#b.test: message id \([0-9a-f]\{64\}\)$/\1/p' send1.out)
[[ -n $SENT_ID ]] || die "no message id for bob"

say "bob lists his mailbox"
bob list || die "bob's list"
bob --json list > bob-list.json 2>/dev/null || die "bob's list --json"
grep -q "\"message_id\": \"$SENT_ID\"" bob-list.json || die "the message is not in bob's mailbox"
grep -q '"from": "alice#a.test"' bob-list.json || die "the sender is not alice"

say "bob reads it: alice's key checked against her history, hash verified, decrypted"
mkdir -m 700 saved
bob read "$SENT_ID" --save-attachments saved | tee bob-read.out || die "bob's read failed"
grep -q "^Status *VALID" bob-read.out || die "bob's client did not verify the message"
grep -q "Minutes of Tuesday" bob-read.out || die "subject missing"
grep -q "minutes" bob-read.out || die "body missing"
cmp -s saved/minutes.bin minutes.bin || die "the saved attachment differs from the one sent"
echo "the attachment saved by bob is byte for byte the one alice sent"
THREAD=$(sed -n 's/^Thread *\([0-9a-f]\{64\}\)$/\1/p' bob-read.out)

say "bob replies in the same thread"
echo "Thanks Alice, got the minutes. -- Bob" > reply.md
bob send --reply-to-id "$SENT_ID" --body-file reply.md | tee send2.out ||
	die "bob's reply failed"
REPLY_ID=$(sed -n 's/^sent to alice#a.test: message id \([0-9a-f]\{64\}\)$/\1/p' send2.out)
[[ -n $REPLY_ID ]] || die "no message id for the reply"

say "alice lists and reads the reply"
alice list || die "alice's list"
alice read "$REPLY_ID" | tee alice-read.out || die "alice's read failed"
grep -q "^Status *VALID" alice-read.out || die "alice's client did not verify the reply"
grep -q "Re: Minutes of Tuesday" alice-read.out || die "the reply's subject"
grep -q "got the minutes" alice-read.out || die "the reply's body"
if [[ -n $THREAD ]]; then
	grep -q "^Thread *$THREAD" alice-read.out || die "the reply is not in the same thread"
	echo "same thread: $THREAD"
fi
grep -q "$SENT_ID" alice-read.out || die "the reply does not name the message it answers"
echo "the reply names the message it answers ($SENT_ID)"

say "stop the servers"
for p in "${PIDS[@]}"; do kill -TERM "$p"; wait "$p" 2>/dev/null || true; done
PIDS=()
echo "both servers stopped"
printf '\nDEMO OK: alice#a.test and bob#b.test exchanged verified, end-to-end encrypted mail across two domains.\n'
