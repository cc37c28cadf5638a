#!/usr/bin/env bash
# Makes sure systemd's tools are installed, for the kai-agent service tests: `systemd-analyze
# verify` checks the unit kai-agent writes, and a private `systemd --user` runs it for real.
# Like ensure-docker.sh: a skipped test counts as failed, so as root with apt we install
# Debian's systemd package, and otherwise we fail with the command to run. Idempotent.
set -euo pipefail

say() { echo "ensure-systemd-analyze: $*" >&2; }

if command -v systemd-analyze >/dev/null 2>&1 && [ -x /usr/lib/systemd/systemd ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  say "systemd-analyze is missing, and this script can only install it as root on Debian. Run:"
  say "  sudo apt-get install -y --no-install-recommends systemd"
  exit 1
fi

say "installing systemd (systemd-analyze, systemd --user)"
export DEBIAN_FRONTEND=noninteractive
# Other installs may hold dpkg's lock for a while (ensure-docker.sh in a parallel run): wait for it.
apt_get() { apt-get -o DPkg::Lock::Timeout=300 "$@"; }
apt-cache show systemd >/dev/null 2>&1 || apt_get update -qq
apt_get install -y -qq --no-install-recommends systemd >/dev/null
command -v systemd-analyze >/dev/null 2>&1 || { say "installed, but systemd-analyze is still missing"; exit 1; }
