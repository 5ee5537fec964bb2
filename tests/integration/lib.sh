# Shared helpers of the smimpd integration tests (sourced, not run): a temp
# folder cleaned on exit, pass/fail counters, a test CA and a server
# certificate for a.test, b.test and localhost, free loopback ports,
# starting smimpd processes, and curl checks over real TLS.
# Before sourcing: set -euo pipefail. After: call lib_init NAME.

FAILS=0
LIB_PIDS=()
CONNECT=()      # --connect-to arguments every request uses

lib_cleanup() {
	local p
	[[ -n ${PG_DIR:-} ]] && pg_stop
	for p in "${LIB_PIDS[@]}"; do
		if kill -0 "$p" 2>/dev/null; then
			kill -KILL "$p" 2>/dev/null || true
			wait "$p" 2>/dev/null || true
		fi
	done
	[[ -n ${TMP:-} ]] && rm -rf "$TMP"
	release_ports
}

lib_init() {
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
	trap lib_cleanup EXIT
	trap 'exit 130' INT TERM
	cd "$TMP"
}

fail() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}
pass() { echo "ok: $*"; }

# expect_rc NAME WANT COMMAND...: runs COMMAND (stdout to last.out, stderr
# to last.err) and checks its exit status.
expect_rc() {
	local name=$1 want=$2 rc
	shift 2
	set +e
	"$@" >last.out 2>last.err
	rc=$?
	set -e
	if [[ $rc -eq $want ]]; then
		pass "$name (exit $rc)"
	else
		fail "$name: exit $rc, want $want: $(head -c 800 last.err) $(head -c 800 last.out)"
	fi
}

# ca.pem/ca.key and srv.pem/srv.key for a.test, b.test and localhost.
make_certs() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout ca.key -out ca.pem -days 2 -subj "/CN=smimpd test CA" 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout srv.key -out srv.csr -subj "/CN=a.test" 2>/dev/null
	cat > ext.cnf <<'EOC'
subjectAltName = DNS:a.test, DNS:b.test, DNS:localhost
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = serverAuth
EOC
	openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
		-out srv.pem -days 2 -extfile ext.cnf 2>/dev/null
}

# shellcheck source=../../scripts/ports.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/ports.sh"

# start_smimpd SMIMPD CONF LOG HOST PORT: starts "serve" and waits until
# https://HOST:PORT/version answers; the pid goes to LAST_PID and LIB_PIDS.
start_smimpd() {
	local smimpd=$1 conf=$2 log=$3 host=$4 port=$5
	"$smimpd" --config "$conf" serve 2>>"$log" &
	LAST_PID=$!
	LIB_PIDS+=("$LAST_PID")
	for _ in $(seq 1 100); do
		if curl -s -o /dev/null --cacert "$TMP/ca.pem" \
			--connect-to "$host:$port:127.0.0.1:$port" "https://$host:$port/version"; then
			return 0
		fi
		kill -0 "$LAST_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$log" >&2
	return 1
}

# stop_smimpd PID: SIGTERM and wait.
stop_smimpd() {
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# server_conf DOMAIN PORT DATABASE: the lines every test server's
# configuration starts with: DOMAIN on 127.0.0.1:PORT (public_url
# https://DOMAIN:PORT), the test certificate srv.pem, the store DATABASE.
server_conf() {
	cat <<EOC
domain = $1
listen = 127.0.0.1:$2
public_url = https://$1:$2
tls_cert = $TMP/srv.pem
tls_key = $TMP/srv.key
database = $3
EOC
}

# ---- two federated servers, a.test and b.test --------------------------------
# domain_conf NAME DOMAIN PORT [EXTRA]: writes NAME.conf for a smimpd serving
# DOMAIN on 127.0.0.1:PORT (public_url https://DOMAIN:PORT) with srv.pem,
# the store sqlite:$TMP/NAME.db, the test CA, connect_to lines sending
# a.test (port 443 and PA) to PA and b.test (443 and PB) to PB, and
# allow_private_addresses = true. EXTRA: more "key = value" lines (one
# string, newline separated), written after the database line.
domain_conf() {
	local name=$1 domain=$2 port=$3 extra=${4-}
	{
		server_conf "$domain" "$port" "sqlite:$TMP/$name.db"
		if [[ -n $extra ]]; then printf '%s\n' "$extra"; fi
		cat <<EOC
ca_file = $TMP/ca.pem
connect_to = a.test:443:127.0.0.1:$PA
connect_to = a.test:$PA:127.0.0.1:$PA
connect_to = b.test:443:127.0.0.1:$PB
connect_to = b.test:$PB:127.0.0.1:$PB
allow_private_addresses = true
EOC
	} > "$name.conf"
}

# start_two_domains SMIMPD [EXTRA]: after make_certs, picks two ports PA
# and PB, writes a.conf (a.test on PA, store a.db) and b.conf (b.test on
# PB, store b.db) with domain_conf NAME DOMAIN PORT EXTRA, and starts both
# (pids in APID and BPID); the test ends with a FAIL line if either does
# not start. TLS_ARGS: the smimp client's --cacert and --connect-to
# arguments for both domains (on 443 and on their own port).
# shellcheck disable=SC2034 # APID, BPID and TLS_ARGS are for the caller
start_two_domains() {
	local smimpd=$1 extra=${2-}
	if ! PA=$(pick_port) || ! PB=$(pick_port); then
		echo "FAIL: no free port for a.test/b.test" >&2
		exit 1
	fi
	domain_conf a a.test "$PA" "$extra"
	domain_conf b b.test "$PB" "$extra"
	start_smimpd "$smimpd" a.conf a.log a.test "$PA" ||
		{ echo "FAIL: a.test did not start" >&2; exit 1; }
	APID=$LAST_PID
	start_smimpd "$smimpd" b.conf b.log b.test "$PB" ||
		{ echo "FAIL: b.test did not start" >&2; exit 1; }
	BPID=$LAST_PID
	TLS_ARGS=(--cacert "$TMP/ca.pem"
		--connect-to "a.test:443:127.0.0.1:$PA" --connect-to "a.test:$PA:127.0.0.1:$PA"
		--connect-to "b.test:443:127.0.0.1:$PB" --connect-to "b.test:$PB:127.0.0.1:$PB")
}

# req CURL_ARGS...: one request; the status goes to STATUS, the body to
# body.out, the headers to headers.out.
req() {
	STATUS=$(curl -sS -o body.out -D headers.out -w '%{http_code}' \
		--cacert "$TMP/ca.pem" "${CONNECT[@]}" "$@") || STATUS="curl-error"
}

# check NAME EXPECTED_STATUS EXPECTED_ERROR_CODE CURL_ARGS... ("" = any body)
check() {
	local name=$1 want_status=$2 want_code=$3
	shift 3
	req "$@"
	if [[ $STATUS != "$want_status" ]]; then
		fail "$name: status $STATUS, want $want_status (body: $(head -c 300 body.out))"
	elif [[ -n $want_code ]] && ! grep -q "\"error\":\"$want_code\"" body.out; then
		fail "$name: body $(head -c 300 body.out), want error $want_code"
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

lib_finish() {
	if [[ $FAILS -ne 0 ]]; then
		local l
		for l in "$@"; do
			echo "---- $l ----" >&2
			tail -n 60 "$l" >&2 || true
		done
		echo "$FAILS check(s) failed" >&2
		exit 1
	fi
	echo "all checks passed"
}

# ---- a throwaway PostgreSQL (for the PostgreSQL store) --------------------
# pg_start: initdb into a fresh temp folder (PG_DIR), a server listening on
# a unix socket there and on 127.0.0.1:PG_PORT, superuser "smimptest" with
# trust authentication; PG_URL_BASE is "postgresql://smimptest@/" and
# PG_URL_QUERY the "?host=..." part. As root the server runs as the
# "postgres" system user (PostgreSQL refuses root). lib_cleanup (or pg_stop)
# stops and removes it. The binaries come from PG_BIN (default: the newest
# /usr/lib/postgresql/*/bin), never from PATH.
PG_DIR=
pg_bin() {
	if [[ -z ${PG_BIN:-} ]]; then
		PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	fi
	[[ -x $PG_BIN/postgres ]] || { echo "no PostgreSQL server binaries (PG_BIN)" >&2; return 1; }
}
pg_as() { # runs a PostgreSQL server command as the user that owns PG_DIR
	if [[ $(id -u) -eq 0 ]]; then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}
pg_start() {
	pg_bin || return 1
	PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/smimp-pg.XXXXXX")
	chmod 755 "$PG_DIR"
	[[ $(id -u) -eq 0 ]] && chown postgres: "$PG_DIR"
	PG_PORT=$(pick_port) || return 1
	pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U smimptest --auth=trust \
		-E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 ||
		pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U smimptest --auth=trust \
			-E UTF8 --no-locale >"$PG_DIR/initdb.log" 2>&1 ||
		{ cat "$PG_DIR/initdb.log" >&2; return 1; }
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
		-o "-k $PG_DIR -h 127.0.0.1 -p $PG_PORT -c fsync=on -c synchronous_commit=on -c max_connections=300 -c shared_buffers=64MB -c unix_socket_permissions=0777" \
		start >/dev/null || { cat "$PG_DIR/server.log" >&2; return 1; }
	PG_URL_BASE="postgresql://smimptest@/"
	PG_URL_QUERY="?host=$PG_DIR&port=$PG_PORT"
	export PG_DIR PG_PORT PG_BIN PG_URL_BASE PG_URL_QUERY
}
pg_stop() {
	[[ -n ${PG_DIR:-} && -d $PG_DIR ]] || return 0
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
	rm -rf "$PG_DIR"
	PG_DIR=
}
# pg_psql SQL...: runs SQL on database "postgres" (or PG_DB) as smimptest.
pg_psql() {
	PGOPTIONS='-c client_min_messages=warning' "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR" -p "$PG_PORT" \
		-U smimptest -d "${PG_DB:-postgres}" -At "$@"
}
# pg_createdb NAME: a fresh, empty database NAME; its URL goes to PG_URL.
pg_createdb() {
	pg_psql -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" -c "CREATE DATABASE \"$1\"" || return 1
	PG_URL="$PG_URL_BASE$1$PG_URL_QUERY"
}
# db_url NAME: the database URL smimpd should use for a store called NAME:
# sqlite:$TMP/NAME.db, or with SMIMPD_TEST_DB=postgresql a fresh database
# NAME on the throwaway PostgreSQL (started on first use).
db_url() {
	if [[ ${SMIMPD_TEST_DB:-sqlite} == postgresql ]]; then
		[[ -n ${PG_DIR:-} ]] || pg_start || return 1
		pg_createdb "$1" >/dev/null || return 1
		echo "$PG_URL"
	else
		echo "sqlite:$TMP/$1.db"
	fi
}
