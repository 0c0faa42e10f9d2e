#!/usr/bin/env bash
# Checks the runtime image layout that deploy/build-runtime.sh produced (what the container runs): starts the example
# SOFARPC provider, starts the sidecar from the image (jlink runtime, container entrypoint, bundled config) with and
# without the CDS archive, prints start-to-ready for each, and makes a real SOFARPC call through it.
# Needs: mvn -DskipTests package (examples) and deploy/build-runtime.sh done. Uses ports 12199, 12200, 20880, 15001,
# 34901.
set -euo pipefail
SCRIPT_NAME=test-runtime
source "$(dirname "$0")/../scripts/common.sh"
IMAGE="$ROOT/deploy/target/image/opt/remora"
[ -x "$IMAGE/jre/bin/java" ] || die "no image at $IMAGE: run deploy/build-runtime.sh first"
RUN_DIR="$(mktemp -d)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$RUN_DIR"
}
trap cleanup EXIT

java "${EXAMPLES_JAVA_OPTS[@]}" -cp "$EXAMPLES_CP" io.remora.examples.HelloProvider 12199 >"$RUN_DIR/provider.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 300); do grep -q 'serving on' "$RUN_DIR/provider.log" && break; sleep 0.1; done
grep -q 'serving on' "$RUN_DIR/provider.log" || { cat "$RUN_DIR/provider.log" >&2; die "provider did not start"; }

# start_sidecar <label> [java opts]: starts the image's entrypoint, waits for /ready, prints the time it took
start_sidecar() {
  local label="$1" t0 t1
  t0=$(date +%s%N)
  if [ -n "${2:-}" ]; then
    REMORA_JAVA_OPTS="$2" REMORA_HOME="$IMAGE" "$IMAGE/bin/remora-container" --log-dir "$RUN_DIR/logs-$label" \
      --drain-timeout 2 >"$RUN_DIR/sidecar-$label.log" 2>&1 &
  else
    REMORA_HOME="$IMAGE" "$IMAGE/bin/remora-container" --log-dir "$RUN_DIR/logs-$label" --drain-timeout 2 \
      >"$RUN_DIR/sidecar-$label.log" 2>&1 &
  fi
  SIDECAR=$!
  PIDS+=("$SIDECAR")
  for _ in $(seq 1 600); do
    "$IMAGE/bin/remora-probe" /ready 2>/dev/null && break
    kill -0 "$SIDECAR" 2>/dev/null || { cat "$RUN_DIR/sidecar-$label.log" >&2; die "sidecar ($label) exited"; }
    sleep 0.02
  done
  "$IMAGE/bin/remora-probe" /ready || { cat "$RUN_DIR/sidecar-$label.log" >&2; die "sidecar ($label) not ready"; }
  t1=$(date +%s%N)
  say "start to ready, $label: $(( (t1 - t0) / 1000000 )) ms ($(grep -o 'remora ready in [0-9]* ms' "$RUN_DIR/sidecar-$label.log"))"
}

stop_sidecar() {
  kill -TERM "$SIDECAR"
  for _ in $(seq 1 100); do kill -0 "$SIDECAR" 2>/dev/null || return 0; sleep 0.1; done
  die "sidecar did not exit on SIGTERM"
}

no_cds="-Xms64m -Xmx128m -XX:+UseSerialGC -XX:MaxDirectMemorySize=128m -XX:TieredStopAtLevel=1 -Xshare:off"
start_sidecar "without CDS" "$no_cds"
stop_sidecar
start_sidecar "with CDS"
grep -q "SharedArchiveFile" /proc/"$SIDECAR"/cmdline 2>/dev/null || say "note: CDS archive flag not on the command line"
out="$(java "${EXAMPLES_JAVA_OPTS[@]}" -cp "$EXAMPLES_CP" io.remora.examples.HelloConsumer 127.0.0.1:12200 runtime 2>&1)" \
  || { echo "$out" >&2; die "SOFARPC call through the runtime image failed"; }
echo "$out" | grep -q '"hello runtime"' || { echo "$out" >&2; die "unexpected reply"; }
say "SOFARPC call through the jlink/CDS runtime: $(echo "$out" | grep -o '"hello runtime"')"
stop_sidecar
say "OK"
