#!/usr/bin/env bash
# The sidecar configured entirely by a control plane over xDS (ADS). Builds; starts two example SOFARPC providers
# (127.0.0.1:13199 and :13198), the example file-fed control plane (io.remora.examples.xds.FileControlPlane) on
# 127.0.0.1:18000 serving a copy of examples/xds/resources.json (a Bolt listener on 13200 + RDS route + EDS cluster
# with one endpoint, 13199), and the sidecar from the bootstrap-only examples/xds/bootstrap.json (admin 34911);
# waits for /ready; makes a SOFARPC call through 13200; edits the resource file (version 2: a second endpoint, 13198);
# shows that the sidecar applied it (/api/v1/xds, /api/v1/clusters) and that calls now reach both providers; stops
# everything it started. Exit 0 = the call went through and version 2 was applied.
set -euo pipefail
SCRIPT_NAME=xds-demo
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

require java mvn curl
PORTS=(13199 13198 13200 18000 34911)
for port in "${PORTS[@]}"; do
  port_in_use "$port" && die "port $port on 127.0.0.1 is already in use (the xDS demo needs ${PORTS[*]})"
done
ADMIN=127.0.0.1:34911

build

run_dir_with_cleanup remora-xds-demo

# start_java <name> <main class> <args...>: starts it in the background, sets LAST_PID
start_java() {
  local name="$1" main="$2"
  shift 2
  java "${EXAMPLES_JAVA_OPTS[@]}" -cp "$EXAMPLES_CP" "$main" "$@" >"$RUN_DIR/$name.log" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}
# await_line <name> <pid> <text>: until the process prints the text
await_line() {
  wait_for 90 "$2" "$1" grep -q "$3" "$RUN_DIR/$1.log" || {
    tail -n 30 "$RUN_DIR/$1.log" >&2
    die "$1 did not start"
  }
  say "  $(grep "$3" "$RUN_DIR/$1.log" | tail -n 1)"
}
# xds_versions: "cds=1 eds=1 lds=1 rds=1" from GET /api/v1/xds (the version the sidecar ACKed per type)
xds_versions() {
  curl -fsS "$ADMIN/api/v1/xds" | awk '
    /"(cds|eds|lds|rds)" : \{/ { match($0, /"[a-z]+"/); type = substr($0, RSTART + 1, RLENGTH - 2); next }
    type != "" && /"version" :/ { v = $0; sub(/.*"version" : /, "", v); gsub(/[",]/, "", v); out = out type "=" v " "; type = "" }
    END { sub(/ $/, "", out); print out }'
}
# cluster_hosts: the hosts of hello_provider from GET /api/v1/config_dump, one "address weight N" per line
cluster_hosts() {
  curl -fsS "$ADMIN/api/v1/config_dump" | tr -d ' \n' | grep -o '"address":"127\.0\.0\.1:131[0-9]*","weight":[0-9]*' \
    | sed -e 's/"address":"\([^"]*\)","weight":\([0-9]*\)/\1 weight \2/'
}

say "starting two SOFARPC providers of com.example.HelloService:1.0 on 13199 and 13198"
start_java provider_a io.remora.examples.HelloProvider 13199
PROVIDER_A=$LAST_PID
start_java provider_b io.remora.examples.HelloProvider 13198
PROVIDER_B=$LAST_PID

RESOURCES="$RUN_DIR/resources.json"
cp "$ROOT/examples/xds/resources.json" "$RESOURCES"
say "starting the control plane on 18000, serving $RESOURCES (a copy of examples/xds/resources.json):"
say "  listener egress_bolt 127.0.0.1:13200 (bolt, rate_limit filter) -> route_config rpc_routes ->"
say "  EDS cluster hello_provider -> endpoint 127.0.0.1:13199"
start_java control_plane io.remora.examples.xds.FileControlPlane "$RESOURCES" 18000
CONTROL_PLANE=$LAST_PID
await_line provider_a "$PROVIDER_A" 'serving on'
await_line provider_b "$PROVIDER_B" 'serving on'
await_line control_plane "$CONTROL_PLANE" 'ADS on'

say "starting the sidecar from the bootstrap-only config: bin/remora --config examples/xds/bootstrap.json"
say "  $(tr -d '\n' <"$ROOT/examples/xds/bootstrap.json" | tr -s ' ')"
LOG_DIR="$RUN_DIR/sidecar-logs"
"$REMORA_HOME_DIR/bin/remora" --config "$ROOT/examples/xds/bootstrap.json" --log-dir "$LOG_DIR" \
  >"$RUN_DIR/sidecar.out" 2>&1 &
SIDECAR=$!
PIDS+=("$SIDECAR")
wait_for 60 "$SIDECAR" "the sidecar" curl -fsS "$ADMIN/ready" || {
  tail -n 30 "$RUN_DIR/sidecar.out" >&2
  tail -n 30 "$LOG_DIR/xds.log" >&2 2>/dev/null || true
  die "the sidecar did not become ready (it is ready once the control plane's first full config is applied)"
}
sed 's/^/  sidecar | /' "$RUN_DIR/sidecar.out"
say "curl $ADMIN/ready -> $(curl -fsS "$ADMIN/ready")"
say "curl $ADMIN/api/v1/xds -> ACKed versions: $(xds_versions)"
say "hello_provider hosts (curl $ADMIN/api/v1/config_dump): $(cluster_hosts | paste -sd, -)"

# call <label> <calls>: HelloConsumer through the sidecar's xDS listener; prints the replies and the sidecar's lines
LOG="$LOG_DIR/default.log"
call() {
  local out="$RUN_DIR/consumer-$1.log" before
  before=$( (wc -l <"$LOG") 2>/dev/null || echo 0)
  say "calling through the sidecar ($2 call(s)): HelloConsumer -> 127.0.0.1:13200"
  if ! java "${EXAMPLES_JAVA_OPTS[@]}" -cp "$EXAMPLES_CP" io.remora.examples.HelloConsumer 127.0.0.1:13200 remora "$2" \
      >"$out" 2>&1; then
    grep -E 'Consumer|Exception' "$out" | head -n 20 >&2 || true
    die "the call through the sidecar failed"
  fi
  grep -E '^HelloConsumer:' "$out" | sed 's/^/  /'
  [ "$(grep -c '"hello remora"' "$out")" -eq "$2" ] || die "the consumer did not print $2 expected replies"
  local lines=""
  for _ in $(seq 1 25); do
    lines="$(tail -n +"$((before + 1))" "$LOG" 2>/dev/null | grep -F 'com.example.HelloService:1.0#sayHello' || true)"
    [ "$(printf '%s\n' "$lines" | grep -c . || true)" -ge "$2" ] && break
    sleep 0.2
  done
  [ -n "$lines" ] || die "no line for the call in $LOG"
  say "  the sidecar's lines in default.log:"
  printf '%s\n' "$lines" | sed -e 's/^.* io.remora.proxy - /  /'
  CALL_LINES="$lines"
}
call v1 1

say "editing the resource file: version 2, a second endpoint 127.0.0.1:13198 (label version=v2)"
sed -e 's/"version": "1"/"version": "2"/' \
    -e 's|\("load_balancing_weight": 1, "metadata": {"filter_metadata": {"istio": {"version": "v1"}}}}\)$|\1,\n      {"endpoint": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 13198}}},\n       "load_balancing_weight": 1, "metadata": {"filter_metadata": {"istio": {"version": "v2"}}}}|' \
    "$RESOURCES" >"$RESOURCES.new"
grep -q 13198 "$RESOURCES.new" || die "could not edit $RESOURCES"
mv "$RESOURCES.new" "$RESOURCES"
# applied = the new host is in the running config and every type's version 2 is ACKed
version2_applied() {
  curl -fsS "$ADMIN/api/v1/config_dump" | grep -q '127\.0\.0\.1:13198' && [ "$(xds_versions)" = "cds=2 eds=2 lds=2 rds=2" ]
}
wait_for 30 "$SIDECAR" "the sidecar to apply version 2" version2_applied || {
  tail -n 20 "$RUN_DIR/control_plane.log" >&2
  tail -n 20 "$LOG_DIR/xds.log" >&2 2>/dev/null || true
  die "the sidecar did not apply version 2"
}
say "  control plane: $(grep 'pushed version' "$RUN_DIR/control_plane.log" | tail -n 1)"
say "curl $ADMIN/api/v1/xds -> ACKed versions: $(xds_versions)"
say "hello_provider hosts (curl $ADMIN/api/v1/config_dump): $(cluster_hosts | paste -sd, -)"
say "  the sidecar's xds.log:"
grep -E 'ACK [a-z]+ version 2' "$LOG_DIR/xds.log" 2>/dev/null | tail -n 4 | sed -e 's/^[0-9-]* //' -e 's/^/  /' || true

call v2 4
for port in 13199 13198; do
  printf '%s\n' "$CALL_LINES" | grep -q "127.0.0.1:$port:" || die "no call reached the provider on $port after the edit"
done
say "OK: configured over xDS only (bootstrap: admin, node, control plane address); the edit (version 2) was applied"
say "  without a restart and calls now reach both providers; stopping"
