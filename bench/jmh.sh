#!/usr/bin/env bash
# Builds the bench module and runs the JMH micro-benchmarks (all, or those matching $1), then the config-scale check.
#   bench/jmh.sh                       # every benchmark
#   bench/jmh.sh RouteAndPick -f 1     # a subset; extra args go to JMH
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -pl bench -am package -DskipTests
CP="bench/target/bench-0.1.0-SNAPSHOT.jar:$(cat bench/target/classpath.txt)"
filter="${1:-.*}"
shift || true
java -cp "$CP" org.openjdk.jmh.Main "$filter" "$@"
java -cp "$CP" io.remora.bench.ConfigScale 5000 50000
