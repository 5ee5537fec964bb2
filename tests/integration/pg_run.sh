#!/usr/bin/env bash
# Runs one smimpd integration suite (written for SQLite) on PostgreSQL:
# starts a throwaway PostgreSQL (lib.sh pg_start) and hands the suite, in
# place of smimpd, a wrapper that rewrites the "database = sqlite:PATH" line
# of the --config file to a PostgreSQL database of its own per PATH, then
# execs the real smimpd (same pid, same signals). PATH itself becomes a
# marker: when a suite deletes it (to start over with an empty store), the
# next run gets a fresh, empty database, as with SQLite.
# Usage: pg_run.sh SUITE.sh PATH_TO_SMIMPD [MORE ARGUMENTS OF THE SUITE...]
set -euo pipefail

SUITE=${1:?usage: $0 SUITE.sh SMIMPD [ARGS...]}
SMIMPD=${2:?usage: $0 SUITE.sh SMIMPD [ARGS...]}
shift 2
SUITE=$(cd "$(dirname "$SUITE")" && pwd)/$(basename "$SUITE")
SMIMPD=$(cd "$(dirname "$SMIMPD")" && pwd)/$(basename "$SMIMPD")
rest=()
for a in "$@"; do  # files given relative to here stay valid after cd
	[[ -e $a ]] && a=$(cd "$(dirname "$a")" && pwd)/$(basename "$a")
	rest+=("$a")
done
set -- "${rest[@]}"
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lib_init pg_run
pg_start

cat > smimpd-pg <<EOW
#!/usr/bin/env bash
# smimpd with its SQLite database swapped for PostgreSQL (pg_run.sh).
set -euo pipefail
args=("\$@")
for ((i = 0; i < \${#args[@]} - 1; i++)); do
	[[ \${args[i]} == --config ]] || continue
	conf=\${args[i + 1]}
	path=\$(sed -n 's/^database = sqlite:\([^ ]*\).*/\1/p' "\$conf" 2>/dev/null | head -n 1 || true)
	[[ -n \$path ]] || break
	db=smd_\$(printf '%s' "\$path" | cksum | cut -d ' ' -f 1)
	exec 9>"$TMP/create.lock"
	flock 9
	if [[ ! -e \$path ]]; then
		PGOPTIONS='-c client_min_messages=warning' "$PG_BIN/psql" -X -q -h "$PG_DIR" -p "$PG_PORT" -U smimptest -d postgres \\
			-c "DROP DATABASE IF EXISTS \$db WITH (FORCE)" -c "CREATE DATABASE \$db" >&2
		: > "\$path"
	fi
	exec 9>&-
	while IFS= read -r line || [[ -n \$line ]]; do
		[[ \$line == "database = sqlite:"* ]] && line="database = $PG_URL_BASE\$db$PG_URL_QUERY"
		printf '%s\n' "\$line"
	done < "\$conf" > "\$conf.pg"
	args[i + 1]=\$conf.pg
	break
done
exec "$SMIMPD" "\${args[@]}"
EOW
chmod +x smimpd-pg
echo "PostgreSQL in $PG_DIR (port $PG_PORT); running $(basename "$SUITE")"
set +e
bash "$SUITE" "$TMP/smimpd-pg" "$@"
rc=$?
set -e
if [[ $rc -ne 0 ]]; then
	echo "---- PostgreSQL log ----" >&2
	tail -n 40 "$PG_DIR/server.log" >&2 || true
fi
exit $rc
