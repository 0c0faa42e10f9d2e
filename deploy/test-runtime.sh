#!/usr/bin/env bash
# Checks the runtime image layout that deploy/build-runtime.sh produced (what the container runs): starts the example
# SOFARPC provider, starts the sidecar from the image (jlink runtime, container entrypoint, bundled config) with and
# without the CDS archive, prints start-to-ready for each, and makes a real SOFARPC call through it. Then the same call
# through the plain dist (dist/target/remora/bin/remora, system java) with its archive present, absent and corrupt:
# an archive must only ever speed a start up, never break one.
# Needs: mvn -DskipTests package (examples) and deploy/build-runtime.sh done. Uses ports 12199, 12200, 20880, 15001,
# 34901.
set -euo pipefail
SCRIPT_NAME=test-runtime
source "$(dirname "$0")/../scripts/common.sh"
IMAGE="$ROOT/deploy/target/image/opt/remora"
[ -x "$IMAGE/jre/bin/java" ] || die "no image at $IMAGE: run deploy/build-runtime.sh first"
RUN_DIR="$(mktemp -d)"
PIDS=()
DIST="$ROOT/dist/target/remora"
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  # put back the archives the corrupt-archive checks replace, even when a check failed
  if [ -f "$RUN_DIR/remora.jsa.good" ]; then rm -f "$IMAGE/remora.jsa"; cp "$RUN_DIR/remora.jsa.good" "$IMAGE/remora.jsa"; fi
  if [ -f "$RUN_DIR/dist.jsa" ]; then rm -f "$DIST/remora.jsa"; cp "$RUN_DIR/dist.jsa" "$DIST/remora.jsa"; fi
  rm -rf "$RUN_DIR"
}
trap cleanup EXIT

java "${EXAMPLES_JAVA_OPTS[@]}" -cp "$EXAMPLES_CP" io.remora.examples.HelloProvider 12199 >"$RUN_DIR/provider.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 300); do grep -q 'serving on' "$RUN_DIR/provider.log" && break; sleep 0.1; done
grep -q 'serving on' "$RUN_DIR/provider.log" || { cat "$RUN_DIR/provider.log" >&2; die "provider did not start"; }

# start_sidecar <label> [java opts]: starts the image's entrypoint (or $LAUNCHER with REMORA_HOME=$HOME_DIR), waits
# for /ready, prints the time it took
start_sidecar() {
  local label="$1" t0 t1 home="${HOME_DIR:-$IMAGE}" launcher="${LAUNCHER:-$IMAGE/bin/remora-container}"
  t0=$(date +%s%N)
  if [ -n "${2:-}" ]; then
    REMORA_JAVA_OPTS="$2" REMORA_HOME="$home" "$launcher" --log-dir "$RUN_DIR/logs-$label" \
      --drain-timeout 2 >"$RUN_DIR/sidecar-$label.log" 2>&1 &
  else
    REMORA_HOME="$home" "$launcher" --log-dir "$RUN_DIR/logs-$label" --drain-timeout 2 \
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
# call <what>: one SOFARPC call through the running sidecar
call() {
  local out
  out="$(java "${EXAMPLES_JAVA_OPTS[@]}" -cp "$EXAMPLES_CP" io.remora.examples.HelloConsumer 127.0.0.1:12200 runtime 2>&1)" \
    || { echo "$out" >&2; die "SOFARPC call through $1 failed"; }
  echo "$out" | grep -q '"hello runtime"' || { echo "$out" >&2; die "unexpected reply through $1"; }
  say "SOFARPC call through $1: $(echo "$out" | grep -o '"hello runtime"')"
}
call "the jlink/CDS runtime"
stop_sidecar

# The image with a corrupt archive: -Xshare:auto must ignore it.
cp "$IMAGE/remora.jsa" "$RUN_DIR/remora.jsa.good"
rm -f "$IMAGE/remora.jsa"   # the JVM writes archives read-only
head -c 65536 /dev/urandom > "$IMAGE/remora.jsa"
start_sidecar "image, corrupt CDS"
rm -f "$IMAGE/remora.jsa"
cp "$RUN_DIR/remora.jsa.good" "$IMAGE/remora.jsa"
rm -f "$RUN_DIR/remora.jsa.good"
call "the image with a corrupt archive"
stop_sidecar

# The plain dist (what bin/remora runs outside a container): archive as built, absent, corrupt.
if [ -x "$DIST/bin/remora" ]; then
  export HOME_DIR="$DIST" LAUNCHER="$DIST/bin/remora" REMORA_ADMIN_PORT=34901
  had_archive=0
  if [ -f "$DIST/remora.jsa" ]; then
    had_archive=1
    cp "$DIST/remora.jsa" "$RUN_DIR/dist.jsa"
    start_sidecar "dist, CDS"
    grep -q "SharedArchiveFile" /proc/"$SIDECAR"/cmdline 2>/dev/null || die "bin/remora did not use $DIST/remora.jsa"
    call "the dist with its archive"
    stop_sidecar
  else
    say "note: $DIST/remora.jsa missing (the dist build records it; see bin/remora-cds)"
  fi
  rm -f "$DIST/remora.jsa"
  start_sidecar "dist, no CDS"
  call "the dist without an archive"
  stop_sidecar
  head -c 65536 /dev/urandom > "$DIST/remora.jsa"
  start_sidecar "dist, corrupt CDS"
  call "the dist with a corrupt archive"
  stop_sidecar
  rm -f "$DIST/remora.jsa"
  if [ "$had_archive" = 1 ]; then cp "$RUN_DIR/dist.jsa" "$DIST/remora.jsa"; rm -f "$RUN_DIR/dist.jsa"; fi
  unset HOME_DIR LAUNCHER
else
  say "note: no dist at $DIST; its launcher checks skipped"
fi
say "OK"
