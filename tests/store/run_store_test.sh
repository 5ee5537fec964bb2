#!/usr/bin/env bash
# Runs smimpd_store_test on an empty store of one backend: "sqlite" (a file
# in a temp folder) or "postgresql" (a throwaway server, tests/integration
# lib.sh pg_start). Usage: run_store_test.sh sqlite|postgresql PATH_TO_TEST
set -euo pipefail
KIND=${1:?usage: $0 sqlite|postgresql PATH_TO_TEST}
TEST=${2:?usage: $0 sqlite|postgresql PATH_TO_TEST}
TEST=$(cd "$(dirname "$TEST")" && pwd)/$(basename "$TEST")
# shellcheck source=../integration/lib.sh
source "$(dirname "$0")/../integration/lib.sh"
lib_init store_test
case $KIND in
sqlite) URL=sqlite:$TMP/store.db ;;
postgresql) pg_start && pg_createdb store && URL=$PG_URL ;;
*) echo "unknown backend $KIND" >&2; exit 64 ;;
esac
"$TEST" "$URL"
