#!/usr/bin/env bash
# The attack suite (issue 15): hostile callers against the real sidecar (dist/target/remora/bin/remora in its own
# JVM, Netty's leak detector at PARANOID) in front of real SOFARPC, Dubbo and HTTP peers, while healthy clients of
# each protocol call through it. Builds what it needs (the other modules' tests are not run), runs the attack module
# alone, and prints attack/target/attack-report.md.
#
#   scripts/attack.sh                                  # the whole suite (a few minutes)
#   scripts/attack.sh -Dtest='ProtocolAttacksTest#h2*' # any extra Maven arguments, e.g. one class or attack
#
# Every attack is bounded in seconds; the suite is also part of `mvn verify` (scripts/test.sh).
set -euo pipefail
SCRIPT_NAME=attack
source "$(dirname "$0")/common.sh"
cd "$ROOT"
require java mvn

status=0
mvn -B -ntp -pl attack -am verify -DskipTests -Dattack.skipTests=false -Dsurefire.failIfNoSpecifiedTests=false "$@" \
  || status=$?
report="$ROOT/attack/target/attack-report.md"
if [ -f "$report" ]; then
  cat "$report"
else
  say "no report written ($report)"
fi
[ "$status" = 0 ] || die "the attack suite failed (mvn exit $status; details in attack/target/surefire-reports)"
say "all attacks passed"
