# Sourced (never run) by the scripts under deploy/: one strict mode, one way to report, and the
# helpers more than one of them needs. The caller's file name prefixes every message, so a
# failure in a long test log still says which script it came from.
#
#   source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

set -Eeuo pipefail
SCRIPT_NAME="$(basename "${BASH_SOURCE[1]:-$0}")"
# Never fail silently: name the command that tripped `set -e` (-E carries this into functions).
trap 'echo "$SCRIPT_NAME: failed at line $LINENO: $BASH_COMMAND" >&2' ERR

log() { echo "$SCRIPT_NAME: $*" >&2; }
die() { log "$*"; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# True if something accepts TCP connections on 127.0.0.1:$1 (bash's /dev/tcp; no nc needed).
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# apt-get install the Debian packages named, without recommends. Package lists are refreshed
# only when there are none, or once when the install fails on stale ones: an update on every
# run would slow every fresh test session for nothing.
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if ! compgen -G "/var/lib/apt/lists/*_Packages*" >/dev/null; then
    log "apt-get update (no package lists yet)"
    apt-get update -q >&2
  fi
  if ! apt-get install -y -q --no-install-recommends "$@" >&2; then
    log "install failed; refreshing package lists and retrying once"
    apt-get update -q >&2
    apt-get install -y -q --no-install-recommends "$@" >&2
  fi
}
