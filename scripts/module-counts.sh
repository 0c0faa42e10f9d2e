#!/usr/bin/env bash
# Java files and lines per module, main and test: the table in docs/architecture.md.
# --update rewrites the table between the counts markers in docs/architecture.md.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--update" ]; then
  table=$("$0")
  TABLE="$table" python3 - docs/architecture.md <<'PY'
import os, re, sys
p = sys.argv[1]
s = open(p).read()
s = re.sub(r"(<!-- counts:begin[^>]*-->\n).*?(<!-- counts:end -->)", lambda m: m.group(1) + os.environ["TABLE"] + "\n" + m.group(2), s, flags=re.S)
open(p, "w").write(s)
PY
  exit 0
fi
count() { # dir -> "files / lines"
  if [ -d "$1" ]; then
    find "$1" -name '*.java' -print0 | xargs -0 -r cat | wc -l | { read -r l; printf '%s / %s' "$(find "$1" -name '*.java' | wc -l)" "$l"; }
  else printf '0 / 0'; fi
}
role() {
  case "$1" in
    proxy-core) echo "the engine: listeners, ProxyStream/RpcStream, routing, clusters and fault isolation (outlier detection), config, admin, metrics, digest logs, the SPIs" ;;
    testkit) echo "test-jar: real SOFARPC/Dubbo peers, sidecar process, xDS control plane, fakes" ;;
    protocol-http) echo "HTTP/1.1, HTTP/2 (h2c, TLS ALPN), gRPC: HttpExchange and its wire sides" ;;
    protocol-bolt) echo "Bolt v1/v2 (SOFARPC) codec" ;;
    protocol-dubbo) echo "Dubbo codec, Hessian2 cursor" ;;
    protocol-tcp) echo "tcp_proxy (Istio's passthrough)" ;;
    filters) echo "governance: the rule framework and its kinds (access, fault injection, rate limit, circuit breaker, label routing)" ;;
    xds-client) echo "ADS (SotW and delta), Envoy proto translation, SDS" ;;
    upgrade) echo "socket and connection hand-over to a new process" ;;
    injector) echo "Kubernetes mutating webhook and remora-inject CLI" ;;
    dist) echo "the launcher, default config, AppCDS archive" ;;
    attack) echo "the attack suite against the shipped sidecar" ;;
    examples) echo "example services, bench harness, dashboards" ;;
    bench) echo "JMH micro-benchmarks" ;;
    *) echo "" ;;
  esac
}
echo "| module | what | main (files / lines) | test (files / lines) |"
echo "|---|---|---|---|"
for m in $(sed -n 's:.*<module>\(.*\)</module>.*:\1:p' pom.xml); do
  echo "| \`$m\` | $(role "$m") | $(count "$m/src/main/java") | $(count "$m/src/test/java") |"
done
