#!/usr/bin/env bash
# The remote server of a remote login down, slow or returning garbage
# (issue 6, part 2). a.test (smimpd) resolves bob#b.test at the POST of
# create_session (7.1); b.test is a fake HTTPS server in python3 on a
# loopback port (connect_to maps b.test:443 there):
#   down      nothing listens;
#   slow      answers one byte a second, for ever;
#   garbage   smimp.txt is valid ("b.test"), every other answer random bytes
#             as a 200 application/json;
#   binary    random bytes for every answer, smimp.txt included;
#   notls     a plain TCP server that writes random bytes (no TLS).
# Checks: each login is answered 502 within 12 s (the bound: connect 5 s,
# total 10 s); with 6 slow logins at once (more than smimpd's 4 threads) at
# most a quarter of the threads (the offload workers) wait on the slow
# server, off the I/O threads — the logins past
# that are answered 429 rate_limited at once, the others 502 within the
# bound — while a local get_user/.../public_key keeps answering quickly
# (max latency below 1 s, no failure) and a local user still logs in;
# smimpd stays up.
# Usage: fault_remote_login.sh SMIMPD SMIMP_CRASH_SENDER SMIMP_TESTCLIENT
set -euo pipefail

SMIMPD=$(cd "$(dirname "${1:?usage: $0 SMIMPD SENDER TESTCLIENT}")" && pwd)/$(basename "$1")
SENDER=$(cd "$(dirname "${2:?}")" && pwd)/$(basename "$2")
TC=$(cd "$(dirname "${3:?}")" && pwd)/$(basename "$3")
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lib_init fault_remote_login
make_certs
command -v python3 >/dev/null || { echo "FAIL: python3 needed for the fake server" >&2; exit 1; }

PORT=$(pick_port)
PX=$(pick_port)
{
	server_conf a.test "$PORT" "sqlite:$TMP/smimpd.db"
	cat <<EOF
pow_zero_bits = 2
threads = 4
ca_file = $TMP/ca.pem
connect_to = b.test:443:127.0.0.1:$PX
allow_private_addresses = true
EOF
} > smimpd.conf
BASE=https://a.test:$PORT
CONNECT=(--connect-to "a.test:$PORT:127.0.0.1:$PORT")
export CS_BASE=$BASE CS_CACERT=$TMP/ca.pem

cat > fake.py <<'EOF'
# A hostile b.test: MODE PORT CERT KEY
import os, socket, ssl, sys, threading, time
mode, port, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(64)
def serve(c):
    try:
        if mode == "notls":
            c.sendall(os.urandom(4096))
            return
        c = ctx.wrap_socket(c, server_side=True)
        req = c.recv(65536).decode("latin-1")
        path = req.split(" ")[1] if " " in req else "/"
        if mode == "slow":
            for b in b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 7\r\n\r\nb.test\n" + b"x" * 100:
                c.sendall(bytes([b]))
                time.sleep(1)
            return
        if mode == "garbage" and path.endswith("/.well-known/smimp.txt"):
            body = b"b.test\n"
            ctype = b"text/plain"
        else:
            body = os.urandom(3000)
            ctype = b"application/json"
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: " + ctype + b"\r\nContent-Length: "
                  + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
    except Exception:
        pass
    finally:
        try:
            c.close()
        except Exception:
            pass
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF

start_smimpd "$SMIMPD" smimpd.conf server.log a.test "$PORT" || exit 1
PID=$LAST_PID
pw=$("$SMIMPD" --config smimpd.conf account add "alice#a.test")
echo "alice#a.test $pw" > accounts
pw=$("$SMIMPD" --config smimpd.conf account add "carol#a.test")
echo "carol#a.test $pw" >> accounts
"$SENDER" init accounts 5 || { echo "FAIL: init" >&2; exit 1; }

# remote_login OUT: GET a token for bob#b.test, POST a login (the signature
# does not matter: resolution fails first). Prints "STATUS SECONDS".
remote_login() {
	local out=$1 token st t0
	token=$(curl -sS --cacert ca.pem "${CONNECT[@]}" "$BASE/0.1/create_session/bob%23b.test" | jq -r .token)
	"$TC" login-body "$BASE" "bob#b.test" "$token" 9 > "$out.req"
	t0=$(date +%s%N)
	st=$(curl -sS -o "$out" -w '%{http_code}' --max-time 60 --cacert ca.pem "${CONNECT[@]}" \
		-H 'Content-Type: application/json' --data-binary "@$out.req" \
		"$BASE/0.1/create_session/bob%23b.test") || st=curl-error
	echo "$st $(( ($(date +%s%N) - t0) / 1000000 ))"
}
start_fake() {
	python3 fake.py "$1" "$PX" srv.pem srv.key 2>>fake.log &
	FAKE=$!
	LIB_PIDS+=("$FAKE")
	for _ in $(seq 1 50); do port_in_use "$PX" && return 0; sleep 0.1; done
	fail "fake server $1 did not start"
}
stop_fake() { kill "$FAKE" 2>/dev/null || true; wait "$FAKE" 2>/dev/null || true; }
: > figures
check_502() { # MODE RESULT_LINE OUT
	local st=${2% *} ms=${2#* }
	if [[ $st == 502 && $ms -le 12000 ]] && grep -q '"error"' "$3"; then
		pass "$1: 502 in $ms ms ($(head -c 120 "$3"))"
	else
		fail "$1: status $st after $ms ms, want 502 within 12 s: $(head -c 200 "$3")"
	fi
	echo "$1 $st ${ms}ms" >> figures
}

# ---- down ----
r=$(remote_login down.out)
check_502 down "$r" down.out
# ---- garbage, binary, notls ----
for mode in garbage binary notls; do
	start_fake "$mode"
	r=$(remote_login "$mode.out")
	check_502 "$mode" "$r" "$mode.out"
	stop_fake
done
# ---- slow: 6 at once, and the local users meanwhile ----
start_fake slow
slow_pids=()
for i in 1 2 3 4 5 6; do
	remote_login "slow$i.out" > "slow$i.res" &
	slow_pids+=($!)
done
sleep 1
"$SENDER" probe "alice#a.test" 8 > probe.out || true
# a local login and send during the slow logins
mkdir out
rm -f stop
( sleep 3; touch stop ) &
"$SENDER" load accounts out 2 stop > load.out 2> load.err || fail "local load during slow logins: $(tail -n 3 load.err)"
for p in "${slow_pids[@]}"; do wait "$p" || true; done
n502=0
for i in 1 2 3 4 5 6; do
	r=$(cat "slow$i.res")
	if [[ ${r% *} == 429 ]]; then
		if [[ ${r#* } -le 12000 ]] && grep -q '"rate_limited"' "slow$i.out"; then
			pass "slow login $i of 6: 429 in ${r#* } ms (no free offload worker)"
		else
			fail "slow login $i of 6: 429 without rate_limited: $(head -c 200 "slow$i.out")"
		fi
		echo "slow login $i of 6 $r" >> figures
	else
		check_502 "slow login $i of 6" "$r" "slow$i.out"
		n502=$((n502 + 1))
	fi
done
[[ $n502 -ge 1 ]] && pass "$n502 slow logins reached the slow server and got 502" ||
	fail "no slow login reached the slow server"
stop_fake
cat probe.out
max=$(sed -n 's/.*max \([0-9]*\)\..*/\1/p' probe.out)
if grep -q ' 0 failed' probe.out && [[ -n $max && $max -lt 1000 ]]; then
	pass "local get_user public_key during 6 slow logins: $(cat probe.out)"
else
	fail "local users slowed down: $(cat probe.out)"
fi
n=$(sed -n 's/^answered_200=//p' out/load.stats)
[[ $n -gt 0 ]] && pass "local mail during the slow logins: $n messages answered 200 in 3 s" ||
	fail "no local mail during the slow logins"
kill -0 "$PID" 2>/dev/null && pass "smimpd alive" || fail "smimpd died"
echo "probe: $(cat probe.out)" >> figures
echo "local_sends_during_slow=$n" >> figures
cat figures
[[ -n ${CRASH_FIGURES:-} ]] && cp figures "$CRASH_FIGURES"
lib_finish server.log fake.log
