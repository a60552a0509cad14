#!/usr/bin/env bash
# For `make test`: makes sure a PostgreSQL answers on 127.0.0.1:5432 for the catalog's
# tests (each makes and drops a database of its own). Starts Debian's cluster when it
# is stopped; on a cluster this script finds with password auth on 127.0.0.1, it adds a
# trust line for the local superuser, as on the machines the suite was written on.
set -euo pipefail
cd "$(dirname "$0")/.."

if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Starting PostgreSQL for the tests (log: var/log/setup.log)"
mkdir -p var/log
{
  cluster=$(pg_lsclusters --no-header | awk 'NR==1 {print $1" "$2}')
  if [ -z "$cluster" ]; then
    $sudo pg_createcluster --start 15 main || $sudo pg_createcluster --start "$(ls /usr/lib/postgresql | tail -1)" main
    cluster=$(pg_lsclusters --no-header | awk 'NR==1 {print $1" "$2}')
  fi
  hba=$(pg_conftool -s $cluster show hba_file 2>/dev/null || echo "/etc/postgresql/${cluster% *}/${cluster#* }/pg_hba.conf")
  grep -q "^host all postgres 127.0.0.1/32 trust" "$hba" || \
    $sudo sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
  $sudo pg_ctlcluster $cluster start || $sudo pg_ctlcluster $cluster reload
} >>var/log/setup.log 2>&1
for _ in $(seq 50); do
  pg_isready -q -h 127.0.0.1 -p 5432 && exit 0
  sleep 0.2
done
echo "PostgreSQL did not start; see var/log/setup.log" >&2
exit 1
