#!/usr/bin/env bash
# Debian's Chromium for the browser tests (the /docs page is driven by Playwright pointed at
# this executable; no browser is ever downloaded by Playwright itself).
#
#   chromium.sh install   apt-get install chromium if it is missing (needs root); print its path
#   chromium.sh path      print the path of the installed executable, exit 3 if there is none
# Strict mode, log/die, is_root, apt_install.
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../lib.sh"

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
  is_root || die "chromium missing; run as root: $0 install"
  log "installing Debian's chromium"
  apt_install chromium fonts-liberation
  found="$(find_chromium)" || die "installed chromium but found no executable on PATH"
  log "installed: $found"
  echo "$found"
}

case "${1:-}" in
  install) install ;;
  path) find_chromium || exit 3 ;;
  *) echo "usage: $0 install|path" >&2; exit 2 ;;
esac
