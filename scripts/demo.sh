#!/usr/bin/env bash
# The README's first command. Builds; starts the SOFARPC hello provider on 127.0.0.1:12199, the Dubbo demo provider on
# 127.0.0.1:20881, the HTTP hello provider on 127.0.0.1:18080, and the sidecar with its bundled config in front of them
# (dist/target/remora/bin/remora: bolt 12200 -> 12199, dubbo 20880 -> 20881, http 15001 -> 18080, admin 34901); raises
# default.log to INFO through the admin API; calls each provider through the sidecar with a real SOFARPC / Dubbo
# consumer and with curl; shows the sidecar's log line for each call; stops everything it started.
# Exit 0 = all three calls went through the sidecar.
set -euo pipefail
SCRIPT_NAME=demo
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

require java mvn curl
PORTS=(12199 12200 20880 20881 18080 15001 34901)
for port in "${PORTS[@]}"; do
  port_in_use "$port" && die "port $port on 127.0.0.1 is already in use (the demo needs ${PORTS[*]})"
done

build

run_dir_with_cleanup remora-demo

# start_provider <name> <main class> <port>: starts it in the background, sets LAST_PID
start_provider() {
  java "${EXAMPLES_JAVA_OPTS[@]}" -cp "$EXAMPLES_CP" "$2" "$3" >"$RUN_DIR/$1.log" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}
# await_provider <name> <pid>: until it prints its "serving on" line
await_provider() {
  wait_for 90 "$2" "$1" grep -q 'serving on' "$RUN_DIR/$1.log" || {
    tail -n 30 "$RUN_DIR/$1.log" >&2
    die "$1 did not start"
  }
  say "  $(grep 'serving on' "$RUN_DIR/$1.log")"
}
say "starting the providers: SOFARPC com.example.HelloService:1.0 on 12199, Dubbo com.example.DemoService:1.0.0 on 20881,"
say "  HTTP GET /hello on 18080"
start_provider hello_provider io.remora.examples.HelloProvider 12199
HELLO_PID=$LAST_PID
start_provider demo_provider io.remora.examples.dubbo.DemoProvider 20881
DEMO_PID=$LAST_PID
start_provider http_provider io.remora.examples.http.HelloHttpProvider 18080
HTTP_PID=$LAST_PID
await_provider hello_provider "$HELLO_PID"
await_provider demo_provider "$DEMO_PID"
await_provider http_provider "$HTTP_PID"

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

# call <consumer main class> <target> <label> <service#method in default.log>
call() {
  local main="$1" target="$2" label="$3" key="$4" out="$RUN_DIR/consumer-$3.log"
  say "calling $label through the sidecar: ${main##*.} -> $target"
  if ! java "${EXAMPLES_JAVA_OPTS[@]}" -cp "$EXAMPLES_CP" "$main" "$target" remora >"$out" 2>&1; then
    grep -E 'Consumer|Exception' "$out" | head -n 20 >&2 || true
    die "the $label call through the sidecar failed"
  fi
  grep -E '^(Hello|Demo)Consumer:' "$out" | sed 's/^/  /'
  grep -q '"hello remora"' "$out" || die "the $label consumer did not print the expected reply"
  show_log_line "$key"
}
# show_log_line <text>: the sidecar's newest default.log line (since it started) containing the text; waits up to 5 s
# because the line is written when the call completes, which can be just after the caller has its reply
show_log_line() {
  local line=""
  for _ in $(seq 1 25); do
    line="$(tail -n +"$((LOG_LINES_BEFORE + 1))" "$LOG" 2>/dev/null | grep -F "$1" | tail -n 1 || true)"
    [ -n "$line" ] && break
    sleep 0.2
  done
  [ -n "$line" ] || die "no line for $1 in $LOG"
  say "  the sidecar's line in $LOG:"
  echo "  $line"
}
call io.remora.examples.HelloConsumer 127.0.0.1:12200 SOFARPC 'com.example.HelloService:1.0#sayHello'
call io.remora.examples.dubbo.DemoConsumer 127.0.0.1:20880 Dubbo 'com.example.DemoService#sayHello'

say "calling HTTP through the sidecar: curl -sS --max-time 10 -D - 'http://127.0.0.1:15001/hello?name=remora'"
http_out="$RUN_DIR/curl-http.txt"
curl -sS --max-time 10 -D - 'http://127.0.0.1:15001/hello?name=remora' >"$http_out" 2>&1 \
  || { cat "$http_out" >&2; die "the HTTP call through the sidecar failed"; }
tr -d '\r' <"$http_out" | sed 's/^/  /'
grep -q '^HTTP/1.1 200' "$http_out" || die "the HTTP call through the sidecar did not answer 200"
grep -q '^hello remora' "$http_out" || die "the HTTP provider's reply is not \"hello remora\""
# the provider echoes the x-request-id the sidecar generated: proof that the call went through the sidecar
grep -Eiq '^x-seen-request-id: [0-9a-f]{32}' "$http_out" \
  || die "no x-seen-request-id in the reply: the call did not go through the sidecar"
say "  (x-seen-request-id / x-seen-forwarded-for: the request id and X-Forwarded-For the sidecar added, echoed by the provider)"
show_log_line 'egress_http http1 GET 127.0.0.1/hello'

say "OK: caller -> sidecar -> provider and back, for Bolt (12200 -> 12199), Dubbo (20880 -> 20881)"
say "  and HTTP (15001 -> 18080); stopping"
