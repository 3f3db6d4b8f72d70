#!/usr/bin/env bash
# Debian's Chromium for the browser tests (the /docs page is driven by Playwright pointed at
# this executable; no browser is ever downloaded by Playwright itself).
#
#   chromium.sh install   apt-get install chromium if it is missing (needs root); print its path
#   chromium.sh path      print the path of the installed executable, exit 3 if there is none
set -Eeuo pipefail
trap 'echo "chromium.sh: failed at line $LINENO: $BASH_COMMAND" >&2' ERR

log() { echo "chromium.sh: $*" >&2; }
die() { log "$*"; exit 1; }

find_chromium() {
  local name
  for name in chromium chromium-browser; do
    if command -v "$name" >/dev/null 2>&1; then
      command -v "$name"
      return 0
    fi
  done
  return 1
}

install() {
  local found
  if found="$(find_chromium)"; then
    echo "$found"
    return
  fi
  [ "$(id -u)" -eq 0 ] || die "chromium missing; run as root: $0 install"
  # Package lists are refreshed only when there are none, or when the install fails on
  # stale ones: an update on every run would slow every fresh test session for nothing.
  if ! compgen -G "/var/lib/apt/lists/*_Packages*" >/dev/null; then
    log "apt-get update (no package lists yet)"
    apt-get update -q >&2
  fi
  log "installing Debian's chromium"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      chromium fonts-liberation >&2; then
    log "install failed; refreshing package lists and retrying once"
    apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      chromium fonts-liberation >&2
  fi
  found="$(find_chromium)" || die "installed chromium but found no executable on PATH"
  log "installed: $found"
  echo "$found"
}

case "${1:-}" in
  install) install ;;
  path) find_chromium || exit 3 ;;
  *) echo "usage: $0 install|path" >&2; exit 2 ;;
esac
