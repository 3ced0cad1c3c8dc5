#!/usr/bin/env bash
# Portico's Kubernetes test bed: a real etcd, kube-apiserver and (optionally) kube-controller-manager on this machine,
# built from Go modules. No kubelet, no container runtime. See README.md beside this file.
#
#   cluster.sh build           build the binaries into the cache (no-op when they are there)
#   cluster.sh start           PKI, etcd, kube-apiserver, Gateway API CRDs, optionally KCM; writes a kubeconfig
#   cluster.sh stop            stop what start started (by recorded pid), remove the run dir and the etcd data
#   cluster.sh restart-apiserver   stop and start only kube-apiserver, same port, same etcd data
#   cluster.sh status          which recorded processes are alive, and whether the apiserver is ready
#   cluster.sh env             print KUBECONFIG=... for the cluster
#   cluster.sh kubectl ARGS    the built kubectl against the cluster (inside its netns, if any)
#
# Environment (all optional):
#   PORTICO_CACHE        cache root (default $HOME/.cache/portico); binaries in $PORTICO_CACHE/k8s-<version>/bin
#   CLUSTER_NAME         name of the cluster (default: dev); several named clusters can run at once
#   CLUSTER_RUN_DIR      run dir (default: test/cluster/_run/$CLUSTER_NAME) for PKI, kubeconfig, logs, pids
#   CLUSTER_NETNS        run the control plane inside this existing network namespace (ip netns exec); default none
#   CLUSTER_KCM=1        also start kube-controller-manager with the controllers the conformance run needs
#   CLUSTER_KCM_CONTROLLERS  override that list (comma separated, KCM --controllers syntax)
#   APISERVER_PORT, ETCD_CLIENT_PORT, ETCD_PEER_PORT  fixed ports; by default free ones are chosen at start
#   CLUSTER_BIND_ADDRESS address everything listens on (default 127.0.0.1)
#   CLUSTER_START_TIMEOUT  seconds to wait for each component (default 60)
#   CLUSTER_CRDS=0       do not install the vendored Gateway API CRDs
#   CLUSTER_CRDS_DIR     which vendored CRD set to install (a kustomization dir; default crds/experimental, v1.7.0;
#                        crds/standard is v1.7.0's standard channel, crds/v1.6.1/experimental the previous release)
set -euo pipefail

CLUSTER_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KUBE_MODULE=$CLUSTER_DIR/kube
# shellcheck source=kube/versions.env
source "$KUBE_MODULE/versions.env"

kube_minor=${KUBE_VERSION#v1.}; kube_minor=${kube_minor%%.*}
BUILD_LDFLAGS="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  BUILD_LDFLAGS+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$kube_minor"
done
BINARIES="kube-apiserver kube-controller-manager kubectl etcd"
BIN_DIR=${PORTICO_CACHE:-$HOME/.cache/portico}/k8s-$KUBE_VERSION/bin

die() { echo "cluster: $*" >&2; exit 1; }
step() { local t=$EPOCHREALTIME what=$1; shift; "$@"; echo "cluster: $what ($(elapsed "$t")s)"; }
elapsed() { local us=$(( ${EPOCHREALTIME/./} - ${1/./} )); printf '%d.%d' $((us / 1000000)) $((us / 100000 % 10)); }

# The kubelet client inside the apiserver honours proxy variables; a proxy must never see the cluster's traffic.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

source "$CLUSTER_DIR/lib/build.sh"
source "$CLUSTER_DIR/lib/procs.sh"
source "$CLUSTER_DIR/lib/ports.sh"
source "$CLUSTER_DIR/lib/pki.sh"
source "$CLUSTER_DIR/lib/components.sh"

# Stop order; start is the reverse.
COMPONENTS="kube-controller-manager kube-apiserver etcd"
STOP_GRACE=15
CLUSTER_NAME=${CLUSTER_NAME:-dev}
[[ $CLUSTER_NAME =~ ^[a-z0-9][a-z0-9-]*$ ]] || die "CLUSTER_NAME must be lower-case letters, digits and '-'"
RUN_DIR=${CLUSTER_RUN_DIR:-$CLUSTER_DIR/_run/$CLUSTER_NAME}
case $RUN_DIR in /*) ;; *) RUN_DIR=$PWD/$RUN_DIR ;; esac   # cluster.env and the kubeconfig hold absolute paths
PKI_DIR=$RUN_DIR/pki
LOG_DIR=$RUN_DIR/logs
KUBECONFIG_PATH=$RUN_DIR/kubeconfig
CONFIG=$RUN_DIR/cluster.env   # also the marker that a directory is a run dir that stop may delete
START_TIMEOUT=${CLUSTER_START_TIMEOUT:-60}
CRD_DIR=${CLUSTER_CRDS_DIR:-$CLUSTER_DIR/crds/experimental}
case $CRD_DIR in /*) ;; *) CRD_DIR=$PWD/$CRD_DIR ;; esac
SERVICE_CIDR=10.96.0.0/16
SERVICE_IP=10.96.0.1
NETNS=${CLUSTER_NETNS:-}
# certificates.k8s.io ClusterTrustBundle (GEP-5075 CA references): beta and off by default in Kubernetes 1.36, so it is
# enabled here unless CLUSTER_TRUST_BUNDLES=0 (the tests of a cluster without that API).
TRUST_BUNDLES=${CLUSTER_TRUST_BUNDLES:-1}

# Everything later commands need is written at start and read back from the run dir, so stop, status and
# restart-apiserver act on the cluster as it was started, whatever the environment says now.
save_config() {
  local v
  for v in CLUSTER_NAME BIN_DIR NETNS BIND_ADDRESS APISERVER_PORT ETCD_CLIENT_PORT ETCD_PEER_PORT KCM_PORT KCM_CONTROLLERS \
    ETCD_DATA_DIR SERVER_URL KUBECONFIG_PATH TRUST_BUNDLES; do
    printf '%s=%q\n' "$v" "${!v}"
  done >"$CONFIG"
}
load_config() {
  [ -f "$CONFIG" ] || die "no cluster '$CLUSTER_NAME' here (no $CONFIG); start it first"
  source "$CONFIG"
}

cmd_start() {
  binaries_present || die "the Kubernetes binaries are missing or stale in $BIN_DIR: run \`npm run cluster:build\`" \
    "(bash test/cluster/cluster.sh build; about 5 minutes cold on 2 cores)"
  if [ -f "$CONFIG" ]; then
    (load_config; any_alive) && die "cluster '$CLUSTER_NAME' is already running ($RUN_DIR); stop it first"
    remove_run_dir   # leftovers of a cluster whose processes are gone
  fi
  [ ! -e "$RUN_DIR" ] || [ -z "$(ls -A "$RUN_DIR")" ] || die "$RUN_DIR exists and is not a cluster run dir; refusing to use it"
  if [ -n "$NETNS" ]; then
    # The netns is the caller's (the conformance harness makes it with its bridge and routes); only check it.
    ip netns exec "$NETNS" true || die "network namespace '$NETNS' does not exist"
    [ -n "$(ip -n "$NETNS" -o link show lo up)" ] || die "loopback is down in netns '$NETNS' (ip -n $NETNS link set lo up)"
  fi

  local t0=$EPOCHREALTIME
  BIND_ADDRESS=${CLUSTER_BIND_ADDRESS:-127.0.0.1}
  PICKED_PORTS=()
  pick_port APISERVER_PORT "${APISERVER_PORT:-}"
  pick_port ETCD_CLIENT_PORT "${ETCD_CLIENT_PORT:-}"
  pick_port ETCD_PEER_PORT "${ETCD_PEER_PORT:-}"
  pick_port KCM_PORT "${KCM_PORT:-}"
  KCM_CONTROLLERS=""
  if [ "${CLUSTER_KCM:-0}" = 1 ]; then
    # What the conformance run needs: Deployments -> ReplicaSets -> Pods, EndpointSlices for Services, Namespaces
    # that finish deleting, ownerRef cascades, and removal of pods whose node is gone.
    KCM_CONTROLLERS=${CLUSTER_KCM_CONTROLLERS:-deployment-controller,replicaset-controller,endpointslice-controller,namespace-controller,garbage-collector-controller,pod-garbage-collector-controller}
  fi
  SERVER_URL="https://$BIND_ADDRESS:$APISERVER_PORT"
  [[ $BIND_ADDRESS == *:* ]] && SERVER_URL="https://[$BIND_ADDRESS]:$APISERVER_PORT"
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    ETCD_DATA_DIR=$(mktemp -d "/dev/shm/portico-etcd-$CLUSTER_NAME.XXXXXX")
  else
    ETCD_DATA_DIR=$RUN_DIR/etcd
  fi
  save_config

  # From here on, a failure stops whatever did start and removes the run dir (the failing step has said why).
  trap 'start_failed' EXIT
  step "PKI and kubeconfig" pki_generate
  write_kubeconfig
  step "etcd healthy" start_etcd
  step "kube-apiserver ready" start_apiserver
  [ "${CLUSTER_CRDS:-1}" = 0 ] || step "Gateway API CRDs Established" install_crds
  [ -z "$KCM_CONTROLLERS" ] || step "kube-controller-manager healthy" start_kcm
  trap - EXIT
  printf 'cluster: %s ready in %ss at %s%s\n' "$CLUSTER_NAME" "$(elapsed "$t0")" "$SERVER_URL" \
    "${NETNS:+ (netns $NETNS)}"
  echo "KUBECONFIG=$KUBECONFIG_PATH"
}

start_failed() { # the step that failed has already said why (and shown the log of a component that failed)
  echo "cluster: start failed; stopping what was started" >&2
  stop_all
  remove_run_dir
}

stop_all() { local c; for c in $COMPONENTS; do stop_component "$c"; done; }

remove_run_dir() {
  # Only a directory with our marker file is deleted, so a mistaken CLUSTER_RUN_DIR cannot wipe anything else.
  [ -f "$CONFIG" ] || return 0
  ( source "$CONFIG"
    case "$ETCD_DATA_DIR" in /dev/shm/portico-etcd-*) rm -rf "$ETCD_DATA_DIR" ;; esac )
  rm -rf "$RUN_DIR"
}

cmd_stop() {
  [ -f "$CONFIG" ] || { echo "cluster: '$CLUSTER_NAME' is not running (no $CONFIG)"; return 0; }
  load_config
  stop_all
  any_alive && die "some processes of '$CLUSTER_NAME' are still alive; see $RUN_DIR/pids"
  remove_run_dir
  echo "cluster: $CLUSTER_NAME stopped"
}

cmd_restart_apiserver() {
  load_config
  component_alive etcd || die "etcd of '$CLUSTER_NAME' is not running"
  local t0=$EPOCHREALTIME
  stop_component kube-apiserver
  start_apiserver
  printf 'cluster: kube-apiserver of %s restarted in %ss at %s\n' "$CLUSTER_NAME" "$(elapsed "$t0")" "$SERVER_URL"
}

cmd_status() {
  load_config
  local c rec ok=0
  for c in $COMPONENTS; do
    rec=$(record_of "$c")
    [ -n "$rec" ] || continue
    if component_alive "$c"; then echo "$c pid ${rec% *} running"; else echo "$c pid ${rec% *} dead"; ok=1; fi
  done
  if apiserver_ready; then echo "kube-apiserver ready at $SERVER_URL"; else echo "kube-apiserver not ready at $SERVER_URL"; ok=1; fi
  return $ok
}

case "${1:-}" in
  build) cmd_build ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  restart-apiserver) cmd_restart_apiserver ;;
  status) cmd_status ;;
  env) load_config; echo "KUBECONFIG=$KUBECONFIG_PATH" ;;
  kubectl) load_config; shift; kube "$@" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
