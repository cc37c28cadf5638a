#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed, for the browser tests (test/browser, driven by
# playwright-core, which never downloads a browser). Like ensure-docker.sh: installed as root
# with apt, otherwise a failure with the command to run. Idempotent: safe to call often.
set -euo pipefail

BROWSER=/usr/bin/chromium

say() { echo "ensure-chromium: $*" >&2; }
source "$(dirname "$0")/apt-install.sh"

if [ -x "$BROWSER" ] && dpkg -s fonts-liberation >/dev/null 2>&1; then
  exit 0
fi
apt_install Chromium chromium fonts-liberation
[ -x "$BROWSER" ] || { say "installed, but $BROWSER is still missing"; exit 1; }
