#!/usr/bin/env bash
# The benchmark suite, one command: builds, installs the HTTP peers when missing (nginx, haproxy, wrk, h2load via
# apt-get), then runs io.remora.examples.bench.BenchSuite — providers, the sidecar (dist/target/remora/bin/remora, a
# separate process), nginx and haproxy — and writes report.md, results.csv, percentile distributions and latency
# plots (PNG) to bench/results/<timestamp>/.
#   bench/run.sh            # --quick: a representative subset, a few minutes
#   bench/run.sh --full     # the whole matrix (long)
#   bench/run.sh --smoke    # seconds; proves the suite works (CI)
#   bench/run.sh --quick --only bolt,http1 --sidecar-opts "-XX:TieredStopAtLevel=1"
#   bench/run.sh --pin      # the proxies (sidecar, nginx, haproxy) on the last CPU, everything else on the others
#   bench/run.sh --upgrade  # 1,000 live connections (Bolt, Dubbo, HTTP/1.1, h2) under load handed over 20 times
#   bench/run.sh --soak 3600  # an hour of mixed traffic at 50%, rule changes every minute, an upgrade every 10 min
# Env: REMORA_SKIP_BUILD=1 skips the build; BENCH_NO_INSTALL=1 never calls apt-get.
set -euo pipefail
SCRIPT_NAME=bench-run
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"
cd "$ROOT"
require java mvn
case " $* " in *" --help "*|*" -h "*)
  exec java -cp "$EXAMPLES_CP" io.remora.examples.bench.BenchSuite --help ;;
esac

need=()
for t in nginx:nginx haproxy:haproxy wrk:wrk h2load:nghttp2-client; do
  command -v "${t%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/${t%%:*}" ] || need+=("${t##*:}")
done
if ((${#need[@]})) && [ "${BENCH_NO_INSTALL:-0}" != 1 ] && command -v apt-get >/dev/null 2>&1; then
  say "installing ${need[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
build

# --pin: a proxy under test gets its own CPU (taskset), the load generators and providers the rest; without it every
# process competes for every core and the added latency mostly measures the scheduler.
pin=()
args=()
for a in "$@"; do
  if [ "$a" = --pin ]; then pin=(1); else args+=("$a"); fi
done
set -- ${args[@]+"${args[@]}"}
runner=()
if ((${#pin[@]})); then
  require taskset
  ncpu="$(nproc)"
  ((ncpu >= 2)) || die "--pin needs at least 2 CPUs (have $ncpu)"
  export BENCH_PROXY_CPUS="$((ncpu - 1))"
  runner=(taskset -c "0-$((ncpu - 2))")
  say "pinning: proxies on CPU $BENCH_PROXY_CPUS, suite (clients, providers, origins) on CPU 0-$((ncpu - 2))"
fi

main=io.remora.examples.bench.BenchSuite
status=0
case " $* " in *" --upgrade "*|*" --soak "*) main=io.remora.examples.bench.Fleet ;; esac
out="bench/results/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
say "results: $out (load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a))"
${runner[@]+"${runner[@]}"} java "${EXAMPLES_JAVA_OPTS[@]}" -Xmx1g -XX:+UseParallelGC -cp "$EXAMPLES_CP" "$main" \
  --remora-home "$REMORA_HOME_DIR" --out "$out" "$@" | tee "$out/console.txt" || status=$?

# Plots: python3 + matplotlib (pip install matplotlib); tried once when missing.
python3 -c 'import matplotlib' >/dev/null 2>&1 || python3 -m pip install -q matplotlib >/dev/null 2>&1 || true
if python3 -c 'import matplotlib' >/dev/null 2>&1; then
  python3 bench/plot.py "$out" || say "plotting failed"
else
  say "no plots: python3 with matplotlib is missing (pip install matplotlib)"
fi
say "report: $out/report.md"
exit "$status"
