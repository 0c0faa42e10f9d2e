#!/usr/bin/env bash
# HTTP load harness: the same load (wrk for HTTP/1.1, h2load for h2c prior knowledge) through Remora, nginx and
# haproxy, each configured as a plain reverse proxy in front of one nginx origin, printed side by side.
#   bench/http-bench.sh            # 10 s per run, 50 connections
#   DURATION=30 CONNS=100 bench/http-bench.sh
# Installs nginx, haproxy, wrk and nghttp2-client (h2load) with apt-get when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-10}"; CONNS="${CONNS:-50}"; STREAMS="${STREAMS:-10}"
ORIGIN=18080; REMORA=18081; NGINX_H1=18082; NGINX_H2=18083; HAPROXY_H1=18084; HAPROXY_H2=18085; ADMIN=18086
need=()
for t in nginx:nginx haproxy:haproxy wrk:wrk h2load:nghttp2-client; do
  command -v "${t%%:*}" >/dev/null || need+=("${t##*:}")
done
if ((${#need[@]})); then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
W=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$W"; }
trap cleanup EXIT

cat > "$W/nginx.conf" <<NGX
worker_processes 1; daemon off; pid $W/nginx.pid; error_log $W/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  upstream origin { server 127.0.0.1:$ORIGIN; keepalive 64; }
  server { listen 127.0.0.1:$ORIGIN; location / { return 200 "hello from origin\n"; } }
  server { listen 127.0.0.1:$NGINX_H1; location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; } }
  server { listen 127.0.0.1:$NGINX_H2 http2; location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; } }
}
NGX
nginx -c "$W/nginx.conf" -e "$W/nginx-error.log" & pids+=($!)

cat > "$W/haproxy.cfg" <<HAP
global
  nbthread 1
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend h1
  bind 127.0.0.1:$HAPROXY_H1
  default_backend origin
frontend h2
  bind 127.0.0.1:$HAPROXY_H2 proto h2
  default_backend origin
backend origin
  http-reuse always
  server o 127.0.0.1:$ORIGIN
HAP
haproxy -f "$W/haproxy.cfg" & pids+=($!)

cat > "$W/remora.json" <<RJ
{"worker_threads":1,"admin":{"port":$ADMIN},"log":{"dir":"$W/remora-logs","level":"WARN"},
 "listeners":[{"name":"http","address":"127.0.0.1:$REMORA","protocol":"http",
   "routes":[{"match":{"prefix":"/"},"cluster":"origin"}]}],
 "clusters":[{"name":"origin","hosts":[{"address":"127.0.0.1:$ORIGIN"}]}]}
RJ
mvn -B -q -pl bench -am package -DskipTests
CP="proxy-core/target/classes:$(cat bench/target/classpath.txt)"
java -Xmx256m -cp "$CP" io.remora.core.Sidecar --config "$W/remora.json" >"$W/remora.out" 2>&1 & pids+=($!)

for p in $ORIGIN $REMORA $NGINX_H1 $HAPROXY_H1; do
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$p/" && break; sleep 0.2; done
done

h1() { wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "http://127.0.0.1:$1/" | awk '/Requests\/sec/{r=$2} /99%/{p=$2} END{printf "%12s req/s  p99 %s", r, p}'; }
h2() { h2load -c"$((CONNS / STREAMS > 0 ? CONNS / STREAMS : 1))" -m"$STREAMS" -D"$DURATION" "http://127.0.0.1:$1/" 2>/dev/null \
        | awk '/finished in/{r=$4} /requests:/{f=$8} END{printf "%12s req/s  ok %s", r, f}'; }

printf '%-10s %-46s %-46s\n' proxy "HTTP/1.1 (wrk, $CONNS conns)" "h2c (h2load, $STREAMS streams/conn)"
printf '%-10s %-46s %-46s\n' direct  "$(h1 $ORIGIN)"     "-"
printf '%-10s %-46s %-46s\n' remora  "$(h1 $REMORA)"     "$(h2 $REMORA)"
printf '%-10s %-46s %-46s\n' nginx   "$(h1 $NGINX_H1)"   "$(h2 $NGINX_H2)"
printf '%-10s %-46s %-46s\n' haproxy "$(h1 $HAPROXY_H1)" "$(h2 $HAPROXY_H2)"
