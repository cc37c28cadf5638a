# Sourced by the ensure-*.sh scripts: `apt_install WHAT PACKAGE...` installs Debian packages as
# root, or, when that is impossible, prints the command to run and fails. A skipped test counts
# as failed, so a missing tool is installed where possible and explained where not.

apt_install() {
  local what="$1"
  shift
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "$what is missing, and this script can only install it as root on Debian. Run:"
    say "  sudo apt-get install -y --no-install-recommends $*"
    return 1
  fi
  say "installing $* (about 15 s)"
  export DEBIAN_FRONTEND=noninteractive
  # Other installs may hold dpkg's lock for a while (ensure-docker.sh in a parallel run): wait for it.
  apt-cache show "$1" >/dev/null 2>&1 || apt-get -o DPkg::Lock::Timeout=300 update -qq
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "$@" >/dev/null
}
