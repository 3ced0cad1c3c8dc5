#!/usr/bin/env bash
# The Gateway API conformance run (issue 5): builds what is missing (cached), creates a network namespace with a pod
# bridge and no uplink, starts etcd + kube-apiserver + kube-controller-manager (test/cluster), the podlet, Portico's
# data plane and operator inside it, runs the upstream suite, writes the report, and tears everything down.
# See README.md beside this file.
#
#   run.sh [SUITE FLAGS...]      the suite; default --conformance-profiles=GATEWAY-HTTP with --supported-features taken
#                                from the GatewayClass status. Any --flag is passed to the suite as is, e.g.
#                                --run-test=HTTPRouteSimpleSameNamespace, --conformance-profiles=..., --supported-features=...,
#                                --skip-tests=..., --timeout-config-overrides=..., --cleanup-base-resources=false
#   run.sh --selfcheck           the harness without Portico: base pods Ready, endpoints, traffic, logs, namespace deletion
#   run.sh --no-portico [FLAGS]  the suite without starting Portico (it then waits for a GatewayClass nobody accepts)
#   run.sh --build-only          build/check the cached binaries and stop
#   run.sh --gateway-api=v1.6.1 [...]  the previous release: its suite, its CRDs (test/cluster/crds/v1.6.1), coredns
#                                (default v1.7.0; also CONFORMANCE_GATEWAY_API=v1.6.1)
#
# Environment: PORTICO_CACHE (binary cache root, default ~/.cache/portico), CONFORMANCE_TIMEOUT (go test -timeout of the
# suite, default 80m), CONFORMANCE_SHARDS (data plane threads, default 2), CONFORMANCE_GATEWAY_API.
# Needs root (network namespaces), Go, iproute2, nsenter, openssl, curl; Node 24 from `npm ci` for Portico.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=versions.env
source "$HERE/versions.env"
# shellcheck source=../cluster/kube/versions.env
source "$ROOT/test/cluster/kube/versions.env"
CACHE=${PORTICO_CACHE:-$HOME/.cache/portico}
KUBECTL=$CACHE/k8s-$KUBE_VERSION/bin/kubectl
CLUSTER_SH=$ROOT/test/cluster/cluster.sh
GATEWAY_CLASS=portico
POD_CIDR=10.244.0.0/16
BRIDGE_IP=10.244.0.1
ADDRESS_POOL=127.10.0.0/16
TIMEOUT=${CONFORMANCE_TIMEOUT:-80m}
SHARDS=${CONFORMANCE_SHARDS:-2}

# The apiserver's kubelet client and the suite's clients honour proxy variables; nothing here may go through a proxy.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

say() { echo "conformance: $*"; }
die() { echo "conformance: $*" >&2; exit 1; }
now() { echo "${EPOCHREALTIME/./}"; }
secs() { local us=$(( $(now) - $1 )); printf '%d.%d' $((us / 1000000)) $((us / 100000 % 10)); }
step() { local t; t=$(now); local what=$1; shift; "$@"; say "$what ($(secs "$t")s)"; }

MODE=suite
PORTICO=1
SUITE_ARGS=()
GATEWAY_API=${CONFORMANCE_GATEWAY_API:-$GATEWAY_API_DEFAULT}
for a in "$@"; do
  case $a in
    --gateway-api=*) GATEWAY_API=${a#--gateway-api=} ;;
    --selfcheck) MODE=selfcheck; PORTICO=0 ;;
    --build-only) MODE=build ;;
    --no-portico) PORTICO=0 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) SUITE_ARGS+=("$a") ;;
    *) die "unexpected argument '$a' (suite flags take the form --name=value)" ;;
  esac
done
# Which release of the suite, and everything that goes with it (versions.env): the module file, the Go toolchain, where
# echo-basic comes from, the CRDs the cluster installs (the suite requires their bundle-version to equal its own), and
# coredns (v1.6.1's base manifests run it; v1.7.0's do not).
case $GATEWAY_API in
  v1.7.0) MODFILE=go.mod; GO_TOOLCHAIN=$GOTOOLCHAIN_V1_7; ECHO_PKG=$ECHO_PKG_V1_7; COREDNS_VERSION=
    CRDS_DIR=$ROOT/test/cluster/crds/experimental ;;
  v1.6.1) MODFILE=go.v1.6.1.mod; GO_TOOLCHAIN=local; ECHO_PKG=$ECHO_PKG_V1_6; COREDNS_VERSION=$COREDNS_VERSION_V1_6
    CRDS_DIR=$ROOT/test/cluster/crds/v1.6.1/experimental ;;
  *) die "--gateway-api=$GATEWAY_API: this harness runs v1.7.0 (default) or v1.6.1" ;;
esac
GWAPI_VERSION=$(sed -n 's#^[[:space:]]*sigs.k8s.io/gateway-api/conformance \(v[^ ]*\).*#\1#p' "$HERE/$MODFILE")
[ "$GWAPI_VERSION" = "$GATEWAY_API" ] || die "$MODFILE requires the suite at '$GWAPI_VERSION', not $GATEWAY_API"
BIN=$CACHE/conformance-$GWAPI_VERSION/bin
COREDNS=${COREDNS_VERSION:+$CACHE/coredns-$COREDNS_VERSION/bin/coredns}
export GOTOOLCHAIN=$GO_TOOLCHAIN
has_flag() { local f; for f in "${SUITE_ARGS[@]}"; do case $f in --$1 | --$1=* | -$1 | -$1=*) return 0 ;; esac; done; return 1; }

# Long steps run in their own process group in the background while this shell waits, so that Ctrl-C or SIGTERM
# interrupts them at once: the EXIT trap kills that group (by its recorded pid) and removes a half-built cache dir.
BG_PID=
BUILD_TMP=
RUN_STARTED=0
bg_run() {
  setsid "$@" &
  BG_PID=$!
  local rc=0
  wait "$BG_PID" || rc=$?
  BG_PID=
  return "$rc"
}
on_exit() {
  local rc=$?
  [ -z "$BG_PID" ] || kill -TERM -- "-$BG_PID" 2>/dev/null || true
  [ -z "$BUILD_TMP" ] || rm -rf "$BUILD_TMP"
  if [ "$RUN_STARTED" = 1 ]; then teardown "$rc" || rc=$?; fi
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------------------- build
# Every binary lives outside the work tree, keyed by version: test/cluster's (k8s-<v>), coredns-<v>, and
# conformance-<suite v> (echo-basic, the podlet, the suite's test binary, the log summarizer, test2json), the latter
# with a stamp of the module's inputs so that an edited podlet or go.sum rebuilds.
harness_stamp() {
  ( cd "$HERE" && { go version; echo "$ECHO_PKG"; cat "$MODFILE" "${MODFILE%.mod}.sum"; find . -name '*.go' -not -path './_out/*' | LC_ALL=C sort | xargs cat; } ) \
    | sha256sum | cut -d' ' -f1
}

build_coredns() {
  if [ -z "$COREDNS" ] || [ -x "$COREDNS" ]; then return 0; fi
  say "building coredns $COREDNS_VERSION into $(dirname "$COREDNS") (about 4.5 min cold on 2 cores)"
  local tmp
  mkdir -p "$CACHE"
  tmp=$(mktemp -d "$CACHE/coredns.tmp.XXXXXX")
  BUILD_TMP=$tmp
  # `go install module@version` builds exactly the module's own go.mod/go.sum (verified against the checksum DB).
  bg_run env -C "$tmp" CGO_ENABLED=0 GOBIN="$tmp/bin" GOFLAGS=-mod=mod GOTOOLCHAIN=local go install -trimpath -ldflags='-s -w' \
    "github.com/coredns/coredns@$COREDNS_VERSION" || die "coredns build failed"
  chmod 755 "$tmp"
  rm -rf "$CACHE/coredns-$COREDNS_VERSION"
  mv "$tmp" "$CACHE/coredns-$COREDNS_VERSION"
  BUILD_TMP=
}

build_harness() {
  local stamp
  stamp=$(harness_stamp)
  if [ "$(cat "$BIN/.stamp" 2>/dev/null)" = "$stamp" ]; then return 0; fi
  say "building echo-basic, podlet, summarize, test2json and the suite's test binary into $BIN"
  local tmp
  mkdir -p "$(dirname "$BIN")"
  tmp=$(mktemp -d "$(dirname "$BIN")/bin.tmp.XXXXXX")
  BUILD_TMP=$tmp
  bg_run env -C "$HERE" CGO_ENABLED=0 go build -modfile="$MODFILE" -mod=readonly -trimpath -ldflags='-s -w' \
    -o "$tmp/" "$ECHO_PKG" ./podlet ./summarize cmd/test2json || die "harness build failed"
  bg_run env -C "$HERE" CGO_ENABLED=0 go test -c -modfile="$MODFILE" -mod=readonly -trimpath -tags conformance \
    -o "$tmp/conformance.test" . || die "harness build failed"
  chmod 755 "$tmp"
  echo "$stamp" >"$tmp/.stamp"
  rm -rf "$BIN"
  mv "$tmp" "$BIN"
  BUILD_TMP=
}

build_all() {
  command -v go >/dev/null || die "go is not on PATH"
  # The test bed's own build, with the Go it has always used (not the suite's toolchain).
  step "Kubernetes binaries ready" bg_run env GOTOOLCHAIN=local bash "$CLUSTER_SH" build
  [ -z "$COREDNS" ] || step "coredns ready" build_coredns
  step "harness binaries ready" build_harness
}

T0=$(now)
build_all
[ "$MODE" = build ] && { say "build done in $(secs "$T0")s"; exit 0; }

[ "$(id -u)" = 0 ] || die "must run as root (network namespaces)"
for tool in ip nsenter setsid openssl curl; do command -v $tool >/dev/null || die "$tool is not on PATH"; done
if [ "$PORTICO" = 1 ]; then
  NODE=$ROOT/node_modules/.bin/node
  [ -x "$NODE" ] || die "no $NODE: run \`npm ci\` first (Node 24 comes from the 'node' package)"
  [ -d "$ROOT/operator/kubernetes" ] || die "Portico's Kubernetes mode (operator/kubernetes/) is not in this tree yet;" \
    "\`npm run conformance -- --selfcheck\` checks the harness without it"
fi

# ---------------------------------------------------------------------------------------------------------- run
RUN_ID=gwc-$$            # also the outer netns's name; pod netns are $RUN_ID-p<n>
NS=$RUN_ID
RUN_DIR=$HERE/_out/$RUN_ID
LOGS=$RUN_DIR/logs
KUBECONFIG_PATH=$RUN_DIR/cluster/kubeconfig
PIDS=$RUN_DIR/pids
mkdir -p "$HERE/_out"
# keep the last 5 run dirs (logs for post-mortems), drop older ones
{ ls -dt "$HERE"/_out/gwc-* 2>/dev/null || true; } | tail -n +5 | while read -r d; do rm -rf "$d"; done
mkdir -p "$LOGS"
: >"$PIDS"
NETNS_CREATED=0
CLUSTER_STARTED=0

proc_starttime() { local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1; s=${s##*) }; set -- $s; [ "$1" != Z ] || return 1; echo "${20}"; }
# start_proc NAME CMD...: in its own session/process group (setsid execs in place, so the pid is the group id)
start_proc() {
  local name=$1; shift
  setsid "$@" </dev/null >>"$LOGS/$name.log" 2>&1 &
  local pid=$! st
  st=$(proc_starttime "$pid") || die "$name exited at once; see $LOGS/$name.log"
  echo "$name $pid $st" >>"$PIDS"
}
proc_record() { awk -v n="$1" '$1 == n { print $2, $3 }' "$PIDS" | tail -n1; }
proc_alive() { local r; r=$(proc_record "$1"); [ -n "$r" ] && [ "$(proc_starttime "${r% *}" 2>/dev/null)" = "${r#* }" ]; }
stop_proc() { # SIGTERM to the recorded process group, SIGKILL after $2 seconds (default 10)
  local name=$1 grace=${2:-10} rec pid i
  rec=$(proc_record "$name"); [ -n "$rec" ] || return 0
  pid=${rec% *}
  if proc_alive "$name"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do proc_alive "$name" || break; sleep 0.1; done
    if proc_alive "$name"; then
      say "$name (pid $pid) ignored SIGTERM for ${grace}s: SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do proc_alive "$name" || break; sleep 0.1; done
    fi
  fi
  # whatever else is left in that process group (children that outlived their parent)
  kill -KILL -- "-$pid" 2>/dev/null || true
}
wait_for() { # wait_for WHAT SECONDS PROC COMMAND...: polls COMMAND; fails if PROC (if any) died
  local what=$1 limit=$2 proc=$3 deadline; shift 3
  deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if [ -n "$proc" ] && ! proc_alive "$proc"; then tail -n 30 "$LOGS/$proc.log" >&2; die "$proc exited before $what"; fi
    [ "$SECONDS" -lt "$deadline" ] || { [ -z "$proc" ] || tail -n 30 "$LOGS/$proc.log" >&2; die "no $what after ${limit}s"; }
    sleep 0.2
  done
}
kc() { ip netns exec "$NS" "$KUBECTL" --kubeconfig="$KUBECONFIG_PATH" "$@"; }
in_ns() { ip netns exec "$NS" "$@"; }

teardown() {
  local rc=$1 t n pids left=0
  set +e
  trap '' INT TERM   # finish tearing down even if interrupted again
  t=$(now)
  say "tearing down $RUN_ID"
  stop_proc suite 5
  stop_proc operator 10
  stop_proc dataplane 10
  stop_proc podlet 25        # it stops every container and deletes the pod netns itself
  if [ "$CLUSTER_STARTED" = 1 ]; then
    mkdir -p "$LOGS/cluster" && cp -r "$RUN_DIR/cluster/logs/." "$LOGS/cluster/" 2>/dev/null
    CLUSTER_NAME=$RUN_ID CLUSTER_RUN_DIR=$RUN_DIR/cluster bash "$CLUSTER_SH" stop >>"$LOGS/teardown.log" 2>&1 \
      || say "cluster stop reported a problem; see $LOGS/teardown.log"
  fi
  # Safety net: pod netns the podlet did not remove (it was killed), and the outer one. A process still inside one
  # of our own namespaces is one this run started (a container whose podlet died); it is killed by its pid.
  for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$NS-p[0-9]+$"); do
    pids=$(ip netns pids "$n" 2>/dev/null)
    [ -z "$pids" ] || { say "left in $n: $(echo $pids)"; kill -KILL $pids 2>/dev/null; sleep 0.2; }
    ip netns del "$n" 2>/dev/null; left=$((left + 1))
  done
  [ "$left" = 0 ] || say "removed $left pod network namespaces the podlet left"
  if [ "$NETNS_CREATED" = 1 ]; then
    pids=$(ip netns pids "$NS" 2>/dev/null)
    [ -z "$pids" ] || { say "left in $NS: $(for p in $pids; do tr '\0' ' ' </proc/$p/cmdline | cut -c1-80; echo; done)"; kill -KILL $pids 2>/dev/null; sleep 0.5; }
    ip netns del "$NS" || say "could not delete netns $NS"
  fi
  local netns_left mounts_left
  netns_left=$(ip netns list 2>/dev/null | awk '{print $1}' | grep -c -E "^$NS(-p[0-9]+)?$")
  mounts_left=$(grep -c "$RUN_ID" /proc/self/mountinfo)
  if [ "$netns_left" = 0 ] && [ "$mounts_left" = 0 ]; then
    say "teardown clean in $(secs "$t")s: no process, network namespace, veth or mount of $RUN_ID left"
  else
    say "teardown incomplete: $netns_left network namespaces and $mounts_left mounts of $RUN_ID left"
    [ "$rc" != 0 ] || rc=1
  fi
  say "logs: $LOGS; total $(secs "$T0")s"
  return "$rc"
}
RUN_STARTED=1

# Outer netns: loopback (control plane, Gateways on 127.x) and the pod bridge; no link leaves it.
start_network() {
  ip netns add "$NS"
  NETNS_CREATED=1
  ip -n "$NS" link set lo up
  ip -n "$NS" link add gwc0 type bridge
  ip -n "$NS" addr add "$BRIDGE_IP/${POD_CIDR#*/}" dev gwc0
  ip -n "$NS" link set gwc0 up
}
step "network namespace $NS (lo, bridge gwc0 $BRIDGE_IP/${POD_CIDR#*/}, no uplink)" start_network

start_cluster() {
  CLUSTER_STARTED=1
  CLUSTER_NAME=$RUN_ID CLUSTER_RUN_DIR=$RUN_DIR/cluster CLUSTER_NETNS=$NS CLUSTER_KCM=1 CLUSTER_CRDS_DIR=$CRDS_DIR \
    bash "$CLUSTER_SH" start \
    >"$LOGS/cluster-start.log" 2>&1 || { cat "$LOGS/cluster-start.log" >&2; die "cluster start failed"; }
}
step "etcd, kube-apiserver, CRDs, kube-controller-manager" start_cluster

node_ready() { [ "$(kc get node podlet -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')" = True ]; }
start_podlet() {
  # nsenter --net, not ip netns exec: the podlet must stay in the host's mount namespace so that the pod network
  # namespaces it creates (bind mounts in /run/netns) are visible here and to teardown.
  start_proc podlet nsenter --net="/run/netns/$NS" "$BIN/podlet" --kubeconfig="$KUBECONFIG_PATH" \
    --node-name=podlet --node-ip="$BRIDGE_IP" --pod-cidr="$POD_CIDR" --bridge=gwc0 --netns-prefix="$NS-p" \
    --state-dir="$RUN_DIR/podlet" --ca-cert="$RUN_DIR/cluster/pki/ca.crt" --ca-key="$RUN_DIR/cluster/pki/ca.key" \
    --image="registry.k8s.io/gateway-api/echo-basic=$BIN/echo-basic" \
    --image="registry.k8s.io/gateway-api/conformance/echo-basic=$BIN/echo-basic" \
    ${COREDNS:+--image="registry.k8s.io/coredns/coredns=$COREDNS"}
  wait_for "Ready Node" 30 podlet node_ready
  wait_for "kubelet API" 10 podlet in_ns curl -fsS --cacert "$RUN_DIR/cluster/pki/ca.crt" "https://$BRIDGE_IP:10250/healthz"
}
step "podlet (Node 'podlet', kubelet API on $BRIDGE_IP:10250)" start_podlet

VERSION=$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
git -C "$ROOT" diff --quiet HEAD 2>/dev/null || VERSION=$VERSION-dirty
FEATURES=
# Portico's GatewayClass (the project's own manifest); in --no-portico mode too, for a Portico run elsewhere. Its
# parameters turn on the GatewayInfrastructure mode (README "GatewayInfrastructure"), whose tests look for each
# Gateway's generated objects in the Gateway's own namespace; the class then claims the feature. The operator here runs
# with the admin kubeconfig, so the mode's extra rights (manifests/components/gateway-infrastructure) are not needed.
create_class() {
  kc apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Namespace
metadata: { name: portico-system }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: portico-conformance, namespace: portico-system }
data: { infrastructure: GatewayNamespace }
YAML
  kc apply -f "$ROOT/manifests/base/gatewayclass.yaml" >/dev/null
  kc patch gatewayclass "$GATEWAY_CLASS" --type=merge -p '{"spec":{"parametersRef":{"group":"","kind":"ConfigMap",
    "name":"portico-conformance","namespace":"portico-system"}}}' >/dev/null
}
[ "$MODE" = selfcheck ] || create_class
if [ "$PORTICO" = 1 ]; then
  SOCK=$RUN_DIR/portico/dataplane.sock
  mkdir -p "$RUN_DIR/portico"
  start_portico() {
    start_proc dataplane ip netns exec "$NS" "$NODE" "$ROOT/bin/portico.ts" dataplane --socket "$SOCK" \
      --shards "$SHARDS" --admin 127.0.0.1:9901
    wait_for "data plane socket" 60 dataplane test -S "$SOCK"
    start_proc operator ip netns exec "$NS" env KUBECONFIG="$KUBECONFIG_PATH" "$NODE" "$ROOT/bin/portico.ts" operator \
      --mode kubernetes --kubeconfig "$KUBECONFIG_PATH" --socket "$SOCK" --address-pool "$ADDRESS_POOL" \
      --admin 127.0.0.1:9902
    wait_for "GatewayClass $GATEWAY_CLASS Accepted" 90 operator \
      kc wait --for=condition=Accepted "gatewayclass/$GATEWAY_CLASS" --timeout=2s
  }
  step "Portico data plane ($SHARDS shards) and operator; GatewayClass $GATEWAY_CLASS Accepted" start_portico
  FEATURES=$(kc get gatewayclass "$GATEWAY_CLASS" -o 'jsonpath={range .status.supportedFeatures[*]}{.name}{","}{end}')
  FEATURES=${FEATURES%,}
  say "GatewayClass status lists supported features: ${FEATURES:-(none)}"
fi

# ---------------------------------------------------------------------------------------------------------- suite
FLAGS=()
if [ "$MODE" = selfcheck ]; then
  TEST='^TestHarnessSelfCheck$'
else
  TEST='^TestConformance$'
  FLAGS+=(--gateway-class="$GATEWAY_CLASS" --organization=portico --project=portico --url=https://portico.dev
    --version="$VERSION" --contact="portico maintainers" --mode=default
    --usable-address=127.10.255.1 --unusable-address=192.0.2.10)
  has_flag conformance-profiles || FLAGS+=(--conformance-profiles=GATEWAY-HTTP)
  if [ -n "$FEATURES" ] && ! has_flag supported-features && ! has_flag all-features && ! has_flag exempt-features \
    && ! has_flag run-test; then
    FLAGS+=(--supported-features="$FEATURES")
  fi
  if ! has_flag report-output; then
    if has_flag run-test; then REPORT=$RUN_DIR/report.yaml
    else mkdir -p "$HERE/reports/$GATEWAY_API"; REPORT=$HERE/reports/$GATEWAY_API/experimental-$VERSION-default-report.yaml; fi
    FLAGS+=(--report-output="$REPORT")
  fi
fi
suite_pipeline() {
  # test2json runs here; the test binary runs inside the netns. Its output goes to the console (as go test -v prints
  # it), to suite.json, and into the work list of failed/skipped tests.
  cd "$HERE"
  "$BIN/test2json" -t -p conformance ip netns exec "$NS" env KUBECONFIG="$KUBECONFIG_PATH" PODLET_NETNS_PREFIX="$NS-p" KUBECTL="$KUBECTL" \
    "$BIN/conformance.test" -test.v=test2json -test.run "$TEST" -test.count=1 -test.timeout "$TIMEOUT" "$@" \
    | tee "$LOGS/suite.json" | "$BIN/summarize" "$RUN_DIR/worklist.md"
  return "${PIPESTATUS[0]}"
}
export -f suite_pipeline
export HERE BIN NS KUBECONFIG_PATH KUBECTL TEST TIMEOUT LOGS RUN_DIR
say "running ${TEST//[\^\$]/} ${FLAGS[*]} ${SUITE_ARGS[*]}"
TS=$(now)
start_proc suite bash -c 'suite_pipeline "$@"' suite "${FLAGS[@]}" "${SUITE_ARGS[@]}"
# the suite's output is in its log; show it live
tail -n +1 -f "$LOGS/suite.log" --pid="$(proc_record suite | cut -d' ' -f1)" &
TAIL_PID=$!
SUITE_RC=0
wait "$(proc_record suite | cut -d' ' -f1)" || SUITE_RC=$?
wait "$TAIL_PID" 2>/dev/null || true
say "suite finished with status $SUITE_RC in $(secs "$TS")s"
if [ "$MODE" = suite ]; then
  if [ -f "${REPORT:-/nonexistent}" ]; then
    say "report: $REPORT"
    grep -E '^  (name|summary):|^    result:|Failed:|Passed:|Skipped:' "$REPORT" | sed 's/^/  /' || true
  else
    say "no report written (the suite did not get to the end; see the work list)"
  fi
  say "work list of failed and skipped tests: $RUN_DIR/worklist.md"
  # beside a report in reports/, the work list of that run
  case ${REPORT:-} in "$HERE"/reports/*/*-report.yaml) cp "$RUN_DIR/worklist.md" "${REPORT%-report.yaml}-worklist.md" ;; esac
fi
exit "$SUITE_RC"
