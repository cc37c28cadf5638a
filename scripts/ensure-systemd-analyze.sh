#!/usr/bin/env bash
# Makes sure systemd's tools are installed, for the kai-agent service tests: `systemd-analyze
# verify` checks the unit kai-agent writes, and a private `systemd --user` runs it for real.
# Like ensure-docker.sh: installed as root with apt (Debian's systemd package), otherwise a
# failure with the command to run. Idempotent.
set -euo pipefail

say() { echo "ensure-systemd-analyze: $*" >&2; }
source "$(dirname "$0")/apt-install.sh"

if command -v systemd-analyze >/dev/null 2>&1 && [ -x /usr/lib/systemd/systemd ]; then
  exit 0
fi
apt_install systemd-analyze systemd
command -v systemd-analyze >/dev/null 2>&1 || { say "installed, but systemd-analyze is still missing"; exit 1; }
