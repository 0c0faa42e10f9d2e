#!/usr/bin/env bash
# TLS for the Remora sidecar injector without extra operators (cert-manager is the alternative: injector/README.md).
#   1. a private CA (kept in --out-dir and reused on later runs, so the caBundle stays the same across rotations)
#   2. a serving certificate for remora-injector.remora-system.svc signed by it
#   3. Secret remora-injector-tls (tls.crt, tls.key) in the injector's namespace; the injector re-reads it when
#      kubelet updates the mounted files (about a minute), no restart
#   4. the CA into caBundle of every webhook of MutatingWebhookConfiguration remora-sidecar-injector
# Run after `kubectl apply -f deploy/k8s/injector.yaml`, and again before the certificate expires (--days).
#
#   deploy/k8s/injector-certs.sh                      # generate (or renew) and apply with kubectl
#   deploy/k8s/injector-certs.sh --no-apply           # only write the files, print the kubectl commands
#   deploy/k8s/injector-certs.sh --san IP:127.0.0.1 --out-dir /tmp/certs --no-apply    # a local test setup
set -euo pipefail

NAMESPACE=remora-system
SERVICE=remora-injector
SECRET=remora-injector-tls
WEBHOOK=remora-sidecar-injector
DAYS=365
CA_DAYS=3650
OUT_DIR=./remora-injector-certs
EXTRA_SANS=()
APPLY=1

usage() {
  cat <<'EOF'
Usage: injector-certs.sh [options]
  --namespace NS      the injector's namespace (default remora-system)
  --service NAME      the injector's Service (default remora-injector)
  --secret NAME       the TLS Secret to write (default remora-injector-tls)
  --webhook NAME      the MutatingWebhookConfiguration to patch (default remora-sidecar-injector)
  --days N            serving certificate validity (default 365); the CA is valid 10 years
  --out-dir DIR       where ca.crt, ca.key, tls.crt, tls.key go (default ./remora-injector-certs); keep ca.key
                      private: an existing CA there is reused
  --san SAN           an extra subjectAltName (DNS:name or IP:addr), repeatable
  --no-apply          do not run kubectl; print the commands instead
  -h, --help
EOF
}

die() { echo "injector-certs: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --namespace) NAMESPACE="${2:?}"; shift ;;
    --service) SERVICE="${2:?}"; shift ;;
    --secret) SECRET="${2:?}"; shift ;;
    --webhook) WEBHOOK="${2:?}"; shift ;;
    --days) DAYS="${2:?}"; shift ;;
    --out-dir) OUT_DIR="${2:?}"; shift ;;
    --san) EXTRA_SANS+=("${2:?}"); shift ;;
    --no-apply) APPLY=0 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
  shift
done
[[ "$DAYS" =~ ^[0-9]+$ ]] && [ "$DAYS" -ge 1 ] || die "--days takes a positive number"
command -v openssl >/dev/null || die "openssl not found"
if [ "$APPLY" = 1 ]; then command -v kubectl >/dev/null || die "kubectl not found (or use --no-apply)"; fi

mkdir -p "$OUT_DIR"
chmod 700 "$OUT_DIR"
cd "$OUT_DIR"
umask 077

if [ -f ca.key ] && [ -f ca.crt ]; then
  echo "injector-certs: reusing the CA in $OUT_DIR"
else
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days "$CA_DAYS" -keyout ca.key -out ca.crt \
    -subj "/CN=remora-injector-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  echo "injector-certs: new CA in $OUT_DIR"
fi

sans="DNS:$SERVICE,DNS:$SERVICE.$NAMESPACE,DNS:$SERVICE.$NAMESPACE.svc,DNS:$SERVICE.$NAMESPACE.svc.cluster.local"
for s in ${EXTRA_SANS[@]+"${EXTRA_SANS[@]}"}; do
  [[ "$s" =~ ^(DNS|IP):[A-Za-z0-9.:*-]+$ ]] || die "--san takes DNS:name or IP:address, got $s"
  sans="$sans,$s"
done
cat > tls.ext <<EOF
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=$sans
EOF
openssl req -newkey rsa:2048 -nodes -sha256 -keyout tls.key -out tls.csr -subj "/CN=$SERVICE.$NAMESPACE.svc" 2>/dev/null
openssl x509 -req -sha256 -days "$DAYS" -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out tls.crt \
  -extfile tls.ext 2>/dev/null
rm -f tls.csr tls.ext
echo "injector-certs: serving certificate for $sans, valid $DAYS days: $OUT_DIR/tls.crt"

ca_bundle="$(base64 < ca.crt | tr -d '\n')"
secret_cmd=(kubectl -n "$NAMESPACE" create secret tls "$SECRET" --cert=tls.crt --key=tls.key --dry-run=client -o yaml)
if [ "$APPLY" = 0 ]; then
  echo "injector-certs: --no-apply; to install (from $OUT_DIR):"
  echo "  ${secret_cmd[*]} | kubectl apply -f -"
  echo "  kubectl patch mutatingwebhookconfiguration $WEBHOOK --type=json -p '[{\"op\":\"add\",\"path\":\"/webhooks/<i>/clientConfig/caBundle\",\"value\":\"<base64 of ca.crt>\"}, ... one per webhook]'"
  exit 0
fi

"${secret_cmd[@]}" | kubectl apply -f -
count="$(kubectl get mutatingwebhookconfiguration "$WEBHOOK" -o jsonpath='{range .webhooks[*]}{.name}{"\n"}{end}' | grep -c .)"
[ "$count" -ge 1 ] || die "mutatingwebhookconfiguration $WEBHOOK has no webhooks (apply deploy/k8s/injector.yaml first)"
patch="["
for ((i = 0; i < count; i++)); do
  [ "$i" = 0 ] || patch="$patch,"
  patch="$patch{\"op\":\"add\",\"path\":\"/webhooks/$i/clientConfig/caBundle\",\"value\":\"$ca_bundle\"}"
done
patch="$patch]"
kubectl patch mutatingwebhookconfiguration "$WEBHOOK" --type=json -p "$patch"
echo "injector-certs: Secret $NAMESPACE/$SECRET written, caBundle set on $count webhooks of $WEBHOOK"
