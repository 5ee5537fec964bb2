#!/usr/bin/env bash
# The systemd unit of contrib/systemd: systemd-analyze accepts it (syntax,
# directives, an executable ExecStart), its sandbox is rated at most 2.0 of
# 10 (exposure), and it keeps what smimpd relies on: SIGHUP to reload
# certificates, SIGTERM to stop, exit 78 not restarted, port 443 without
# root. Static checks only: running it needs systemd as PID 1.
# Usage: systemd_unit.sh UNIT_TEMPLATE SMIMPD
set -euo pipefail
source "$(dirname "$0")/lib.sh"

TEMPLATE=$(cd "$(dirname "${1:?usage: $0 UNIT_TEMPLATE SMIMPD}")" && pwd)/$(basename "$1")
SMIMPD=$(cd "$(dirname "${2:?}")" && pwd)/$(basename "$2")
lib_init systemd_unit
UNIT=$TMP/smimpd.service
sed "s|@SMIMPD_PATH@|$SMIMPD|" "$TEMPLATE" > "$UNIT"

if out=$(systemd-analyze verify --man=no "$UNIT" 2>&1) && [[ -z $out ]]; then
	pass "systemd-analyze verify accepts the unit"
else
	fail "systemd-analyze verify: $out"
fi
sed "s|@SMIMPD_PATH@|$TMP/no-such-smimpd|" "$TEMPLATE" > "$TMP/bad.service"
systemd-analyze verify --man=no "$TMP/bad.service" >/dev/null 2>&1 &&
	fail "verify accepted a missing ExecStart binary (the check is blind)" ||
	pass "verify refuses a unit whose binary is missing"

score=$(systemd-analyze security --offline=true "$UNIT" 2>&1 |
	sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
if systemd-analyze security --offline=true --threshold=20 "$UNIT" >/dev/null 2>&1; then
	pass "sandbox exposure $score (at most 2.0)"
else
	fail "sandbox exposure ${score:-unknown}, above 2.0"
fi

has_line() { # WHAT LINE
	grep -qxF "$2" "$UNIT" && pass "$1" || fail "$1: no line '$2'"
}
has_line "reload checks the certificate first" \
	"ExecReload=$SMIMPD --config /etc/smimpd/smimpd.conf check"
has_line "reload then signals SIGHUP" 'ExecReload=/bin/kill -HUP $MAINPID'
has_line "stop is SIGTERM" 'KillSignal=SIGTERM'
has_line "a configuration error (78) is not restarted" 'RestartPreventExitStatus=78'
has_line "binds 443 without root" 'AmbientCapabilities=CAP_NET_BIND_SERVICE'
has_line "serves with the documented configuration path" \
	"ExecStart=$SMIMPD --config /etc/smimpd/smimpd.conf serve"
"$SMIMPD" --help | grep -q -- '--config' && pass "smimpd takes --config" ||
	fail "smimpd --help does not mention --config"

lib_finish
