#!/usr/bin/env bash
# Browser tests use Debian's Chromium (Playwright cannot download browsers here). Installs it when
# missing and we are root; otherwise fails loudly with what to do, rather than skipping tests.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian chromium for the browser tests..." >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "error: /usr/bin/chromium is missing. Install it (Debian: sudo apt-get install -y chromium) and rerun." >&2
exit 1
