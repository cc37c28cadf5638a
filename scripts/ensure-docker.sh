#!/usr/bin/env bash
# Makes sure a Docker engine answers, for the tests that need a real one (agent, e2e).
# A skipped Docker test counts as a failed test, so when no engine runs we start one, and
# when we cannot we fail with the exact commands to run. Idempotent: safe to call often.
#   1. `docker info` works            -> nothing to do
#   2. root on Debian/Ubuntu (apt)    -> install docker.io + busybox-static if dockerd is
#                                        missing, start dockerd in the background
#   3. otherwise                      -> exit 1 with instructions
# busybox-static is installed alongside because tests build their images from its single
# static binary: no registry can be reached, so nothing can be pulled.
set -euo pipefail

SOCKET=/var/run/docker.sock
WAIT_SECONDS=60

say() { echo "ensure-docker: $*" >&2; }

# A static busybox runs alone in an empty image; a dynamic one would need its libraries.
file_is_static() { ! ldd "$1" >/dev/null 2>&1; }

engine_answers() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }

# The test image is built from the static busybox binary; it is needed even when an
# engine already runs.
if [ ! -x /bin/busybox ] || ! file_is_static /bin/busybox; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing busybox-static (the test image is built from it)"
    export DEBIAN_FRONTEND=noninteractive
    apt-cache show busybox-static >/dev/null 2>&1 || apt-get update -qq
    apt-get install -y -qq --no-install-recommends busybox-static >/dev/null
  else
    say "busybox-static is missing: sudo apt-get install -y busybox-static"
  fi
fi

if engine_answers; then
  exit 0
fi

can_manage=false
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  can_manage=true
fi

if [ "$can_manage" != true ]; then
  say "no Docker engine answers, and this script can only install/start one as root on Debian."
  say "Start it yourself, e.g.:"
  say "  sudo apt-get install -y docker.io busybox-static   # if Docker is not installed"
  say "  sudo systemctl start docker                         # or: sudo dockerd &"
  say "  sudo usermod -aG docker \"\$USER\"                    # then log in again, if 'permission denied'"
  exit 1
fi

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
  say "installing docker.io and busybox-static with apt-get (about 20 s)"
  export DEBIAN_FRONTEND=noninteractive
  # Update only when the package lists do not know docker.io yet (fresh images ship empty lists).
  if ! apt-cache show docker.io >/dev/null 2>&1; then
    apt-get update -qq
  fi
  apt-get install -y -qq --no-install-recommends docker.io busybox-static >/dev/null
fi

# A dockerd may already be starting (another test run, a service manager): wait for it
# rather than starting a second one that would fail on the pid file.
if ! { [ -f /var/run/docker.pid ] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; }; then
  log="$(mktemp -t dockerd.XXXXXX.log)"
  say "starting dockerd (log: $log)"
  # setsid + nohup: the engine outlives this script and the test run that called it.
  setsid nohup dockerd >"$log" 2>&1 </dev/null &
fi

for _ in $(seq 1 "$WAIT_SECONDS"); do
  if [ -S "$SOCKET" ] && docker info >/dev/null 2>&1; then
    say "Docker engine is up"
    exit 0
  fi
  sleep 1
done

say "dockerd did not answer on $SOCKET within ${WAIT_SECONDS} s."
if [ -n "${log:-}" ]; then
  say "last lines of its log ($log):"
  tail -n 20 "$log" >&2 || true
fi
say "Check it by hand with: dockerd  (in another terminal), then: docker info"
exit 1
