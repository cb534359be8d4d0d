#!/usr/bin/env bash
# start.sh — starts a real control plane (etcd + kube-apiserver, optionally
# kube-controller-manager) on 127.0.0.1 with free ports, state in DIR.
#
# Usage: start.sh [--with-controller-manager] DIR
#   (or RINGTRAIN_WITH_CONTROLLER_MANAGER=1 start.sh DIR)
#
# Uses the binaries of build.sh (RINGTRAIN_CONTROLPLANE_BIN overrides the
# cache dir); it does not build them. Nothing in this control plane runs
# pods: Pods are created and stay Pending unless a test patches their status.
#
# Writes into DIR:
#   pki/        CA, apiserver serving cert (127.0.0.1, localhost), service-
#               account key pair, admin.token and tokens.csv (the admin user
#               is in group system:masters)
#   etcd/       etcd's data (kept across stop/start of the same DIR)
#   kubeconfig  server, CA and token; context "ringtrain-test"
#   env         shell-sourceable: KUBECONFIG, RINGTRAIN_APISERVER_URL,
#               RINGTRAIN_TOKEN, RINGTRAIN_CA_FILE, RINGTRAIN_CONTROLPLANE_BIN,
#               RINGTRAIN_CONTROLPLANE_DIR, RINGTRAIN_ETCD_URL
#   pids        "NAME PID" per running component (stop.sh reads it)
#   *.flags     each component's command-line flags (restart-apiserver.sh
#               restarts kube-apiserver with exactly these)
#   *.log       each component's output
# Waits (polling, deadline RINGTRAIN_CONTROLPLANE_TIMEOUT seconds, default
# 180) until etcd is healthy and kube-apiserver's /readyz says ok. On failure
# it prints the tail of the failing component's log, stops what it started
# and exits non-zero.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

with_kcm="${RINGTRAIN_WITH_CONTROLLER_MANAGER:-0}"
dir=""
for arg; do
  case "$arg" in
    --with-controller-manager) with_kcm=1 ;;
    -h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) cp_die "unknown option $arg" ;;
    *) [[ -z "$dir" ]] || cp_die "one DIR only"; dir="$arg" ;;
  esac
done
[[ -n "$dir" ]] || cp_die "usage: start.sh [--with-controller-manager] DIR"
for tool in openssl curl python3 setsid; do
  command -v "$tool" >/dev/null || cp_die "$tool is required"
done

mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
for name in etcd kube-apiserver kube-controller-manager; do
  if cp_is_ours "$dir" "$(cp_pid_of "$dir" "$name")"; then
    cp_die "$name is already running for $dir (stop.sh $dir first)"
  fi
done
: >"$dir/pids"

CP_BIN_DIR="$(cp_bin_dir)"
needed=(etcd kube-apiserver)
[[ "$with_kcm" == 1 ]] && needed+=(kube-controller-manager)
for name in "${needed[@]}"; do
  [[ -x "$CP_BIN_DIR/$name" ]] ||
    cp_die "$CP_BIN_DIR/$name is missing: run $CP_DIR/build.sh first"
done

echo "$CP_BIN_DIR" >"$dir/bindir"

started_ok=0
on_exit() {
  if [[ "$started_ok" != 1 ]]; then
    echo "controlplane: start failed; stopping what was started" >&2
    "$CP_DIR/stop.sh" "$dir" >&2 || true
  fi
}
trap on_exit EXIT

timeout="${RINGTRAIN_CONTROLPLANE_TIMEOUT:-180}"

# ---- PKI (kept if DIR already has a complete one) --------------------------
pki="$dir/pki"
if [[ ! -s "$pki/admin.token" ]]; then
  rm -rf "$pki"
  mkdir -p "$pki"
  (
    cd "$pki"
    cat >openssl.cnf <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = ringtrain-test
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
[v3_server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost, IP:10.0.0.1, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc
EOF
    openssl req -x509 -config openssl.cnf -extensions v3_ca -newkey ec \
      -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
      -subj /CN=ringtrain-test-ca -keyout ca.key -out ca.crt
    openssl req -new -config openssl.cnf -newkey ec \
      -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=kube-apiserver \
      -keyout apiserver.key -out apiserver.csr
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key \
      -CAcreateserial -days 3650 -extfile openssl.cnf -extensions v3_server \
      -out apiserver.crt
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key
    openssl pkey -in sa.key -pubout -out sa.pub
    token="$(openssl rand -hex 32)"
    echo "$token,ringtrain-admin,ringtrain-admin,\"system:masters\"" >tokens.csv
    chmod 600 ./*.key tokens.csv
    echo "$token" >admin.token.tmp && chmod 600 admin.token.tmp &&
      mv admin.token.tmp admin.token
  ) >"$dir/pki.log" 2>&1 || {
    cp_log_tail "$dir" pki
    cp_die "generating certificates and keys with openssl failed"
  }
fi
token="$(cat "$pki/admin.token")"

# addr_in_use DIR NAME: did NAME's last start fail on a port collision?
addr_in_use() { tail -n 50 "$1/$2.log" 2>/dev/null | grep -qi 'address already in use'; }

# ---- etcd ------------------------------------------------------------------
etcd_healthy() { curl -fsS --max-time 5 "http://127.0.0.1:$1/health" | grep -q '"health":"true"'; }
for attempt in 1 2 3; do
  etcd_port="$(cp_free_port)"
  peer_port="$(cp_free_port)"
  cat >"$dir/etcd.flags" <<EOF
--name=default
--data-dir=$dir/etcd
--listen-client-urls=http://127.0.0.1:$etcd_port
--advertise-client-urls=http://127.0.0.1:$etcd_port
--listen-peer-urls=http://127.0.0.1:$peer_port
--initial-advertise-peer-urls=http://127.0.0.1:$peer_port
--initial-cluster=default=http://127.0.0.1:$peer_port
--unsafe-no-fsync=true
--log-level=warn
EOF
  echo "==== $(date -u +%FT%TZ) controlplane: starting etcd ====" >>"$dir/etcd.log"
  cp_launch "$dir" etcd "$dir/etcd.flags"
  if cp_wait_until "$timeout" etcd "$(cp_pid_of "$dir" etcd)" etcd_healthy "$etcd_port"; then
    break
  fi
  cp_stop_pid "$dir" etcd 5
  if ((attempt < 3)) && addr_in_use "$dir" etcd; then continue; fi
  cp_log_tail "$dir" etcd
  cp_die "etcd did not become healthy"
done
etcd_url="http://127.0.0.1:$etcd_port"

# ---- kube-apiserver --------------------------------------------------------
for attempt in 1 2 3; do
  api_port="$(cp_free_port)"
  echo "$api_port" >"$dir/apiserver.port"
  # envtest's flags, plus a static admin token and no API priority and
  # fairness (it costs CPU that a 2-core machine does not have).
  # --shutdown-send-retry-after: on TERM, answer new requests with 429 and
  # Retry-After while in-flight ones drain, then close within 2 s; without it
  # open watches (e.g. the controller manager's) hold the exit up to 60 s.
  cat >"$dir/apiserver.flags" <<EOF
--bind-address=127.0.0.1
--advertise-address=127.0.0.1
--secure-port=$api_port
--etcd-servers=$etcd_url
--tls-cert-file=$pki/apiserver.crt
--tls-private-key-file=$pki/apiserver.key
--client-ca-file=$pki/ca.crt
--token-auth-file=$pki/tokens.csv
--authorization-mode=RBAC
--service-account-issuer=https://127.0.0.1:$api_port
--service-account-key-file=$pki/sa.pub
--service-account-signing-key-file=$pki/sa.key
--service-cluster-ip-range=10.0.0.0/24
--allow-privileged=true
--disable-admission-plugins=ServiceAccount
--enable-priority-and-fairness=false
--endpoint-reconciler-type=none
--shutdown-send-retry-after=true
--profiling=false
--cert-dir=$dir/apiserver-certs
EOF
  if cp_start_apiserver "$dir"; then break; fi
  if ((attempt < 3)) && addr_in_use "$dir" kube-apiserver; then continue; fi
  cp_die "kube-apiserver did not become ready"
done
api_url="https://127.0.0.1:$api_port"

cat >"$dir/kubeconfig.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: ringtrain-test
  cluster:
    server: $api_url
    certificate-authority: $pki/ca.crt
users:
- name: ringtrain-admin
  user:
    token: $token
contexts:
- name: ringtrain-test
  context:
    cluster: ringtrain-test
    user: ringtrain-admin
    namespace: default
current-context: ringtrain-test
EOF
chmod 600 "$dir/kubeconfig.tmp"
mv -f "$dir/kubeconfig.tmp" "$dir/kubeconfig"

# ---- kube-controller-manager (optional) ------------------------------------
if [[ "$with_kcm" == 1 ]]; then
  kcm_healthy() { [[ "$(curl -fsS --max-time 5 -k "https://127.0.0.1:$1/healthz")" == ok ]]; }
  for attempt in 1 2 3; do
    kcm_port="$(cp_free_port)"
    cat >"$dir/kube-controller-manager.flags" <<EOF
--kubeconfig=$dir/kubeconfig
--authentication-kubeconfig=$dir/kubeconfig
--authorization-kubeconfig=$dir/kubeconfig
--bind-address=127.0.0.1
--secure-port=$kcm_port
--cert-dir=$dir/kcm-certs
--leader-elect=false
--controllers=${RINGTRAIN_KCM_CONTROLLERS:-*}
--service-account-private-key-file=$pki/sa.key
--root-ca-file=$pki/ca.crt
--use-service-account-credentials=false
--profiling=false
EOF
    echo "==== $(date -u +%FT%TZ) controlplane: starting kube-controller-manager ====" \
      >>"$dir/kube-controller-manager.log"
    cp_launch "$dir" kube-controller-manager "$dir/kube-controller-manager.flags"
    if cp_wait_until "$timeout" kube-controller-manager \
      "$(cp_pid_of "$dir" kube-controller-manager)" kcm_healthy "$kcm_port"; then
      break
    fi
    cp_stop_pid "$dir" kube-controller-manager 5
    if ((attempt < 3)) && addr_in_use "$dir" kube-controller-manager; then continue; fi
    cp_log_tail "$dir" kube-controller-manager
    cp_die "kube-controller-manager did not become healthy"
  done
fi

{
  printf 'export KUBECONFIG=%q\n' "$dir/kubeconfig"
  printf 'export RINGTRAIN_APISERVER_URL=%q\n' "$api_url"
  printf 'export RINGTRAIN_TOKEN=%q\n' "$token"
  printf 'export RINGTRAIN_CA_FILE=%q\n' "$pki/ca.crt"
  printf 'export RINGTRAIN_CONTROLPLANE_BIN=%q\n' "$CP_BIN_DIR"
  printf 'export RINGTRAIN_CONTROLPLANE_DIR=%q\n' "$dir"
  printf 'export RINGTRAIN_ETCD_URL=%q\n' "$etcd_url"
} >"$dir/env.tmp"
mv -f "$dir/env.tmp" "$dir/env"

started_ok=1
echo "controlplane: ready: $api_url (kubeconfig $dir/kubeconfig, env $dir/env)" >&2
