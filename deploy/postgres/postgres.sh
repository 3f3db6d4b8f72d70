#!/usr/bin/env bash
# PostgreSQL server on 127.0.0.1 for tests and local production-mode runs, using Debian's
# server binaries (no Docker here). Restartable: the data survives stop/start; only `wipe`
# deletes it. Authentication is "trust" (any local user connects as any role, no password
# checked): for tests and trials on one machine, never a shared host or production.
#
#   postgres.sh install   apt-get install the server if initdb/pg_ctl are missing (needs root)
#   postgres.sh start     initdb only if the data directory is empty (else start the existing
#                         cluster, running crash recovery if it was not shut down cleanly),
#                         ensure role+db tifli/tifli, wait until ready, print the SQLAlchemy URL
#   postgres.sh stop [MODE]  pg_ctl stop -m MODE (fast [default]: roll back open transactions;
#                         smart: wait for clients; immediate: no shutdown checkpoint, like a
#                         crash); the data stays
#   postgres.sh wipe      delete the work dir (data and log); refused while the server runs or
#                         when the directory was not made by this script
#   postgres.sh status    exit 0 if running, 3 if not (LSB convention)
#
# Environment knobs (defaults in brackets):
#   PG_PORT [55432]           TCP port on 127.0.0.1 (also names the unix socket)
#   PG_WORK_DIR [<this dir>/target/run-$PG_PORT, or /tmp/tifli-postgres-$PG_PORT when the
#                server's user cannot reach that path]   data dir, socket, log. One per port,
#                so servers on different ports (parallel test sessions) never share one.
#                Kept across stop/start; deleted only by `wipe`.
#   PG_FSYNC [on]             set to "off" for faster, crash-unsafe tests (also full_page_writes)
#   PG_SYNCHRONOUS_COMMIT [on]  "off": a commit returns before its WAL is flushed; a crash or an
#                             immediate stop may then lose the last commits (never corrupts)
#   PG_MAX_CONNECTIONS [200]
#   PG_START_TIMEOUT [60]     seconds to wait for readiness
#   PG_RUN_USER [postgres]    OS user the server runs as when this script runs as root
#                             (initdb and postgres refuse to run as root)
#   PG_BINDIR                 server binaries (default: newest /usr/lib/postgresql/*/bin)
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Strict mode, log/die, is_root, port_open, apt_install.
source "$HERE/../lib.sh"
PORT="${PG_PORT:-55432}"
FSYNC="${PG_FSYNC:-on}"
MAX_CONN="${PG_MAX_CONNECTIONS:-200}"
START_TIMEOUT="${PG_START_TIMEOUT:-60}"
RUN_USER="${PG_RUN_USER:-postgres}"
# Where Debian's packages put versioned server binaries (postgresql-NN).
PG_LIB_ROOT="${PG_LIB_ROOT:-/usr/lib/postgresql}"
SYNC_COMMIT="${PG_SYNCHRONOUS_COMMIT:-on}"
case "$FSYNC" in
  on|off) ;;
  *) log "PG_FSYNC must be 'on' or 'off', not '$FSYNC'"; exit 2 ;;
esac
case "$SYNC_COMMIT" in
  on|off) ;;
  *) log "PG_SYNCHRONOUS_COMMIT must be 'on' or 'off'"; exit 2 ;;
esac
APP_USER="tifli"
APP_PASSWORD="tifli"
APP_DB="tifli"
OWNED_MARK=".tifli-postgres-workdir"

url() { echo "postgresql+asyncpg://$APP_USER:$APP_PASSWORD@127.0.0.1:$PORT/$APP_DB"; }

# Newest installed server whose initdb, pg_ctl and postgres all exist (the client-only
# package installs some of these names' siblings but not the server itself).
find_bindir() {
  if [ -n "${PG_BINDIR:-}" ]; then
    [ -x "$PG_BINDIR/initdb" ] && [ -x "$PG_BINDIR/pg_ctl" ] && echo "$PG_BINDIR"
    return
  fi
  local d
  # (An unmatched glob stays literal and simply fails the -x tests.)
  while read -r d; do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then
      echo "$d"
      return 0
    fi
  done < <(printf '%s\n' "$PG_LIB_ROOT"/*/bin | sort -V -r)
  return 1
}

install() {
  local bindir
  if bindir="$(find_bindir)"; then
    log "server already installed: $bindir"
    return 0
  fi
  is_root || die "PostgreSQL server missing; run as root: $0 install"
  # `postgresql` = Debian's default major version (15 on Debian 12).
  apt_install postgresql
  bindir="$(find_bindir)" || die "installed postgresql but found no server under $PG_LIB_ROOT"
  log "installed: $bindir"
  # Debian's package may also create (and, where services can start, run) its own "main"
  # cluster on port 5432. This script never uses or touches it.
}

# Run a server-side command as the unprivileged user when we are root; from inside the work
# dir so tools never warn about an unreadable current directory.
as_pg() {
  if is_root; then
    (cd "$WORK" 2>/dev/null || cd /; runuser -u "$RUN_USER" -- "$@")
  else
    (cd "$WORK" 2>/dev/null || cd /; "$@")
  fi
}

# The work dir must be reachable (every parent searchable) by the server's user, and the
# socket path "<dir>/.s.PGSQL.<port>" must fit a unix socket name (107 bytes). A checkout under
# a private home directory fails the first test, a deep one the second: fall back to /tmp.
choose_workdir() {
  if [ -n "${PG_WORK_DIR:-}" ]; then
    WORK="$PG_WORK_DIR"
    return
  fi
  WORK="$HERE/target/run-$PORT"
  local fallback="/tmp/tifli-postgres-$PORT"
  local sock="$WORK/.s.PGSQL.$PORT"
  if [ "${#sock}" -gt 100 ]; then
    WORK="$fallback"
  elif is_root && id "$RUN_USER" >/dev/null 2>&1; then
    mkdir -p "$HERE/target"
    runuser -u "$RUN_USER" -- test -x "$HERE/target" 2>/dev/null || WORK="$fallback"
  fi
}

ensure_run_user() {
  is_root || return 0
  id "$RUN_USER" >/dev/null 2>&1 && return 0
  # Normally the postgresql package creates "postgres"; only create one if it is missing.
  log "creating system user $RUN_USER"
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$RUN_USER"
}

check_workdir() {
  case "$WORK" in
    ""|/) die "refusing PG_WORK_DIR='$WORK'";;
  esac
  if [ -d "$WORK" ] && [ -n "$(ls -A "$WORK")" ] && [ ! -f "$WORK/$OWNED_MARK" ]; then
    die "$WORK is not empty and was not made by postgres.sh; refusing to use it"
  fi
}

# Creates the work dir if missing; never deletes anything.
prepare_workdir() {
  check_workdir
  mkdir -p "$WORK"
  touch "$WORK/$OWNED_MARK"
  if is_root; then
    chown -R "$RUN_USER": "$WORK"
  fi
  chmod 755 "$WORK"   # logs readable by other local users; data/ itself is 0700 (initdb)
}

running() { [ -f "$DATA/postmaster.pid" ] && as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

write_config() {
  local fpw
  case "$FSYNC" in
    on) fpw=on ;;
    off) fpw=off ;;   # without fsync, torn-page protection buys nothing either
  esac
  cat >> "$DATA/postgresql.conf" <<EOF

# ---- added by postgres.sh ----
listen_addresses = '127.0.0.1'
port = $PORT
# Socket inside the throwaway dir: no clash with a system server's /var/run/postgresql.
unix_socket_directories = '$WORK'
max_connections = $MAX_CONN
# "off" can lose the last few commits on a crash, never corrupt data (PG_SYNCHRONOUS_COMMIT).
synchronous_commit = $SYNC_COMMIT
# fsync/full_page_writes off can corrupt the cluster on a crash: only on explicit request.
fsync = $FSYNC
full_page_writes = $fpw
timezone = 'UTC'
log_timezone = 'UTC'
EOF
}

# Idempotent: safe on a cluster that already has the role and database.
ensure_app_db() {
  local psql=("$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$WORK" -p "$PORT" -U postgres)
  as_pg "${psql[@]}" -d postgres <<EOF
SELECT format('CREATE ROLE %I LOGIN CREATEDB PASSWORD %L', '$APP_USER', '$APP_PASSWORD')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$APP_USER') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', '$APP_DB', '$APP_USER')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$APP_DB') \gexec
EOF
}

# An initialised cluster lives in $DATA (initdb writes PG_VERSION last but one; an
# interrupted initdb leaves a directory that is neither empty nor a cluster).
initialised() { [ -f "$DATA/PG_VERSION" ] && [ -f "$DATA/postgresql.conf" ]; }

# The port a server in $WORK was started with (empty if none was).
started_port() {
  [ -f "$DATA/postgresql.conf" ] || return 0
  sed -n 's/^port = \([0-9]*\)$/\1/p' "$DATA/postgresql.conf" | tail -n 1
}

start() {
  if running; then
    local was
    was="$(started_port)"
    # One work dir holds one server: never hand out a URL for a port nobody listens on.
    [ "$was" = "$PORT" ] ||
      die "a server on port $was already runs from $WORK; stop it or set PG_WORK_DIR"
    ensure_app_db
    log "already running (data $DATA)"
    url
    return 0
  fi
  port_open "$PORT" && die "port 127.0.0.1:$PORT is already in use by another process"
  local t0=${EPOCHREALTIME/[.,]/}   # microseconds, bash 5
  prepare_workdir
  local how="started the existing cluster"
  if initialised; then
    local was
    was="$(started_port)"
    [ "$was" = "$PORT" ] ||
      die "the cluster in $DATA listens on port ${was:-?}, not $PORT; set PG_PORT=$was" \
          "(or wipe it: PG_PORT=$PORT $0 wipe)"
  else
    if [ -d "$DATA" ] && [ -n "$(ls -A "$DATA" 2>/dev/null)" ]; then
      die "$DATA is neither empty nor a complete cluster (an interrupted initdb?);" \
          "look at it, then: $0 wipe"
    fi
    # initdb syncs its files once at the end: the new cluster survives a crash from then on.
    if ! as_pg "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 \
          --locale=C.UTF-8 --no-instructions >"$WORK/initdb.log" 2>&1; then
      cat "$WORK/initdb.log" >&2
      die "initdb failed"
    fi
    write_config
    how="initialised a new cluster"
  fi

  # -w waits until the server accepts connections (or fails and says why in the log).
  if ! as_pg "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t "$START_TIMEOUT" start >/dev/null; then
    tail -n 50 "$LOG" >&2 || true
    die "server did not start (log: $LOG)"
  fi
  # Ready over TCP too, which is what the application uses (pg_ctl checked the socket).
  local deadline=$((SECONDS + START_TIMEOUT))
  until "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U postgres -t 1; do
    [ "$SECONDS" -lt "$deadline" ] || { tail -n 50 "$LOG" >&2; die "not ready over TCP"; }
    sleep 0.2
  done
  ensure_app_db
  local ms=$(( (${EPOCHREALTIME/[.,]/} - t0) / 1000 ))
  log "$how; ready in $((ms / 1000)).$(printf %03d $((ms % 1000)))s (data $DATA, log $LOG;" \
      "psql -h 127.0.0.1 -p $PORT -U $APP_USER $APP_DB)"
  url
}

stop() {
  local mode="${1:-fast}"
  case "$mode" in
    smart|fast|immediate) ;;
    *) echo "usage: $0 stop [smart|fast|immediate]" >&2; exit 2 ;;
  esac
  if ! running; then
    log "not running"
    return 0
  fi
  # fast: roll back open transactions and disconnect clients instead of waiting for them.
  # immediate: no shutdown checkpoint; the next start runs crash recovery from the WAL.
  as_pg "$BIN/pg_ctl" -D "$DATA" stop -m "$mode" -w -t 60 >/dev/null
  log "stopped ($mode; data kept in $DATA, log $LOG)"
}

wipe() {
  if [ ! -e "$WORK" ]; then
    log "nothing to wipe ($WORK does not exist)"
    return 0
  fi
  check_workdir
  [ -f "$WORK/$OWNED_MARK" ] || die "$WORK was not made by postgres.sh; refusing to delete it"
  running && die "the server in $DATA is running; stop it first ($0 stop)"
  # A server of ours may still be starting (pid file written, not yet answering pg_ctl).
  if [ -f "$DATA/postmaster.pid" ]; then
    local pid
    pid="$(head -n 1 "$DATA/postmaster.pid")"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      die "process $pid still holds $DATA; stop it first"
    fi
  fi
  rm -rf "$WORK"
  log "wiped $WORK"
}

status() {
  if running; then
    if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U postgres -t 1; then
      echo "postgres running on 127.0.0.1:$PORT (data $DATA)"
    else
      echo "postgres running (data $DATA) but 127.0.0.1:$PORT not accepting connections"
    fi
    return 0
  fi
  echo "postgres not running"
  return 3
}

cmd="${1:-}"
case "$cmd" in
  install) install; exit 0 ;;
  start|stop|status|wipe) ;;
  *) echo "usage: $0 install|start|stop [smart|fast|immediate]|status|wipe" >&2; exit 2 ;;
esac

if ! BIN="$(find_bindir)"; then
  [ "$cmd" = start ] || { log "PostgreSQL server not installed"; [ "$cmd" = status ] && exit 3; exit 0; }
  # `start` installs on demand, like kafka.sh fetches on demand.
  install
  BIN="$(find_bindir)"
fi
# Before choose_workdir, which tests what this user can reach.
[ "$cmd" = start ] && ensure_run_user
choose_workdir
DATA="$WORK/data"
LOG="$WORK/postgres.log"
if [ "$cmd" = status ]; then
  # `|| exit`: "not running" (3) is an answer, not an error for the ERR trap. Only here:
  # calling a function from `||` switches off `set -e` inside it.
  status || exit $?
elif [ "$cmd" = stop ]; then
  stop "${2:-fast}"
else
  "$cmd"
fi
