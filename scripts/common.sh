# Shared by scripts/*.sh (sourced, not run).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
REMORA_HOME_DIR="$ROOT/dist/target/remora"
EXAMPLES_CP="$ROOT/examples/target/classes:$ROOT/examples/target/lib/*"
# SOFA hessian and Dubbo reflect into java.base; without these Java 17 prints warnings or refuses.
EXAMPLES_JAVA_OPTS=(--add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/java.util=ALL-UNNAMED
  --add-opens java.base/java.math=ALL-UNNAMED --add-opens java.base/java.lang.reflect=ALL-UNNAMED)

say() { printf '%s: %s\n' "$SCRIPT_NAME" "$*"; }
die() { printf '%s: FAILED: %s\n' "$SCRIPT_NAME" "$*" >&2; exit 1; }

require() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not installed (needs: Java 17+, Maven, curl)"
  done
}

# Builds the dist and the examples (tests skipped) unless REMORA_SKIP_BUILD=1.
build() {
  if [ "${REMORA_SKIP_BUILD:-0}" = 1 ]; then
    say "skipping the build (REMORA_SKIP_BUILD=1)"
  else
    say "building: mvn -q -B -DskipTests package (the first run downloads dependencies)"
    local out
    out="$(mktemp)"
    if ! (cd "$ROOT" && mvn -q -B -DskipTests package) >"$out" 2>&1; then
      tail -n 40 "$out" >&2
      rm -f "$out"
      die "the build failed (output above)"
    fi
    rm -f "$out"
  fi
  [ -x "$REMORA_HOME_DIR/bin/remora" ] || die "$REMORA_HOME_DIR/bin/remora is missing after the build"
  [ -d "$ROOT/examples/target/lib" ] || die "examples/target/lib is missing after the build"
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# wait_for <seconds> <pid or ""> <description> <command...>: polls the command until it succeeds.
wait_for() {
  local seconds="$1" pid="$2" what="$3"
  shift 3
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      return 2
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "timed out after ${seconds}s waiting for $what"
      return 1
    fi
    sleep 0.2
  done
}

# run_dir_with_cleanup <prefix>: a fresh RUN_DIR and an EXIT trap that stops every pid added to PIDS and removes
# RUN_DIR (kept, and named on stderr, when the script fails).
run_dir_with_cleanup() {
  RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")"
  PIDS=()
  trap _cleanup_run_dir EXIT
  trap 'exit 130' INT TERM
}
_cleanup_run_dir() {
  local status=$?
  for pid in ${PIDS[@]+"${PIDS[@]}"}; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in ${PIDS[@]+"${PIDS[@]}"}; do
    wait "$pid" 2>/dev/null || true
  done
  if [ "$status" -ne 0 ]; then
    echo "$SCRIPT_NAME: process output and logs kept in $RUN_DIR" >&2
  else
    rm -rf "$RUN_DIR"
  fi
}
