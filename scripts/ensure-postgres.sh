#!/usr/bin/env bash
# The PostgreSQL tests and the bench run a throwaway cluster (test/support/postgres.ts) with
# Debian's server binaries (initdb, pg_ctl). Installs them when missing and we are root; otherwise
# fails loudly with what to do, rather than skipping tests.
set -euo pipefail
if compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian postgresql for the PostgreSQL store tests..." >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  exit 0
fi
echo "error: PostgreSQL server binaries are missing (/usr/lib/postgresql/*/bin/initdb). Install them (Debian: sudo apt-get install -y postgresql) and rerun." >&2
exit 1
