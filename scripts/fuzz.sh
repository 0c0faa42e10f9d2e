#!/usr/bin/env bash
# One coverage-guided Jazzer run of one fuzz target (docs/fuzzing.md):
#   scripts/fuzz.sh --list                 the targets (module, Class#method)
#   scripts/fuzz.sh TARGET SECONDS         TARGET = Class#method (or the method name alone when it is unique)
# Runs JAZZER_FUZZ=1 mvn -pl <module> -am test -Dtest=Class#method with libFuzzer's -max_total_time=SECONDS, niced,
# and prints the number of executions. The grown corpus lands in <module>/.cifuzz-corpus/<class>/<method>/ (ignored by
# git: minimize it before committing any of it); a crashing input lands in the target's committed corpus directory,
# <module>/src/test/resources/<package>/<Class>Inputs/<method>/crash-<sha1>, so the regression run replays it.
# Environment: FUZZ_MVN_ARGS adds Maven options (e.g. -o offline), FUZZ_HEAP the test JVM's heap (default 1g),
# FUZZ_ARGS extra libFuzzer flags (e.g. "-max_len=8192 -seed=1").
set -euo pipefail
SCRIPT_NAME=fuzz
source "$(dirname "$0")/common.sh"
cd "$ROOT"

usage() {
  echo "usage: scripts/fuzz.sh --list | TARGET SECONDS   (TARGET: Class#method, see --list)" >&2
  exit 2
}

# Every @FuzzTest method: "module class method" per line. A method is the first "void name(" after its annotation.
targets() {
  grep -rl --include='*.java' '@FuzzTest' -- */src/test/java 2>/dev/null | sort | while read -r file; do
    module="${file%%/src/test/java/*}"
    class="${file#*/src/test/java/}"
    class="${class%.java}"
    class="${class//\//.}"
    awk '/@FuzzTest/ { want = 1; next }
         want && match($0, /void [A-Za-z0-9_]+\(/) { m = substr($0, RSTART + 5, RLENGTH - 6); print m; want = 0 }' \
      "$file" | while read -r method; do
      echo "$module $class $method"
    done
  done
}

[ $# -ge 1 ] || usage
if [ "$1" = "--list" ]; then
  printf '%-16s %s\n' MODULE TARGET
  targets | while read -r module class method; do
    printf '%-16s %s#%s\n' "$module" "${class##*.}" "$method"
  done
  exit 0
fi
[ $# -eq 2 ] || usage
TARGET="$1"
DURATION="$2"
[[ "$DURATION" =~ ^[0-9]+$ ]] && [ "$DURATION" -gt 0 ] || die "SECONDS must be a positive number, was '$DURATION'"

if [[ "$TARGET" == *"#"* ]]; then
  want_class="${TARGET%%#*}"
  want_method="${TARGET#*#}"
else
  want_class=""
  want_method="$TARGET"
fi
matches="$(targets | awk -v c="$want_class" -v m="$want_method" '
  $3 == m && (c == "" || $2 == c || substr($2, length($2) - length(c)) == "." c)')"
[ -n "$matches" ] || die "no fuzz target '$TARGET' (scripts/fuzz.sh --list)"
[ "$(printf '%s\n' "$matches" | wc -l)" -eq 1 ] || die "'$TARGET' is ambiguous: $(printf '%s' "$matches" | tr '\n' ';')"
read -r MODULE CLASS METHOD <<<"$matches"
SIMPLE="${CLASS##*.}"
PKG_DIR="$(dirname "${CLASS//.//}")"
CORPUS_DIR="$MODULE/src/test/resources/$PKG_DIR/${SIMPLE}Inputs/$METHOD"
GROWN_DIR="$MODULE/.cifuzz-corpus/$CLASS/$METHOD"

require mvn java
LOG_DIR="$ROOT/$MODULE/target/fuzz"
mkdir -p "$LOG_DIR"
LOG="$LOG_DIR/$SIMPLE-$METHOD.log"
before="$(mktemp)"
trap 'rm -f "$before"' EXIT
ls "$CORPUS_DIR" 2>/dev/null | sort >"$before" || true

libfuzzer=(-max_total_time="$DURATION" -print_final_stats=1)
# shellcheck disable=SC2206
libfuzzer+=(${FUZZ_ARGS:-})
props=()
for i in "${!libfuzzer[@]}"; do
  props+=("-Djazzer.internal.arg.$((i + 1))=${libfuzzer[$i]}")
done

say "fuzzing $MODULE $SIMPLE#$METHOD for ${DURATION}s (log: ${LOG#"$ROOT"/})"
status=0
# shellcheck disable=SC2086
JAZZER_FUZZ=1 nice -n 19 mvn -B -ntp ${FUZZ_MVN_ARGS:-} -pl "$MODULE" -am test \
  -Dtest="$SIMPLE#$METHOD" -Dsurefire.failIfNoSpecifiedTests=false -Djacoco.skip=true \
  -Djazzer.hooks=true -Dsurefire.extra.args="-Xmx${FUZZ_HEAP:-1g}" \
  -Djazzer.internal.arg.0=fuzz "${props[@]}" >"$LOG" 2>&1 || status=$?

runs="$(grep -a -o 'stat::number_of_executed_units: *[0-9]*' "$LOG" | tail -n 1 | grep -o '[0-9]*$' || true)"
rate="$(grep -a -o 'stat::average_exec_per_sec: *[0-9]*' "$LOG" | tail -n 1 | grep -o '[0-9]*$' || true)"
done_line="$(grep -a -E '^Done [0-9]+ runs' "$LOG" | tail -n 1 || true)"
say "executions: ${runs:-unknown}${rate:+ ($rate exec/s)}${done_line:+ — $done_line}"
say "grown corpus: $GROWN_DIR ($(ls "$GROWN_DIR" 2>/dev/null | wc -l) files, not committed)"
new="$(ls "$CORPUS_DIR" 2>/dev/null | sort | comm -13 "$before" - || true)"
if [ -n "$new" ]; then
  say "new files in $CORPUS_DIR (findings, replayed by the regression run):"
  printf '  %s\n' $new
fi
if grep -a -q -E '== Java Exception|FuzzTestFindingException|Java Assertion Error' "$LOG" || [ "$status" -ne 0 ]; then
  grep -a -E -m 20 -A 12 '== Java Exception|Java Assertion Error' "$LOG" >&2 || tail -n 60 "$LOG" >&2
  die "$SIMPLE#$METHOD: finding or build failure (exit $status), full log in ${LOG#"$ROOT"/}"
fi
OUT="$MODULE/target/surefire-reports/$CLASS-output.txt"
leaks="$(cat "$LOG" "$OUT" 2>/dev/null | grep -a -c 'LEAK:' || true)"
[ "${leaks:-0}" -eq 0 ] || die "$SIMPLE#$METHOD: Netty reported leaks, see ${LOG#"$ROOT"/}"
say "no findings, no leak reports"
