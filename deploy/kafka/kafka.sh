#!/usr/bin/env bash
# Apache Kafka in KRaft mode on 127.0.0.1, one node or an N-node cluster, for tests, drills and
# local production-mode runs. The jars come from Maven Central (see pom.xml) because package
# registries are the only network these machines have. Restartable: `stop` keeps the data and
# `start` formats only empty storage; deleting the data is the separate `wipe` command.
#
#   kafka.sh fetch            copy the broker's jars into target/dependency (no-op when up to date)
#   kafka.sh start [NODE...]  fetch if needed; on first use format the storage of every node
#                             (one new cluster id, kept in the work dir); then start every node
#                             (or the NODEs given) that is not running and wait until all are
#                             ready; prints "kafka ready on <bootstrap servers>" on stdout
#   kafka.sh stop [NODE...]   SIGTERM (controlled shutdown), KILL after KAFKA_STOP_TIMEOUT s;
#                             the data stays
#   kafka.sh kill NODE...     SIGKILL, for fault drills (the next start recovers the logs)
#   kafka.sh status [NODE...] one line per node; exit 0 if all of them run, 3 if not (LSB)
#   kafka.sh wipe             delete the work dir: every node's data, logs and the cluster id;
#                             refused while a node runs or when the dir was not made here
#
# The cluster. KAFKA_BROKERS=N starts N nodes with node.id 1..N. The first KAFKA_CONTROLLERS of
# them (default: 1 for one node, else 3, capped at N) are "combined" nodes
# (process.roles=broker,controller) and form the KRaft controller quorum; any others are
# brokers only. The quorum is dynamic (KIP-853): every node finds it through
# controller.quorum.bootstrap.servers, and the controllers are formatted once with the same
# --initial-controllers list (id@host:port:directory-id), which fixes the voter set. With 3
# controllers the cluster survives the loss of any one node, controller or not. Combined nodes
# are fine on one machine; a production cluster runs dedicated controllers.
# Internal topics (__consumer_offsets, transactions) get replication min(N,3) and min ISR 2
# when that is 3; application topics take their replication factor and min.insync.replicas
# from the application (TIFLI_KAFKA_REPLICATION_FACTOR, TIFLI_KAFKA_MIN_INSYNC_REPLICAS).
#
# The layout (node count, ports, cluster id, voters) is written to <work dir>/cluster.conf at
# format time; later commands read it, so `stop`, `status`, `kill` and `wipe` need no knobs.
# Asking `start` for a different layout than the stored one is refused (wipe first).
#
# Environment knobs (defaults in brackets):
#   KAFKA_BROKERS [1]              number of nodes
#   KAFKA_CONTROLLERS [1 or 3]     how many of them are controllers (odd: a majority must live)
#   KAFKA_PORT [9092]              client listener (PLAINTEXT) of node 1; node i: +2(i-1)
#   KAFKA_CONTROLLER_PORT [9093]   controller listener of node 1; node i: +2(i-1)
#   KAFKA_PORTS, KAFKA_CONTROLLER_PORTS   explicit lists instead ("9092,9094,9096")
#   KAFKA_WORK_DIR [<this dir>/target/run]  cluster.conf and node-<i>/ (config, data, logs, pid)
#   KAFKA_HEAP_OPTS [-Xms256m -Xmx512m]  per node
#   KAFKA_JVM_PERFORMANCE_OPTS     GC/JIT flags, see DEFAULT_PERF_OPTS below
#   KAFKA_START_TIMEOUT [120]      seconds to wait for readiness before giving up
#   KAFKA_STOP_TIMEOUT [30]        seconds between SIGTERM and SIGKILL
#   KAFKA_LOG_LEVEL [INFO]         root log level of the nodes (node-<i>/logs/server.log)
#   KAFKA_BROKER_SESSION_TIMEOUT_MS [9000, Kafka's default]  how long the controller waits for
#                                  a silent (e.g. killed) broker's heartbeat before fencing it
#                                  and moving its partition leaderships: most of the time a
#                                  cluster takes to resume writes after a kill -9
#   JAVA_HOME                      Java 17+ to use (else `java` on PATH)
# Everything listens on 127.0.0.1 only.
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Strict mode, log/die, port_open.
source "$HERE/../lib.sh"
LIBS="$HERE/target/dependency"
# Written after a complete copy: holds the pom's checksum, so a changed pom re-fetches and an
# interrupted fetch is never mistaken for a finished one.
STAMP="$LIBS/.fetched-pom.sha256"

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
SESSION_TIMEOUT_MS="${KAFKA_BROKER_SESSION_TIMEOUT_MS:-9000}"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
[[ "$SESSION_TIMEOUT_MS" =~ ^[0-9]+$ ]] && [ "$SESSION_TIMEOUT_MS" -ge 1000 ] ||
  { echo "kafka.sh: KAFKA_BROKER_SESSION_TIMEOUT_MS must be a number of ms >= 1000" >&2; exit 2; }

CLUSTER_CONF="$WORK/cluster.conf"
# Marker file proving a directory was made by this script, so `wipe` can never delete
# something else if KAFKA_WORK_DIR is set carelessly (e.g. to $HOME).
OWNED_MARK=".tifli-kafka-workdir"
# Logged once by kafka.server.KafkaRaftServer when the node has finished starting
# (KafkaBroker.STARTED_MESSAGE).
READY_MARKER="Kafka Server started"

# The layout, filled by load_layout: NODES, CONTROLLERS, CLUSTER_ID, INITIAL_CONTROLLERS and
# the arrays PORTS / CPORTS (index i-1 for node i; CPORTS only for controllers).
NODES=""
CONTROLLERS=""
CLUSTER_ID=""
INITIAL_CONTROLLERS=""
PORTS=()
CPORTS=()

pom_sum() { sha256sum "$HERE/pom.xml" | cut -d' ' -f1; }

# Reads Maven's log; prints one line per jar it downloaded ("Downloaded from central: <url>
# (<size> at <speed>)").
jar_progress() {
  local line count=0 url
  while IFS= read -r line; do
    case "$line" in
      *"Downloaded from "*.jar" ("*)
        count=$((count + 1))
        url="${line#*: }"
        url="${url%% *}"
        log "downloaded jar $count: ${url##*/} (${line##*(}"
        ;;
    esac
  done
}

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
  # Maven's output goes to a file, shown whole only on failure: `start` prints nothing but its
  # ready line on stdout, and Maven emits stray ANSI resets. A first fetch downloads ~100 MB,
  # so a line per jar downloaded goes to stderr as it arrives.
  local mvnlog="$HERE/target/fetch.log" status=0
  mvn -B -Dstyle.color=never -f "$HERE/pom.xml" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" 2>&1 |
    tee "$mvnlog" | jar_progress || status=$?
  if [ "$status" -ne 0 ]; then
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

# A fresh id: 16 random bytes, URL-safe base64 without padding, what `StorageTool random-uuid`
# prints, without paying for a JVM start. Like Kafka's Uuid.randomUuid(), never starting with
# '-': the argument parser would take such an id for an option (1 start in 64 failed that way).
new_uuid() {
  if command -v python3 >/dev/null; then
    python3 -c '
import base64, uuid
while True:
    s = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if not s.startswith("-"):
        print(s)
        break'
  else
    jvm_cmd 1
    "${JVM_CMD[@]}" kafka.tools.StorageTool random-uuid
  fi
}

# True while process $1 exists and is not a zombie (an exited JVM whose parent has not reaped
# it yet is gone for every purpose here).
alive() {
  local state
  state="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
  [[ "$state" != Z* ]]
}

# ---- the layout ----------------------------------------------------------------------------

is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }

# "9092,9094 9096" -> the array named $2; checks every entry is a port.
split_ports() {
  local -n out="$2"
  local p
  out=()
  for p in ${1//,/ }; do
    is_uint "$p" && [ "$p" -ge 1 ] && [ "$p" -le 65535 ] || die "not a port: '$p'"
    out+=("$p")
  done
}

# The layout the environment asks for (defaults filled in).
requested_layout() {
  NODES="${KAFKA_BROKERS:-1}"
  is_uint "$NODES" && [ "$NODES" -ge 1 ] || die "KAFKA_BROKERS must be a positive number"
  local default_controllers=3
  [ "$NODES" -lt 3 ] && default_controllers=1
  CONTROLLERS="${KAFKA_CONTROLLERS:-$default_controllers}"
  is_uint "$CONTROLLERS" && [ "$CONTROLLERS" -ge 1 ] && [ "$CONTROLLERS" -le "$NODES" ] ||
    die "KAFKA_CONTROLLERS must be between 1 and KAFKA_BROKERS ($NODES)"
  local i
  if [ -n "${KAFKA_PORTS:-}" ]; then
    split_ports "$KAFKA_PORTS" PORTS
  else
    local base="${KAFKA_PORT:-9092}"
    is_uint "$base" || die "KAFKA_PORT must be a port"
    PORTS=()
    for ((i = 0; i < NODES; i++)); do PORTS+=($((base + 2 * i))); done
  fi
  if [ -n "${KAFKA_CONTROLLER_PORTS:-}" ]; then
    split_ports "$KAFKA_CONTROLLER_PORTS" CPORTS
  else
    local cbase="${KAFKA_CONTROLLER_PORT:-9093}"
    is_uint "$cbase" || die "KAFKA_CONTROLLER_PORT must be a port"
    CPORTS=()
    for ((i = 0; i < CONTROLLERS; i++)); do CPORTS+=($((cbase + 2 * i))); done
  fi
  [ "${#PORTS[@]}" -eq "$NODES" ] || die "KAFKA_PORTS lists ${#PORTS[@]} ports for $NODES nodes"
  [ "${#CPORTS[@]}" -eq "$CONTROLLERS" ] ||
    die "KAFKA_CONTROLLER_PORTS lists ${#CPORTS[@]} ports for $CONTROLLERS controllers"
  local all dup
  all="$(printf '%s\n' "${PORTS[@]}" "${CPORTS[@]}")"
  dup="$(sort <<<"$all" | uniq -d | head -n 1)"
  [ -z "$dup" ] || die "port $dup is given twice"
}

layout_knobs_set() {
  [ -n "${KAFKA_BROKERS+x}${KAFKA_CONTROLLERS+x}${KAFKA_PORT+x}${KAFKA_PORTS+x}" ] ||
    [ -n "${KAFKA_CONTROLLER_PORT+x}${KAFKA_CONTROLLER_PORTS+x}" ]
}

describe_layout() {
  echo "nodes=$NODES controllers=$CONTROLLERS ports=${PORTS[*]} controller-ports=${CPORTS[*]}"
}

stored_value() { sed -n "s/^$1=//p" "$CLUSTER_CONF" | tail -n 1; }

# Reads cluster.conf (never sourced: it is data, not a script).
load_stored_layout() {
  NODES="$(stored_value nodes)"
  CONTROLLERS="$(stored_value controllers)"
  CLUSTER_ID="$(stored_value cluster.id)"
  INITIAL_CONTROLLERS="$(stored_value initial.controllers)"
  split_ports "$(stored_value ports)" PORTS
  split_ports "$(stored_value controller.ports)" CPORTS
  is_uint "$NODES" && is_uint "$CONTROLLERS" && [ -n "$CLUSTER_ID" ] &&
    [ "${#PORTS[@]}" -eq "$NODES" ] && [ "${#CPORTS[@]}" -eq "$CONTROLLERS" ] ||
    die "$CLUSTER_CONF is damaged; fix it or wipe the cluster ($0 wipe)"
}

# For start: the stored layout, checked against the knobs that are set; or the requested one.
resolve_layout_for_start() {
  if [ -f "$CLUSTER_CONF" ]; then
    load_stored_layout
    if layout_knobs_set; then
      local stored wanted
      stored="$(describe_layout)"
      requested_layout
      wanted="$(describe_layout)"
      if [ "$stored" != "$wanted" ]; then
        log "the cluster in $WORK was made as:  $stored"
        log "the environment now asks for:    $wanted"
        die "refusing to change a formatted cluster; unset the knobs, or wipe it ($0 wipe)"
      fi
      load_stored_layout
    fi
  else
    requested_layout
  fi
}

# For stop/kill/status: the stored layout, or nothing to act on.
resolve_layout_existing() {
  [ -f "$CLUSTER_CONF" ] && load_stored_layout
}

bootstrap_servers() {
  local p out=""
  for p in "${PORTS[@]}"; do out+="${out:+,}127.0.0.1:$p"; done
  echo "$out"
}

is_controller() { [ "$1" -le "$CONTROLLERS" ]; }
node_dir() { echo "$WORK/node-$1"; }
node_port() { echo "${PORTS[$(($1 - 1))]}"; }
node_cport() { echo "${CPORTS[$(($1 - 1))]}"; }

# The node ids named on the command line (checked), or all of them.
select_nodes() {
  local n
  SELECTED=()
  if [ "$#" -eq 0 ]; then
    for ((n = 1; n <= NODES; n++)); do SELECTED+=("$n"); done
    return 0
  fi
  for n in "$@"; do
    is_uint "$n" && [ "$n" -ge 1 ] && [ "$n" -le "$NODES" ] ||
      die "no node '$n' (the cluster has nodes 1..$NODES)"
    SELECTED+=("$n")
  done
}

# ---- the work dir --------------------------------------------------------------------------

check_workdir() {
  case "$WORK" in
    ""|/) die "refusing KAFKA_WORK_DIR='$WORK'";;
  esac
  if [ -d "$WORK" ] && [ -n "$(ls -A "$WORK")" ] && [ ! -f "$WORK/$OWNED_MARK" ]; then
    die "$WORK is not empty and was not made by kafka.sh; refusing to use it"
  fi
}

prepare_workdir() {
  check_workdir
  # A dir from an older kafka.sh (one node at the top level, re-formatted on every start):
  # nothing in it was meant to outlive a start, so clearing it is what that start would do.
  if [ -f "$WORK/$OWNED_MARK" ] && [ ! -f "$CLUSTER_CONF" ] && [ -e "$WORK/server.properties" ]; then
    if [ -f "$WORK/kafka.pid" ] && kill -0 "$(cat "$WORK/kafka.pid")" 2>/dev/null; then
      die "a broker started by an older kafka.sh runs from $WORK (pid $(cat "$WORK/kafka.pid"));" \
          "stop it first"
    fi
    log "clearing $WORK, made by an older kafka.sh that re-formatted it on every start"
    rm -rf "${WORK:?}"/*
  fi
  mkdir -p "$WORK"
  touch "$WORK/$OWNED_MARK"
}

# Prints the pid if node $1's pid file points at a live JVM running that node; a recycled pid
# of some other process (or another node) does not count.
running_pid() {
  local dir pidfile pid args
  dir="$(node_dir "$1")"
  pidfile="$dir/kafka.pid"
  [ -f "$pidfile" ] || return 1
  pid="$(cat "$pidfile")"
  [ -n "$pid" ] && alive "$pid" || return 1
  args="$(ps -ww -o args= -p "$pid" 2>/dev/null)" || return 1
  [[ "$args" == *kafka.Kafka*"$dir/server.properties"* ]] || return 1
  echo "$pid"
}

# ---- configuration -------------------------------------------------------------------------

write_config() {
  local n="$1" dir roles listeners
  dir="$(node_dir "$n")"
  mkdir -p "$dir/data" "$dir/logs" "$dir/tmp"
  local quorum="" i
  for ((i = 1; i <= CONTROLLERS; i++)); do quorum+="${quorum:+,}127.0.0.1:$(node_cport "$i")"; done
  if is_controller "$n"; then
    roles="broker,controller"
    listeners="PLAINTEXT://127.0.0.1:$(node_port "$n"),CONTROLLER://127.0.0.1:$(node_cport "$n")"
  else
    roles="broker"
    listeners="PLAINTEXT://127.0.0.1:$(node_port "$n")"
  fi
  # Internal topics: replicated like a production cluster's once there are 3 nodes.
  local rf=$((NODES < 3 ? NODES : 3))
  local isr=$((rf >= 3 ? 2 : 1))
  cat > "$dir/server.properties" <<EOF
# Generated by kafka.sh on every start from $CLUSTER_CONF; edit the script, not this file.
process.roles=$roles
node.id=$n
# Dynamic KRaft quorum (KIP-853): the voters were fixed when the storage was formatted
# (--initial-controllers); this list only tells every node where to find them.
controller.quorum.bootstrap.servers=$quorum
listeners=$listeners
advertised.listeners=PLAINTEXT://127.0.0.1:$(node_port "$n")
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data

# The application creates its topics explicitly; auto-creation would hide missing topic setup.
auto.create.topics.enable=false
num.partitions=3
default.replication.factor=$rf
min.insync.replicas=$isr
# Never elect a replica that missed acknowledged writes (the default, stated).
unclean.leader.election.enable=false
broker.session.timeout.ms=$SESSION_TIMEOUT_MS
broker.heartbeat.interval.ms=$(( SESSION_TIMEOUT_MS / 4 < 2000 ? SESSION_TIMEOUT_MS / 4 : 2000 ))

# Few partitions for the internal topics, because creating the default 50 partitions of
# __consumer_offsets on first group join is slow on 2 cores.
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
share.coordinator.state.topic.num.partitions=1
# Consumers should get partitions at once, not after the default 3 s delay.
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
  cat > "$dir/log4j2.properties" <<EOF
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

# The java command line of node $1 (StorageTool and the broker), as an array JVM_CMD.
jvm_cmd() {
  local dir
  dir="$(node_dir "$1")"
  # HEAP_OPTS/PERF_OPTS are space-separated flag lists: word splitting is intended.
  # shellcheck disable=SC2206
  JVM_CMD=("$JAVA" $HEAP_OPTS $PERF_OPTS
    -Djava.awt.headless=true
    # zstd/snappy/lz4 unpack native libraries into java.io.tmpdir: keep that in the node's dir.
    -Djava.io.tmpdir="$dir/tmp"
    -Dkafka.logs.dir="$dir/logs"
    -Dlog4j2.configurationFile="$dir/log4j2.properties"
    -cp "$LIBS/*")
}

# On a failed start: the first errors (the cause; shutdown noise follows them), then the tail.
show_failure() {
  local logfile
  logfile="$(node_dir "$1")/logs/server.log"
  {
    echo "---- node $1, first errors in $logfile:"
    grep -E '^\[[^]]*\] (ERROR|FATAL)' "$logfile" | head -n 5 || true
    echo "---- last lines of $logfile:"
    tail -n 40 "$logfile" || true
  } >&2
}

formatted() { [ -f "$(node_dir "$1")/data/meta.properties" ]; }

# Format node $1's empty storage with the stored cluster id. Controllers get the same
# --initial-controllers list (which holds their directory ids); brokers need no quorum flags.
format_node() {
  local n="$1" dir flags=()
  dir="$(node_dir "$n")"
  if is_controller "$n"; then
    flags=(--initial-controllers "$INITIAL_CONTROLLERS")
  fi
  jvm_cmd "$n"
  # StorageTool lives in core (Scala), i.e. kafka.tools.StorageTool, not org.apache.kafka.tools.
  if ! "${JVM_CMD[@]}" kafka.tools.StorageTool format --cluster-id="$CLUSTER_ID" \
        "${flags[@]}" --config "$dir/server.properties" >"$dir/logs/format.log" 2>&1; then
    cat "$dir/logs/format.log" >&2
    die "formatting the storage of node $n failed"
  fi
  log "node $n: formatted empty storage (cluster id $CLUSTER_ID)"
}

# Formats what is empty, and only that. A new cluster gets a new id and voter set, written to
# cluster.conf first so that every later start reuses them.
format_empty_storage() {
  local n any_formatted=0
  for ((n = 1; n <= NODES; n++)); do
    formatted "$n" && any_formatted=1
  done
  if [ ! -f "$CLUSTER_CONF" ]; then
    [ "$any_formatted" -eq 0 ] || die "$WORK holds formatted storage but no cluster.conf; wipe it"
    CLUSTER_ID="$(new_uuid)"
    INITIAL_CONTROLLERS=""
    for ((n = 1; n <= CONTROLLERS; n++)); do
      INITIAL_CONTROLLERS+="${INITIAL_CONTROLLERS:+,}$n@127.0.0.1:$(node_cport "$n"):$(new_uuid)"
    done
    local tmp="$CLUSTER_CONF.partial"
    {
      echo "# Written by kafka.sh when the storage was formatted; read by every later command."
      echo "nodes=$NODES"
      echo "controllers=$CONTROLLERS"
      echo "ports=$(IFS=,; echo "${PORTS[*]}")"
      echo "controller.ports=$(IFS=,; echo "${CPORTS[*]}")"
      echo "cluster.id=$CLUSTER_ID"
      echo "initial.controllers=$INITIAL_CONTROLLERS"
    } > "$tmp"
    mv "$tmp" "$CLUSTER_CONF"
  fi
  local empty=()
  for ((n = 1; n <= NODES; n++)); do
    formatted "$n" && continue
    if [ "$any_formatted" -eq 1 ] && is_controller "$n"; then
      # Re-formatting would make it a voter with an empty metadata log, which could elect a
      # leader that lacks committed metadata (the reason Kafka never formats by itself).
      die "controller node $n lost its storage while the rest of the cluster kept theirs;" \
          "wipe the cluster ($0 wipe), or re-add the controller by hand" \
          "(kafka-metadata-quorum add-controller)"
    fi
    empty+=("$n")
  done
  # One JVM per node, in parallel (each takes seconds to start).
  local pids=() failed=0 pid
  for n in "${empty[@]}"; do
    format_node "$n" &
    pids+=("$!")
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  [ "$failed" -eq 0 ] || die "formatting failed (see above)"
}

# ---- commands ------------------------------------------------------------------------------

start() {
  prepare_workdir
  resolve_layout_for_start
  # Nodes of a new cluster wait for a majority of the controllers: start them all at once.
  [ -f "$CLUSTER_CONF" ] || [ "$#" -eq 0 ] ||
    die "there is no cluster in $WORK yet; start all its nodes first ($0 start)"
  select_nodes "$@"
  local n pid p to_start=()
  for n in "${SELECTED[@]}"; do
    if pid="$(running_pid "$n")"; then
      log "node $n already running (pid $pid)"
      continue
    fi
    to_start+=("$n")
  done
  if [ "${#to_start[@]}" -eq 0 ]; then
    echo "kafka ready on $(bootstrap_servers)"
    return 0
  fi
  local ports
  for n in "${to_start[@]}"; do
    ports=("$(node_port "$n")")
    if is_controller "$n"; then ports+=("$(node_cport "$n")"); fi
    for p in "${ports[@]}"; do
      port_open "$p" && die "port 127.0.0.1:$p (node $n) is already in use by another process"
    done
  done
  fetch
  check_java
  local t0=${EPOCHREALTIME/[.,]/}   # microseconds, bash 5
  for ((n = 1; n <= NODES; n++)); do write_config "$n"; done
  format_empty_storage

  # Every node at once: a controller is not ready until a majority of the quorum runs.
  local logfile
  for n in "${to_start[@]}"; do
    logfile="$(node_dir "$n")/logs/server.log"
    # One previous log kept for post-mortems; the new one must not show an old ready line.
    [ -f "$logfile" ] && mv -f "$logfile" "$logfile.1"
    jvm_cmd "$n"
    # Background, immune to the caller's hangup; nohup execs java, so $! is the JVM's pid.
    nohup "${JVM_CMD[@]}" kafka.Kafka "$(node_dir "$n")/server.properties" \
      >"$logfile" 2>&1 </dev/null &
    echo "$!" > "$(node_dir "$n")/kafka.pid"
  done

  # Ready = the node says so AND its client port answers (the log line can come a hair before
  # the socket server accepts, and a port alone could be someone else's).
  local deadline=$((SECONDS + START_TIMEOUT)) waiting=("${to_start[@]}") still
  while [ "${#waiting[@]}" -gt 0 ] && [ "$SECONDS" -lt "$deadline" ]; do
    still=()
    for n in "${waiting[@]}"; do
      logfile="$(node_dir "$n")/logs/server.log"
      if ! running_pid "$n" >/dev/null; then
        show_failure "$n"
        rm -f "$(node_dir "$n")/kafka.pid"
        log "node $n exited during startup (log: $logfile); stopping the nodes just started"
        stop "${to_start[@]}"
        exit 1
      fi
      if grep -qF "$READY_MARKER" "$logfile" && port_open "$(node_port "$n")"; then
        continue
      fi
      still+=("$n")
    done
    waiting=("${still[@]}")
    [ "${#waiting[@]}" -eq 0 ] || sleep 0.5
  done
  if [ "${#waiting[@]}" -gt 0 ]; then
    for n in "${waiting[@]}"; do show_failure "$n"; done
    log "node(s) ${waiting[*]} not ready after ${START_TIMEOUT}s; stopping the nodes just started"
    stop "${to_start[@]}"
    exit 1
  fi
  local ms=$(( (${EPOCHREALTIME/[.,]/} - t0) / 1000 ))
  log "node(s) ${to_start[*]} started in $((ms / 1000)).$(printf %03d $((ms % 1000)))s" \
      "(work dir $WORK)"
  echo "kafka ready on $(bootstrap_servers)"
}

stop() {
  if ! resolve_layout_existing; then
    log "not running (no cluster in $WORK)"
    return 0
  fi
  select_nodes "$@"
  local n pid pids=() names=()
  for n in "${SELECTED[@]}"; do
    if pid="$(running_pid "$n")"; then
      pids+=("$pid")
      names+=("$n")
    else
      rm -f "$(node_dir "$n")/kafka.pid"
    fi
  done
  if [ "${#pids[@]}" -eq 0 ]; then
    log "not running"
    return 0
  fi
  # SIGTERM runs Kafka's shutdown hook: controlled shutdown, clean logs. All at once: a node
  # waiting for a controller that is itself shutting down would only wait longer one by one.
  kill -TERM "${pids[@]}" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT)) alive
  while [ "$SECONDS" -lt "$deadline" ]; do
    alive=0
    for pid in "${pids[@]}"; do alive "$pid" && alive=1; done
    [ "$alive" -eq 1 ] || break
    sleep 0.5
  done
  for pid in "${pids[@]}"; do
    if alive "$pid"; then
      log "pid $pid still alive after ${STOP_TIMEOUT}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      while alive "$pid"; do sleep 0.2; done
    fi
  done
  for n in "${names[@]}"; do rm -f "$(node_dir "$n")/kafka.pid"; done
  log "stopped node(s) ${names[*]} (data kept in $WORK)"
}

kill_nodes() {
  [ "$#" -gt 0 ] || { echo "usage: $0 kill NODE..." >&2; exit 2; }
  resolve_layout_existing || die "no cluster in $WORK"
  select_nodes "$@"
  local n pid
  for n in "${SELECTED[@]}"; do
    if pid="$(running_pid "$n")"; then
      kill -KILL "$pid" 2>/dev/null || true
      while alive "$pid"; do sleep 0.05; done
      log "node $n killed (pid $pid)"
    else
      log "node $n not running"
    fi
    rm -f "$(node_dir "$n")/kafka.pid"
  done
}

status() {
  if ! resolve_layout_existing; then
    echo "kafka not running (no cluster in $WORK)"
    return 3
  fi
  select_nodes "$@"
  local n pid all=0
  for n in "${SELECTED[@]}"; do
    if pid="$(running_pid "$n")"; then
      if port_open "$(node_port "$n")"; then
        echo "kafka node $n running (pid $pid) on 127.0.0.1:$(node_port "$n")"
      else
        echo "kafka node $n running (pid $pid) but 127.0.0.1:$(node_port "$n") not accepting yet"
      fi
    else
      echo "kafka node $n not running"
      all=3
    fi
  done
  return "$all"
}

wipe() {
  if [ ! -e "$WORK" ]; then
    log "nothing to wipe ($WORK does not exist)"
    return 0
  fi
  check_workdir
  [ -f "$WORK/$OWNED_MARK" ] || die "$WORK was not made by kafka.sh; refusing to delete it"
  local n
  if [ -f "$CLUSTER_CONF" ]; then
    load_stored_layout
    for ((n = 1; n <= NODES; n++)); do
      running_pid "$n" >/dev/null && die "node $n is running; stop the cluster first ($0 stop)"
    done
  elif [ -f "$WORK/kafka.pid" ] && kill -0 "$(cat "$WORK/kafka.pid")" 2>/dev/null; then
    die "a broker runs from $WORK; stop it first"
  fi
  rm -rf "$WORK"
  log "wiped $WORK"
}

cmd="${1:-}"
[ "$#" -gt 0 ] && shift
case "$cmd" in
  fetch) fetch ;;
  start) start "$@" ;;
  stop) stop "$@" ;;
  kill) kill_nodes "$@" ;;
  # `|| exit`: "not running" (3) is an answer, not an error for the ERR trap. Only here:
  # calling a function from `||` switches off `set -e` inside it.
  status) status "$@" || exit $? ;;
  wipe) wipe ;;
  *)
    echo "usage: $0 fetch | start [NODE...] | stop [NODE...] | kill NODE... | status [NODE...] | wipe" >&2
    echo "       (KAFKA_BROKERS=3 $0 start: a three-node cluster; see the top of this file)" >&2
    exit 2 ;;
esac
