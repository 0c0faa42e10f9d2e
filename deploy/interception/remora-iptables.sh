#!/usr/bin/env bash
# Installs (or, with --cleanup, removes) the iptables mangle/TPROXY rules and the policy routing that send a pod's TCP
# traffic through the Remora sidecar without the app knowing (like istio-iptables in TPROXY mode). IPv4 only.
# Run it once per network namespace, as root or with CAP_NET_ADMIN + CAP_NET_RAW (an init container).
#
#   inbound : packets arriving on a non-loopback interface for the app's ports
#             -> TPROXY to the sidecar's inbound listener (the accepted socket's local address is the original dst)
#   outbound: the app's packets to the included CIDRs (not from the sidecar's UID, not to local addresses, not
#             replies) are marked in OUTPUT, routed to loopback by the mark's table, and TPROXYed in PREROUTING
#             to the sidecar's outbound listener
# See README.md next to this script.
set -euo pipefail

INBOUND_PORTS="*"               # -b  ports whose inbound traffic is intercepted, "*" = all, "" = no inbound
EXCLUDE_INBOUND_PORTS=""        # -d  never intercepted inbound (with "*")
OUTBOUND_CIDRS="*"              # -i  destinations whose outbound traffic is intercepted, "*" = all, "" = none
EXCLUDE_OUTBOUND_CIDRS=""       # -x
OUTBOUND_PORTS=""               # -q  only these destination ports outbound ("" = every port)
EXCLUDE_OUTBOUND_PORTS=""       # -o
SIDECAR_UID="1337"              # -u  the sidecar's user id: its own traffic is never intercepted (no loops)
SIDECAR_GID=""                  # -g  optional: also exempt this group id
INBOUND_LISTENER_PORT="15006"   # -z
OUTBOUND_LISTENER_PORT="15001"  # -p
MARK="0x539"                    # -m  fwmark (single bit mask by default) used for the policy routing
MASK=""                         #     defaults to MARK (the mark's own bits)
TABLE="133"                     # -t  routing table holding the "everything is local" route
CLEANUP=0
DRY_RUN=0

usage() {
  cat <<'EOF'
Usage: remora-iptables.sh [options]        install interception rules
       remora-iptables.sh --cleanup [...]  remove everything this script installs (same --mark/--table if changed)

  -b, --inbound-ports LIST          app ports intercepted inbound, comma separated; "*" = all (default); "" = none
  -d, --exclude-inbound-ports LIST  ports never intercepted inbound (meaningful with "*"), e.g. 22
  -i, --outbound-cidrs LIST         destination CIDRs intercepted outbound; "*" = all (default); "" = none
  -x, --exclude-outbound-cidrs LIST destination CIDRs never intercepted outbound
  -q, --outbound-ports LIST         only intercept outbound traffic to these ports (default: all ports)
  -o, --exclude-outbound-ports LIST destination ports never intercepted outbound
  -u, --sidecar-uid UID             the sidecar's uid, exempt from outbound interception (default 1337)
  -g, --sidecar-gid GID             also exempt this gid (default: none)
  -z, --inbound-listener-port PORT  the sidecar's transparent inbound listener (default 15006)
  -p, --outbound-listener-port PORT the sidecar's transparent outbound listener (default 15001)
  -m, --mark MARK                   fwmark for intercepted packets (default 0x539); --mask MASK (default = MARK)
  -t, --table N                     routing table for marked packets (default 133)
      --cleanup                     remove the rules, the ip rule and the table's route, then exit
  -n, --dry-run                     print the commands instead of running them
  -h, --help
EOF
}

die() { echo "remora-iptables: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    -b|--inbound-ports) INBOUND_PORTS="${2-}"; shift ;;
    -d|--exclude-inbound-ports) EXCLUDE_INBOUND_PORTS="${2-}"; shift ;;
    -i|--outbound-cidrs) OUTBOUND_CIDRS="${2-}"; shift ;;
    -x|--exclude-outbound-cidrs) EXCLUDE_OUTBOUND_CIDRS="${2-}"; shift ;;
    -q|--outbound-ports) OUTBOUND_PORTS="${2-}"; shift ;;
    -o|--exclude-outbound-ports) EXCLUDE_OUTBOUND_PORTS="${2-}"; shift ;;
    -u|--sidecar-uid) SIDECAR_UID="${2-}"; shift ;;
    -g|--sidecar-gid) SIDECAR_GID="${2-}"; shift ;;
    -z|--inbound-listener-port) INBOUND_LISTENER_PORT="${2-}"; shift ;;
    -p|--outbound-listener-port) OUTBOUND_LISTENER_PORT="${2-}"; shift ;;
    -m|--mark) MARK="${2-}"; shift ;;
    --mask) MASK="${2-}"; shift ;;
    -t|--table) TABLE="${2-}"; shift ;;
    --cleanup) CLEANUP=1 ;;
    -n|--dry-run) DRY_RUN=1 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
  shift
done
MASK="${MASK:-$MARK}"

IPT="${IPTABLES:-iptables}"
command -v "$IPT" >/dev/null || die "$IPT not found (install the iptables package)"
command -v ip >/dev/null || die "ip not found (install the iproute2 package)"

run() {
  if [ "$DRY_RUN" = 1 ]; then echo "$*"; else "$@"; fi
}

# Cleanup tolerates missing pieces, so it is safe to run twice or after a half-finished install.
quiet() {
  if [ "$DRY_RUN" = 1 ]; then echo "$*"; else "$@" >/dev/null 2>&1 || true; fi
}

split() { tr ',' ' ' <<<"$1"; }

check_port() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ] && [ "$1" -le 65535 ] || die "bad port \"$1\" in $2"; }
check_cidr() {
  [[ "$1" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}(/[0-9]{1,2})?$ ]] || die "bad IPv4 CIDR \"$1\" in $2 (IPv4 only)"
}

CHAINS="REMORA_PREROUTING REMORA_DIVERT REMORA_INBOUND REMORA_OUTBOUND REMORA_OUTPUT"

cleanup() {
  quiet "$IPT" -t mangle -D PREROUTING -p tcp -j REMORA_PREROUTING
  quiet "$IPT" -t mangle -D OUTPUT -p tcp -j REMORA_OUTPUT
  for c in $CHAINS; do quiet "$IPT" -t mangle -F "$c"; done
  for c in $CHAINS; do quiet "$IPT" -t mangle -X "$c"; done
  # Every copy of the rule (a re-run with a changed config could have left two).
  for _ in 1 2 3; do quiet ip -4 rule del fwmark "$MARK/$MASK" lookup "$TABLE"; done
  quiet ip -4 route flush table "$TABLE"
}

if [ "$CLEANUP" = 1 ]; then
  cleanup
  echo "remora-iptables: interception rules removed"
  exit 0
fi

check_port "$INBOUND_LISTENER_PORT" --inbound-listener-port
check_port "$OUTBOUND_LISTENER_PORT" --outbound-listener-port
[ "$INBOUND_PORTS" = "*" ] || for p in $(split "$INBOUND_PORTS"); do check_port "$p" --inbound-ports; done
for p in $(split "$EXCLUDE_INBOUND_PORTS"); do check_port "$p" --exclude-inbound-ports; done
for p in $(split "$OUTBOUND_PORTS"); do check_port "$p" --outbound-ports; done
for p in $(split "$EXCLUDE_OUTBOUND_PORTS"); do check_port "$p" --exclude-outbound-ports; done
[ "$OUTBOUND_CIDRS" = "*" ] || for c in $(split "$OUTBOUND_CIDRS"); do check_cidr "$c" --outbound-cidrs; done
for c in $(split "$EXCLUDE_OUTBOUND_CIDRS"); do check_cidr "$c" --exclude-outbound-cidrs; done
if [ -n "$OUTBOUND_CIDRS" ]; then
  [[ "$SIDECAR_UID" =~ ^[0-9]+$ ]] || die "--sidecar-uid must be a number (outbound interception needs it to avoid loops)"
fi

# Start from a clean slate so a re-run (init container restart) does not stack rules.
cleanup

M=(-t mangle)
for c in $CHAINS; do run "$IPT" "${M[@]}" -N "$c"; done

# Policy routing: marked packets are delivered locally, whatever their destination (TPROXY needs this for
# non-local destinations, i.e. outbound).
run ip -4 rule add fwmark "$MARK/$MASK" lookup "$TABLE"
run ip -4 route add local 0.0.0.0/0 dev lo table "$TABLE"

# PREROUTING: packets of connections the sidecar already accepted go straight to their socket; new inbound
# connections (not from loopback) go to REMORA_INBOUND; the app's marked outbound packets, looped back, to
# REMORA_OUTBOUND.
run "$IPT" "${M[@]}" -A PREROUTING -p tcp -j REMORA_PREROUTING
run "$IPT" "${M[@]}" -A REMORA_PREROUTING -p tcp -m socket --transparent -j REMORA_DIVERT
run "$IPT" "${M[@]}" -A REMORA_PREROUTING -p tcp -i lo -m mark --mark "$MARK/$MASK" -j REMORA_OUTBOUND
run "$IPT" "${M[@]}" -A REMORA_PREROUTING -p tcp ! -i lo -j REMORA_INBOUND
run "$IPT" "${M[@]}" -A REMORA_DIVERT -j MARK --set-xmark "$MARK/$MASK"
run "$IPT" "${M[@]}" -A REMORA_DIVERT -j ACCEPT

if [ -n "$INBOUND_PORTS" ]; then
  # Replies to connections this namespace opened (the sidecar's upstream calls, excluded outbound traffic) are not
  # new inbound connections, whatever their port.
  run "$IPT" "${M[@]}" -A REMORA_INBOUND -m conntrack --ctdir REPLY -j RETURN
  # The sidecar's own listener ports are never intercepted twice.
  for p in $INBOUND_LISTENER_PORT $OUTBOUND_LISTENER_PORT $(split "$EXCLUDE_INBOUND_PORTS"); do
    run "$IPT" "${M[@]}" -A REMORA_INBOUND -p tcp --dport "$p" -j RETURN
  done
  if [ "$INBOUND_PORTS" = "*" ]; then
    run "$IPT" "${M[@]}" -A REMORA_INBOUND -p tcp -j TPROXY --on-port "$INBOUND_LISTENER_PORT" \
      --on-ip 0.0.0.0 --tproxy-mark "$MARK/$MASK"
  else
    for p in $(split "$INBOUND_PORTS"); do
      run "$IPT" "${M[@]}" -A REMORA_INBOUND -p tcp --dport "$p" -j TPROXY --on-port "$INBOUND_LISTENER_PORT" \
        --on-ip 0.0.0.0 --tproxy-mark "$MARK/$MASK"
    done
  fi
fi

run "$IPT" "${M[@]}" -A REMORA_OUTBOUND -p tcp -j TPROXY --on-port "$OUTBOUND_LISTENER_PORT" --on-ip 127.0.0.1 \
  --tproxy-mark "$MARK/$MASK"

if [ -n "$OUTBOUND_CIDRS" ]; then
  run "$IPT" "${M[@]}" -A OUTPUT -p tcp -j REMORA_OUTPUT
  # Never the sidecar's own connections (that would loop), never local destinations (the sidecar forwarding inbound
  # calls to the app, the app calling itself), never replies (of inbound connections on excluded ports).
  run "$IPT" "${M[@]}" -A REMORA_OUTPUT -m owner --uid-owner "$SIDECAR_UID" -j RETURN
  if [ -n "$SIDECAR_GID" ]; then
    run "$IPT" "${M[@]}" -A REMORA_OUTPUT -m owner --gid-owner "$SIDECAR_GID" -j RETURN
  fi
  run "$IPT" "${M[@]}" -A REMORA_OUTPUT -m addrtype --dst-type LOCAL -j RETURN
  run "$IPT" "${M[@]}" -A REMORA_OUTPUT -m conntrack --ctdir REPLY -j RETURN
  for p in $(split "$EXCLUDE_OUTBOUND_PORTS"); do
    run "$IPT" "${M[@]}" -A REMORA_OUTPUT -p tcp --dport "$p" -j RETURN
  done
  for c in $(split "$EXCLUDE_OUTBOUND_CIDRS"); do
    run "$IPT" "${M[@]}" -A REMORA_OUTPUT -d "$c" -j RETURN
  done
  if [ -n "$OUTBOUND_PORTS" ]; then
    # Only the listed ports: everything else returns before the marking rules.
    PORTS_MATCH=(-m multiport ! --dports "$OUTBOUND_PORTS")
    run "$IPT" "${M[@]}" -A REMORA_OUTPUT -p tcp "${PORTS_MATCH[@]}" -j RETURN
  fi
  if [ "$OUTBOUND_CIDRS" = "*" ]; then
    run "$IPT" "${M[@]}" -A REMORA_OUTPUT -j MARK --set-xmark "$MARK/$MASK"
  else
    for c in $(split "$OUTBOUND_CIDRS"); do
      run "$IPT" "${M[@]}" -A REMORA_OUTPUT -d "$c" -j MARK --set-xmark "$MARK/$MASK"
    done
  fi
fi

echo "remora-iptables: inbound ports [${INBOUND_PORTS:-none}] -> :$INBOUND_LISTENER_PORT," \
  "outbound [${OUTBOUND_CIDRS:-none}] -> :$OUTBOUND_LISTENER_PORT, uid $SIDECAR_UID exempt"
