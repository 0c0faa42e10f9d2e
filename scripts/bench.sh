#!/usr/bin/env bash
# The load harness: the same closed-loop load straight at a provider and through the sidecar (a separate process
# started with dist/target/remora/bin/remora), side by side. Arguments go to the harness; --help lists them.
#   scripts/bench.sh --smoke
#   scripts/bench.sh --connections 4 --concurrency 32 --warmup 5 --duration 20 --payload 1024
set -euo pipefail
SCRIPT_NAME=bench
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

require java mvn
case " $* " in
  *" --help "*|*" -h "*) ;;
  *) build ;;
esac
exec java "${EXAMPLES_JAVA_OPTS[@]}" -Xmx1g -cp "$EXAMPLES_CP" io.remora.examples.bench.LoadHarness \
  --remora-home "$REMORA_HOME_DIR" "$@"
