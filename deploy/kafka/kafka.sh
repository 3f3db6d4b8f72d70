#!/usr/bin/env bash
# Throwaway single-node Apache Kafka (KRaft, broker+controller in one JVM) on 127.0.0.1, for
# tests and local production-mode runs. The broker's jars come from Maven Central (see pom.xml)
# because package registries are the only network these machines have.
#
#   kafka.sh fetch    copy the broker's jars into target/dependency (no-op when up to date)
#   kafka.sh start    fetch if needed, format fresh storage, start, wait until truly ready
#   kafka.sh stop     SIGTERM (controlled shutdown), KILL after KAFKA_STOP_TIMEOUT seconds
#   kafka.sh status   exit 0 if running, 3 if not (LSB convention)
#
# Environment knobs (defaults in brackets):
#   KAFKA_PORT [9092]              client listener (PLAINTEXT), 127.0.0.1 only
#   KAFKA_CONTROLLER_PORT [9093]   KRaft controller listener, 127.0.0.1 only
#   KAFKA_WORK_DIR [<this dir>/target/run]  config, data, logs, pid; wiped on every start
#   KAFKA_HEAP_OPTS [-Xms256m -Xmx512m]
#   KAFKA_JVM_PERFORMANCE_OPTS     GC/JIT flags, see DEFAULT_PERF_OPTS below
#   KAFKA_START_TIMEOUT [120]      seconds to wait for readiness before giving up
#   KAFKA_STOP_TIMEOUT [30]        seconds between SIGTERM and SIGKILL
#   KAFKA_LOG_LEVEL [INFO]         root log level of the broker (logs/server.log)
#   JAVA_HOME                      Java 17+ to use (else `java` on PATH)
set -Eeuo pipefail
# Never fail silently: name the command that tripped `set -e` (-E carries this into functions).
trap 'echo "kafka.sh: failed at line $LINENO: $BASH_COMMAND" >&2' ERR

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LIBS="$HERE/target/dependency"
# Written after a complete copy: holds the pom's checksum, so a changed pom re-fetches and an
# interrupted fetch is never mistaken for a finished one.
STAMP="$LIBS/.fetched-pom.sha256"

PORT="${KAFKA_PORT:-9092}"
CPORT="${KAFKA_CONTROLLER_PORT:-9093}"
WORK="${KAFKA_WORK_DIR:-$HERE/target/run}"
HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
# SerialGC: no concurrent GC threads competing with the broker on 2 cores, and short pauses on
# a heap this small. TieredStopAtLevel=1 (C1 JIT only) is deliberately NOT set: measured here it
# saved under 0.5 s of a ~4 s start, and it gives up the C2 JIT for the whole run.
DEFAULT_PERF_OPTS="-XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError -XX:-UsePerfData"
PERF_OPTS="${KAFKA_JVM_PERFORMANCE_OPTS:-$DEFAULT_PERF_OPTS}"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-120}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
LOG_LEVEL="${KAFKA_LOG_LEVEL:-INFO}"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

PIDFILE="$WORK/kafka.pid"
LOG="$WORK/logs/server.log"
# Marker file proving a directory was made by this script, so `rm -rf "$WORK"` can never wipe
# something else if KAFKA_WORK_DIR is set carelessly (e.g. to $HOME).
OWNED_MARK=".tifli-kafka-workdir"
# Logged once by kafka.server.KafkaRaftServer when the broker has finished starting
# (KafkaBroker.STARTED_MESSAGE).
READY_MARKER="Kafka Server started"

log() { echo "kafka.sh: $*" >&2; }
die() { log "$*"; exit 1; }

pom_sum() { sha256sum "$HERE/pom.xml" | cut -d' ' -f1; }

fetch() {
  if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(pom_sum)" ]; then
    log "jars up to date in $LIBS"
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
  log "fetching broker jars with Maven (cached in ~/.m2) ..."
  local tmp="$HERE/target/dependency.partial"
  rm -rf "$tmp"
  mkdir -p "$HERE/target"
  # runtime scope: the log4j2 binding and most of Kafka's own modules are runtime-only deps.
  # Output goes to a file, shown only on failure: `start` prints nothing but its ready line on
  # stdout, and Maven 3.8 -q -B still emits stray ANSI resets.
  local mvnlog="$HERE/target/fetch.log"
  if ! mvn -B -q --no-transfer-progress -f "$HERE/pom.xml" \
        dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" \
        >"$mvnlog" 2>&1; then
    cat "$mvnlog" >&2
    die "Maven could not fetch the broker jars (see above)"
  fi
  ls "$tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || die "Maven ran but no kafka_2.13 jar in $tmp"
  # Swap in whole so a half-copied set (old + new versions mixed) is never on the classpath.
  rm -rf "$LIBS"
  mv "$tmp" "$LIBS"
  pom_sum > "$STAMP"
  log "fetched $(find "$LIBS" -name '*.jar' | wc -l) jars into $LIBS"
}

check_java() {
  command -v "$JAVA" >/dev/null || die "java not found (set JAVA_HOME or install Java 17+)"
  # Captured whole rather than piped into a reader that may exit early (under pipefail a
  # SIGPIPE'd writer would fail the pipeline).
  local props v
  props="$("$JAVA" -XshowSettings:properties -version 2>&1)" || die "$JAVA -version failed"
  v="$(awk -F'= ' '/java.specification.version/ {print $2}' <<<"$props")"
  # Kafka 4.x brokers need Java 17+ ("1.8" style versions are older still).
  case "$v" in
    1.*|9|1[0-6]|"") die "Kafka 4.x needs Java 17+, $JAVA is '${v:-unknown}' (set JAVA_HOME)";;
  esac
}

# True if something accepts TCP connections on 127.0.0.1:$1 (bash's /dev/tcp; no nc needed).
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Prints the pid if the pid file points at a live broker of ours; a recycled pid of some other
# process does not count.
running_pid() {
  [ -f "$PIDFILE" ] || return 1
  local pid
  pid="$(cat "$PIDFILE")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  local args
  args="$(ps -ww -o args= -p "$pid" 2>/dev/null)" || return 1
  [[ "$args" == *kafka.Kafka* ]] || return 1
  echo "$pid"
}

fresh_workdir() {
  case "$WORK" in
    ""|/) die "refusing KAFKA_WORK_DIR='$WORK'";;
  esac
  if [ -d "$WORK" ] && [ -n "$(ls -A "$WORK")" ] && [ ! -f "$WORK/$OWNED_MARK" ]; then
    die "$WORK is not empty and was not made by kafka.sh; refusing to wipe it"
  fi
  rm -rf "$WORK"
  mkdir -p "$WORK/data" "$WORK/logs" "$WORK/tmp"
  touch "$WORK/$OWNED_MARK"
}

write_config() {
  cat > "$WORK/server.properties" <<EOF
# Generated by kafka.sh on every start; edit the script, not this file.
process.roles=broker,controller
node.id=1
# Dynamic KRaft quorum (KIP-853): requires formatting with --standalone (see start()).
controller.quorum.bootstrap.servers=127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$WORK/data

# Tests create their topics explicitly; auto-creation would hide missing topic setup.
auto.create.topics.enable=false
num.partitions=3
default.replication.factor=1
min.insync.replicas=1

# One node: every internal topic at replication 1, and few partitions, because creating the
# default 50 partitions of __consumer_offsets on first group join is slow on 2 cores.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=1
# Consumers in tests should get partitions at once, not after the default 3 s delay.
group.initial.rebalance.delay.ms=0

# Sized for 2 cores and a ~512 MB heap (defaults: 3 network, 8 io, 10 background threads,
# and a 128 MB log-cleaner buffer allocated at startup).
num.network.threads=2
num.io.threads=4
background.threads=4
num.recovery.threads.per.data.dir=1
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=16777216
EOF

  # log4j2 in .properties form; the root level is a knob, but the logger carrying the readiness
  # marker stays at INFO so start() can always see it. shutdownHook=disable: log4j's own hook
  # otherwise races Kafka's on SIGTERM and the controlled-shutdown messages are lost.
  cat > "$WORK/log4j2.properties" <<EOF
status = warn
shutdownHook = disable
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = $LOG_LEVEL
rootLogger.appenderRef.out.ref = OUT
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = INFO
EOF
}

# The java command line shared by StorageTool and the broker, as an array (so `nohup` can run it).
jvm_cmd() {
  # HEAP_OPTS/PERF_OPTS are space-separated flag lists: word splitting is intended.
  # shellcheck disable=SC2206
  JVM_CMD=("$JAVA" $HEAP_OPTS $PERF_OPTS
    -Djava.awt.headless=true
    # zstd/snappy/lz4 unpack native libraries into java.io.tmpdir: keep that in the work dir.
    -Djava.io.tmpdir="$WORK/tmp"
    -Dkafka.logs.dir="$WORK/logs"
    -Dlog4j2.configurationFile="$WORK/log4j2.properties"
    -cp "$LIBS/*")
}

# On a failed start: the first errors (the cause; shutdown noise follows them), then the tail.
show_failure() {
  {
    echo "---- first errors in $LOG:"
    grep -E '^\[[^]]*\] (ERROR|FATAL)' "$LOG" | head -n 5 || true
    echo "---- last lines of $LOG:"
    tail -n 40 "$LOG" || true
  } >&2
}

cluster_id() {
  # 16 random bytes, URL-safe base64 without padding: what `StorageTool random-uuid` prints,
  # but without paying for a JVM start. Like Kafka's Uuid.randomUuid(), never start with '-':
  # the argument parser would take such an id for an option (1 start in 64 failed that way).
  if command -v python3 >/dev/null; then
    python3 -c '
import base64, uuid
while True:
    s = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if not s.startswith("-"):
        print(s)
        break'
  else
    jvm_cmd
    "${JVM_CMD[@]}" kafka.tools.StorageTool random-uuid
  fi
}

# The client port a broker in $WORK was started with (empty if none was).
started_port() {
  [ -f "$WORK/server.properties" ] || return 0
  sed -n 's/^advertised\.listeners=PLAINTEXT:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' \
      "$WORK/server.properties"
}

start() {
  local pid
  if pid="$(running_pid)"; then
    local was
    was="$(started_port)"
    # One work dir holds one broker: never report a port that some other broker is not on.
    [ "$was" = "$PORT" ] ||
      die "a broker on port $was already runs from $WORK; stop it or set KAFKA_WORK_DIR"
    log "already running (pid $pid)"
    echo "kafka ready on 127.0.0.1:$PORT"
    return 0
  fi
  local p
  for p in "$PORT" "$CPORT"; do
    port_open "$p" && die "port 127.0.0.1:$p is already in use by another process"
  done
  fetch
  check_java
  local t0=${EPOCHREALTIME/[.,]/}   # microseconds, bash 5
  fresh_workdir
  write_config
  jvm_cmd

  # StorageTool lives in core (Scala), i.e. kafka.tools.StorageTool, not org.apache.kafka.tools.
  if ! "${JVM_CMD[@]}" kafka.tools.StorageTool format --standalone \
        --cluster-id="$(cluster_id)" --config "$WORK/server.properties" \
        >"$WORK/logs/format.log" 2>&1; then
    cat "$WORK/logs/format.log" >&2
    die "formatting storage failed"
  fi

  # Background, immune to the caller's terminal hangup; nohup execs java, so $! is the JVM's pid.
  nohup "${JVM_CMD[@]}" kafka.Kafka "$WORK/server.properties" >"$LOG" 2>&1 </dev/null &
  pid=$!
  echo "$pid" > "$PIDFILE"

  # Ready = the broker says so AND the client port answers (the log line can come a hair before
  # the socket server accepts, and a port alone could be someone else's).
  local deadline=$((SECONDS + START_TIMEOUT))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
      show_failure
      rm -f "$PIDFILE"
      die "broker exited during startup (log: $LOG)"
    fi
    if grep -qF "$READY_MARKER" "$LOG" && port_open "$PORT"; then
      local ms=$(( (${EPOCHREALTIME/[.,]/} - t0) / 1000 ))
      log "started in $((ms / 1000)).$(printf %03d $((ms % 1000)))s (pid $pid, log $LOG)"
      echo "kafka ready on 127.0.0.1:$PORT"
      return 0
    fi
    sleep 0.5
  done
  show_failure
  log "not ready after ${START_TIMEOUT}s; stopping it"
  stop
  exit 1
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PIDFILE"
    log "not running"
    return 0
  fi
  # SIGTERM runs Kafka's shutdown hook: controlled shutdown, clean logs.
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "still alive after ${STOP_TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  fi
  rm -f "$PIDFILE"
  log "stopped (pid $pid)"
}

status() {
  local pid
  # Report the port this broker was actually started with, whatever KAFKA_PORT says now.
  local was
  was="$(started_port)"
  PORT="${was:-$PORT}"
  if pid="$(running_pid)"; then
    if port_open "$PORT"; then
      echo "kafka running (pid $pid) on 127.0.0.1:$PORT"
    else
      echo "kafka running (pid $pid) but 127.0.0.1:$PORT not accepting connections yet"
    fi
    return 0
  fi
  echo "kafka not running"
  return 3
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  # `|| exit`: "not running" (3) is an answer, not an error for the ERR trap. Only here:
  # calling a function from `||` switches off `set -e` inside it.
  status) status || exit $? ;;
  *) echo "usage: $0 fetch|start|stop|status" >&2; exit 2 ;;
esac
