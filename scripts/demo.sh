#!/usr/bin/env bash
# The README's first command. Builds, starts the SOFARPC hello provider on 127.0.0.1:12199 and the sidecar with its
# bundled config (dist/target/remora/bin/remora: 12200 -> 12199, admin 34901) in front of it, raises default.log to
# INFO through the admin API, calls the provider through the sidecar with a SOFARPC consumer, shows the sidecar's log
# line for that call, and stops everything it started. Exit 0 = the call went through the sidecar.
set -euo pipefail
SCRIPT_NAME=demo
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

require java mvn curl
for port in 12199 12200 34901; do
  port_in_use "$port" && die "port $port on 127.0.0.1 is already in use (the demo needs 12199, 12200 and 34901)"
done

build

RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/remora-demo.XXXXXX")"
PIDS=()
cleanup() {
  local status=$?
  for pid in ${PIDS[@]+"${PIDS[@]}"}; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in ${PIDS[@]+"${PIDS[@]}"}; do
    wait "$pid" 2>/dev/null || true
  done
  if [ "$status" -ne 0 ]; then
    echo "demo: process output kept in $RUN_DIR" >&2
  else
    rm -rf "$RUN_DIR"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "starting the SOFARPC provider com.example.HelloService:1.0 on 127.0.0.1:12199"
java "${EXAMPLES_JAVA_OPTS[@]}" -cp "$EXAMPLES_CP" io.remora.examples.HelloProvider 12199 >"$RUN_DIR/provider.log" 2>&1 &
PROVIDER=$!
PIDS+=("$PROVIDER")
wait_for 60 "$PROVIDER" "the provider" grep -q 'serving on' "$RUN_DIR/provider.log" || {
  tail -n 30 "$RUN_DIR/provider.log" >&2
  die "the provider did not start"
}

LOG="$REMORA_HOME_DIR/logs/default.log"
LOG_LINES_BEFORE=$( (wc -l <"$LOG") 2>/dev/null || echo 0)
say "starting the sidecar: $REMORA_HOME_DIR/bin/remora (conf/remora.json)"
"$REMORA_HOME_DIR/bin/remora" >"$RUN_DIR/sidecar.out" 2>&1 &
SIDECAR=$!
PIDS+=("$SIDECAR")
wait_for 60 "$SIDECAR" "the sidecar" curl -fsS 127.0.0.1:34901/ready || {
  tail -n 30 "$RUN_DIR/sidecar.out" >&2
  die "the sidecar did not become ready"
}
sed 's/^/  sidecar | /' "$RUN_DIR/sidecar.out"

say "curl 127.0.0.1:34901/ready -> $(curl -fsS 127.0.0.1:34901/ready)"
say "raising default.log to INFO: curl -d '{\"log_level\":\"INFO\",\"log_path\":\"\"}' 127.0.0.1:34901/api/v1/update_loglevel"
reply="$(curl -fsS -d '{"log_level":"INFO","log_path":""}' 127.0.0.1:34901/api/v1/update_loglevel)" \
  || die "update_loglevel failed"
say "  -> $reply"
say "curl 127.0.0.1:34901/api/v1/get_loglevel -> $(curl -fsS 127.0.0.1:34901/api/v1/get_loglevel | tr -d '\n ')"

say "calling the provider through the sidecar: HelloConsumer -> 127.0.0.1:12200"
if ! java "${EXAMPLES_JAVA_OPTS[@]}" -cp "$EXAMPLES_CP" io.remora.examples.HelloConsumer 127.0.0.1:12200 remora \
    >"$RUN_DIR/consumer.log" 2>&1; then
  grep -E 'HelloConsumer|Exception' "$RUN_DIR/consumer.log" | head -n 20 >&2 || true
  die "the call through the sidecar failed"
fi
grep '^HelloConsumer:' "$RUN_DIR/consumer.log" | sed 's/^/  /'
grep -q '"hello remora"' "$RUN_DIR/consumer.log" || die "the consumer did not print the expected reply"

say "the sidecar's line for that call in $LOG:"
line="$(tail -n +"$((LOG_LINES_BEFORE + 1))" "$LOG" 2>/dev/null | grep 'com.example.HelloService:1.0#sayHello' | tail -n 1 || true)"
[ -n "$line" ] || die "no line for com.example.HelloService:1.0#sayHello in $LOG"
echo "  $line"

say "OK: the call went consumer -> sidecar 127.0.0.1:12200 -> provider 127.0.0.1:12199 and back; stopping"
