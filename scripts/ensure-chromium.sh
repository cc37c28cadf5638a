#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed, for the browser tests (test/browser, driven by
# playwright-core, which never downloads a browser). Like ensure-docker.sh: a skipped test
# counts as failed, so as root with apt we install it, and otherwise we fail with the command
# to run. Idempotent: safe to call often.
set -euo pipefail

BROWSER=/usr/bin/chromium
PACKAGES=(chromium fonts-liberation)

say() { echo "ensure-chromium: $*" >&2; }

if [ -x "$BROWSER" ] && dpkg -s fonts-liberation >/dev/null 2>&1; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  say "Chromium is missing, and this script can only install it as root on Debian. Run:"
  say "  sudo apt-get install -y --no-install-recommends ${PACKAGES[*]}"
  exit 1
fi

say "installing ${PACKAGES[*]} (about 15 s)"
export DEBIAN_FRONTEND=noninteractive
# Other installs may hold dpkg's lock for a while (ensure-docker.sh in a parallel run): wait for it.
apt_get() { apt-get -o DPkg::Lock::Timeout=300 "$@"; }
apt-cache show chromium >/dev/null 2>&1 || apt_get update -qq
apt_get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
[ -x "$BROWSER" ] || { say "installed, but $BROWSER is still missing"; exit 1; }
