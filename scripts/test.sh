#!/usr/bin/env bash
# The whole test suite (the README's second command; .ci/run calls it):
#   1. every module's tests:           mvn -B verify (the attack module's suite included: scripts/attack.sh runs it
#                                      alone; its figures land in attack/target/attack-report.md)
#   2. Kubernetes manifests:           schema check of deploy/k8s (offline, kubernetes-models from npm)
#   3. the runtime image:              deploy/build-runtime.sh (jlink + CDS) and deploy/test-runtime.sh (a real SOFARPC
#                                      call through it; start-to-ready with and without CDS)
# Some tests need tools that .ci/run installs (prometheus/promtool, iptables, iproute2); without them those tests are
# skipped with a message saying so.
set -euo pipefail
SCRIPT_NAME=test
source "$(dirname "$0")/common.sh"
cd "$ROOT"

say "1/3 mvn -B verify"
mvn -B -ntp verify

say "2/3 Kubernetes manifests"
if command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1; then
  (cd deploy/validate && npm install --no-audit --no-fund --silent)
  node deploy/validate/validate.mjs deploy/k8s/*.yaml deploy/k8s/injection-patch.json
else
  say "SKIPPED: node/npm not installed"
fi

say "3/3 runtime image (jlink + CDS)"
deploy/build-runtime.sh --skip-build
deploy/test-runtime.sh
say "all passed"
