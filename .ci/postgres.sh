#!/usr/bin/env bash
# Installs (when missing) and starts PostgreSQL with PostGIS for the tests,
# and prepares what they use:
#
#   - the role of the user running the tests (root in CI), a superuser;
#   - database dongne_test, with PostGIS;
#   - database dongne_test_plain, without PostGIS (the error a daily job gets
#     when it points at the wrong database);
#   - role dongne_weak (password "weak"), which may connect but not create
#     tables in dongne_test's public schema (the error for missing rights).
#
# Then it prints the variables the tests read:
#
#   eval "$(bash .ci/postgres.sh)"    # sets DONGNE_TEST_PG and DONGNE_TEST_PG_PLAIN
#
# Debian 12: PostgreSQL 15 and PostGIS 3.3 from Debian's own packages.
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
fi

missing=()
for pkg in postgresql postgresql-15-postgis-3; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    "${sudo[@]}" apt-get update >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >&2
fi

# The cluster Debian creates with the package; started if it is down (a
# container has no init to start it).
if ! pg_lsclusters -h 2>/dev/null | grep -q .; then
    log "creating cluster 15/main"
    "${sudo[@]}" pg_createcluster 15 main >&2
fi
read -r ver cluster _ status _ < <(pg_lsclusters -h | head -1)
if [ "$status" != "online" ]; then
    log "starting cluster $ver/$cluster"
    "${sudo[@]}" pg_ctlcluster "$ver" "$cluster" start >&2
fi
for _ in $(seq 1 30); do
    pg_isready -q && break
    sleep 1
done
pg_isready -q || { log "PostgreSQL does not answer"; exit 1; }

me="$(id -un)"
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        su postgres -c "$(printf '%q ' "$@")"
    else
        sudo -u postgres "$@"
    fi
}
psql_pg() { as_pg psql -v ON_ERROR_STOP=1 -qAtc "$1" >&2; }

exists() { as_pg psql -qAtc "$1" | grep -q 1; }
exists "SELECT 1 FROM pg_roles WHERE rolname = '$me'" || psql_pg "CREATE ROLE \"$me\" SUPERUSER LOGIN"
exists "SELECT 1 FROM pg_roles WHERE rolname = 'dongne_weak'" ||
    psql_pg "CREATE ROLE dongne_weak LOGIN PASSWORD 'weak'"
exists "SELECT 1 FROM pg_database WHERE datname = 'dongne_test'" || psql_pg "CREATE DATABASE dongne_test OWNER \"$me\""
exists "SELECT 1 FROM pg_database WHERE datname = 'dongne_test_plain'" ||
    psql_pg "CREATE DATABASE dongne_test_plain OWNER \"$me\""
psql -d dongne_test -v ON_ERROR_STOP=1 -qAtc "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS postgis" >&2
psql -d dongne_test -v ON_ERROR_STOP=1 -qAtc "REVOKE CREATE ON SCHEMA public FROM PUBLIC" >&2
log "PostgreSQL $(psql -d dongne_test -qAtc 'SHOW server_version'), PostGIS $(psql -d dongne_test -qAtc 'SELECT postgis_lib_version()')"

echo "export DONGNE_TEST_PG='PG:dbname=dongne_test'"
echo "export DONGNE_TEST_PG_PLAIN='PG:dbname=dongne_test_plain'"
