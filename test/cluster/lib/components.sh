# Sourced by cluster.sh: how each component is started and when it counts as ready. The flags are those of the
# research note (conformance-harness.md §3.3-3.5), modelled on envtest and kwokctl; each non-default one says why.

start_etcd() {
  # tmpfs data dir and --unsafe-no-fsync: the data is thrown away at stop, and fsync on a shared disk is what makes
  # etcd (and so every apiserver write) slow on small machines.
  local client="http://$BIND_ADDRESS:$ETCD_CLIENT_PORT" peer="http://$BIND_ADDRESS:$ETCD_PEER_PORT"
  start_component etcd "$BIN_DIR/etcd" --name=portico --data-dir="$ETCD_DATA_DIR" \
    --listen-client-urls="$client" --advertise-client-urls="$client" \
    --listen-peer-urls="$peer" --initial-advertise-peer-urls="$peer" --initial-cluster="portico=$peer" \
    --unsafe-no-fsync=true --log-level=warn
  wait_until etcd "health on $client" etcd_healthy
}
etcd_healthy() { in_netns curl -fsS --max-time 2 "http://$BIND_ADDRESS:$ETCD_CLIENT_PORT/health" | grep -q '"health":"true"'; }

start_apiserver() {
  # --advertise-address: without it the apiserver looks for a default route, which a bare netns does not have.
  # --endpoint-reconciler-type=none: a loopback advertise address fails Endpoints/EndpointSlice validation.
  # ServiceAccount admission off: no kubelet mounts tokens, and no race with a default-SA controller (as envtest).
  # Priority and fairness off: its queueing makes a 2-core test machine's latency spiky for no benefit here.
  # ClusterTrustBundle (beta in 1.36, off by default) on unless TRUST_BUNDLES=0: the gate and the v1beta1 resource.
  local trust_bundles=()
  [ "${TRUST_BUNDLES:-1}" = 0 ] || trust_bundles=(--feature-gates=ClusterTrustBundle=true
    --runtime-config=certificates.k8s.io/v1beta1/clustertrustbundles=true)
  start_component kube-apiserver "$BIN_DIR/kube-apiserver" "${trust_bundles[@]}" \
    --etcd-servers="http://$BIND_ADDRESS:$ETCD_CLIENT_PORT" \
    --bind-address="$BIND_ADDRESS" --secure-port="$APISERVER_PORT" --advertise-address="$BIND_ADDRESS" \
    --endpoint-reconciler-type=none \
    --cert-dir="$PKI_DIR" --tls-cert-file="$PKI_DIR/apiserver.crt" --tls-private-key-file="$PKI_DIR/apiserver.key" \
    --client-ca-file="$PKI_DIR/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$PKI_DIR/sa.pub" \
    --service-account-signing-key-file="$PKI_DIR/sa.key" --service-cluster-ip-range="$SERVICE_CIDR" \
    --authorization-mode=RBAC --disable-admission-plugins=ServiceAccount --enable-priority-and-fairness=false \
    --kubelet-preferred-address-types=InternalIP --kubelet-certificate-authority="$PKI_DIR/ca.crt" \
    --allow-privileged=true
  wait_until kube-apiserver "/readyz on $SERVER_URL" apiserver_ready
}
apiserver_ready() {
  in_netns curl -fsS --max-time 5 --cacert "$PKI_DIR/ca.crt" --cert "$PKI_DIR/admin.crt" --key "$PKI_DIR/admin.key" \
    "$SERVER_URL/readyz" | grep -qx ok
}

install_crds() {
  # Server-side apply: the HTTPRoute CRD is too large for client-side apply's last-applied annotation.
  local names
  names=$(kube apply --server-side --force-conflicts -k "$CRD_DIR" -o name) \
    || die "installing the CRDs from $CRD_DIR failed"
  names=$(grep '^customresourcedefinition' <<<"$names")
  # shellcheck disable=SC2086 # one argument per CRD
  kube wait --for=condition=Established --timeout="${START_TIMEOUT}s" $names >/dev/null \
    || die "the CRDs did not become Established"
}

start_kcm() {
  # Leader election off: one replica, and no Lease renewals competing for the 2 cores. The secure port serves only
  # /healthz here, so that start can wait for it; its certificate is self-signed into --cert-dir.
  start_component kube-controller-manager "$BIN_DIR/kube-controller-manager" \
    --kubeconfig="$KUBECONFIG_PATH" --authentication-kubeconfig="$KUBECONFIG_PATH" \
    --authorization-kubeconfig="$KUBECONFIG_PATH" --leader-elect=false \
    --bind-address="$BIND_ADDRESS" --secure-port="$KCM_PORT" --cert-dir="$RUN_DIR/kcm" \
    --controllers="$KCM_CONTROLLERS" --service-cluster-ip-range="$SERVICE_CIDR"
  # -k: this is only a liveness probe of a process we started, on our own address; nothing is trusted from it.
  wait_until kube-controller-manager "/healthz" \
    in_netns curl -fsSk --max-time 2 "https://$BIND_ADDRESS:$KCM_PORT/healthz"
}

kube() { in_netns "$BIN_DIR/kubectl" --kubeconfig="$KUBECONFIG_PATH" "$@"; }
