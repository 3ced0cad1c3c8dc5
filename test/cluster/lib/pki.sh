# Sourced by cluster.sh: generates the cluster's PKI with openssl into $PKI_DIR. Must not start anything.
#
# One CA signs everything. Its key stays in the run dir on purpose: the conformance harness's podlet signs its own
# kubelet serving certificate with it, so the apiserver can verify the kubelet API (--kubelet-certificate-authority).
# ECDSA P-256 for TLS keys (fast to generate, every start makes new ones); RSA for the service-account signing key,
# the algorithm every token consumer accepts.

pki_sign() { # pki_sign NAME SUBJECT EXTENSIONS: key + CSR + certificate signed by the CA, valid one year
  local name=$1 subject=$2 ext=$3
  openssl ecparam -name prime256v1 -genkey -noout -out "$PKI_DIR/$name.key" 2>/dev/null
  openssl req -new -key "$PKI_DIR/$name.key" -subj "$subject" -out "$PKI_DIR/$name.csr"
  openssl x509 -req -in "$PKI_DIR/$name.csr" -CA "$PKI_DIR/ca.crt" -CAkey "$PKI_DIR/ca.key" -CAcreateserial \
    -days 365 -sha256 -extfile <(printf '%s\n' "$ext") -out "$PKI_DIR/$name.crt" 2>/dev/null
  rm -f "$PKI_DIR/$name.csr"
}

pki_generate() {
  command -v openssl >/dev/null || die "openssl is not on PATH (apt-get install openssl)"
  mkdir -p "$PKI_DIR"
  ( umask 077
    openssl ecparam -name prime256v1 -genkey -noout -out "$PKI_DIR/ca.key" 2>/dev/null
    openssl req -x509 -new -key "$PKI_DIR/ca.key" -subj "/CN=portico-test-ca" -days 3650 -sha256 \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -out "$PKI_DIR/ca.crt"

    # The serving certificate covers the loopback names clients use, the bind address when it is another one, and
    # the in-cluster names of the `kubernetes` Service (first IP of --service-cluster-ip-range).
    local sans="IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
    sans+=",DNS:kubernetes.default.svc.cluster.local,IP:$SERVICE_IP"
    [ "$BIND_ADDRESS" = 127.0.0.1 ] || sans+=",IP:$BIND_ADDRESS"
    pki_sign apiserver "/CN=kube-apiserver" "$(printf '%s\n' \
      "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=serverAuth" "subjectAltName=$sans")"

    # O=system:masters is bound to cluster-admin by the apiserver's bootstrap RBAC policy.
    pki_sign admin "/O=system:masters/CN=portico-admin" "$(printf '%s\n' \
      "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=clientAuth")"

    openssl genrsa -out "$PKI_DIR/sa.key" 2048 2>/dev/null
    openssl rsa -in "$PKI_DIR/sa.key" -pubout -out "$PKI_DIR/sa.pub" 2>/dev/null )
}

write_kubeconfig() { # embeds the certificates so the file can be copied elsewhere and still works
  local b64='base64 -w0'
  ( umask 077; cat >"$KUBECONFIG_PATH" <<KC
apiVersion: v1
kind: Config
clusters:
- name: $CLUSTER_NAME
  cluster:
    server: $SERVER_URL
    certificate-authority-data: $($b64 <"$PKI_DIR/ca.crt")
users:
- name: portico-admin
  user:
    client-certificate-data: $($b64 <"$PKI_DIR/admin.crt")
    client-key-data: $($b64 <"$PKI_DIR/admin.key")
contexts:
- name: $CLUSTER_NAME
  context:
    cluster: $CLUSTER_NAME
    user: portico-admin
current-context: $CLUSTER_NAME
KC
  )
}
