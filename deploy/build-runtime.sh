#!/usr/bin/env bash
# Builds the runtime image layout without Docker (the Dockerfile calls this too):
#   deploy/target/image/opt/remora/{bin,lib,conf,jre,remora.jsa}
# - jre/: a jlink runtime with only the modules the sidecar needs (found with jdeps, plus the few loaded reflectively)
# - remora.jsa: an AppCDS archive recorded from a real start of the sidecar (bin/remora-cds), for a faster start-up
# Usage: deploy/build-runtime.sh [--skip-build]    (needs the JDK's jlink/jdeps and jmods)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
out="$root/deploy/target/image/opt/remora"

if [ "${1:-}" != "--skip-build" ]; then
  mvn -B -q -DskipTests -Dremora.cds.skip=true -pl dist -am package  # the image records its own archive below
fi
dist="$root/dist/target/remora"
[ -d "$dist/lib" ] || { echo "build-runtime: $dist/lib missing; run mvn -DskipTests package" >&2; exit 1; }

rm -rf "$root/deploy/target/image"
mkdir -p "$out"
cp -r "$dist/bin" "$dist/lib" "$dist/conf" "$out/"
cp deploy/container/remora-container deploy/container/remora-probe "$out/bin/"

jdk_bin="$(dirname "$(readlink -f "$(command -v javac)")")"
# Modules the code needs (jdeps over every jar), plus the ones reached only through reflection or services.
modules="$("$jdk_bin/jdeps" --ignore-missing-deps --multi-release 17 --print-module-deps -q "$dist"/lib/*.jar \
  2>/dev/null || true)"
modules="${modules:-java.base}"
modules="$(echo "$modules,jdk.unsupported,jdk.crypto.ec,jdk.naming.dns,java.management,jdk.management,java.naming" | tr , "\n" | sort -u | paste -sd, -)"
"$jdk_bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files --compress=2 \
  --output "$out/jre"
# The base CDS archive of the runtime itself (jlink does not write one); the app archive below extends it.
"$out/jre/bin/java" -Xshare:dump > /dev/null
echo "build-runtime: jlink runtime with modules: $modules ($(du -sh "$out/jre" | cut -f1))"

# The classes a real start loads, into an AppCDS archive on top of that base one: the same bin/remora-cds the dist
# build runs, here with the jlink runtime (an archive only fits the java that recorded it).
JAVA_HOME="$out/jre" REMORA_HOME="$out" "$out/bin/remora-cds"
[ -f "$out/remora.jsa" ] || { echo "build-runtime: no CDS archive written" >&2; exit 1; }
echo "build-runtime: CDS archive $(du -h "$out/remora.jsa" | cut -f1)"
echo "build-runtime: image layout in $out"
