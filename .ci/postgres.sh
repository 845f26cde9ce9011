#!/usr/bin/env bash
# PostgreSQL + PostGIS for the team-store tests (tests/pgcluster.py starts a throwaway cluster
# on a free 127.0.0.1 port as the 'postgres' user — PostgreSQL refuses to run as root).
# Wire into .ci/run before the test command:  bash .ci/postgres.sh
set -euo pipefail
cd "$(dirname "$0")/.."
have_pg() { ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1; }
if ! have_pg; then
  apt-get update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq postgresql postgis >/dev/null
fi
# the packaged cluster is not needed (the tests start their own); check that one starts
# (needs psycopg, i.e. after 'pip install -e .[test]'; skipped before it)
if python3 -c 'import psycopg' 2>/dev/null; then python3 tests/pgcluster.py --check; fi
