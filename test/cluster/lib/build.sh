# Sourced by cluster.sh: builds kube-apiserver, kube-controller-manager, kubectl and etcd from the ./kube module into
# the binary cache ($BIN_DIR). Must not start anything.

# The stamp ties the cached binaries to the exact inputs (module graph, etcd main, link flags), so a changed go.sum
# with an unchanged Kubernetes version still rebuilds instead of silently reusing stale binaries.
build_stamp() {
  cat "$KUBE_MODULE/go.mod" "$KUBE_MODULE/go.sum" "$KUBE_MODULE/etcd/main.go" <(echo "$BUILD_LDFLAGS") \
    | sha256sum | cut -d' ' -f1
}

binaries_present() {
  local b
  for b in $BINARIES; do [ -x "$BIN_DIR/$b" ] || return 1; done
  [ "$(cat "$BIN_DIR/.stamp" 2>/dev/null)" = "$(build_stamp)" ]
}

cmd_build() {
  if binaries_present; then
    echo "cluster: binaries up to date in $BIN_DIR"
    return 0
  fi
  command -v go >/dev/null || die "go is not on PATH (the build needs Go >= $(sed -n 's/^go //p' "$KUBE_MODULE/go.mod"))"
  echo "cluster: building $BINARIES ($KUBE_VERSION) into $BIN_DIR; cold (empty Go caches) this took about 5 minutes on 2 cores"
  mkdir -p "$(dirname "$BIN_DIR")"
  # Build into a fresh directory and swap it in at the end, so an interrupted build never leaves a partial set that
  # a later run would mistake for a complete one.
  local out
  out=$(mktemp -d "$(dirname "$BIN_DIR")/bin.tmp.XXXXXX")
  # CGO off: static binaries that need nothing from the machine. -mod=readonly: build exactly the committed graph.
  ( cd "$KUBE_MODULE" && CGO_ENABLED=0 go build -mod=readonly -trimpath -buildvcs=false \
      -ldflags "$BUILD_LDFLAGS" -o "$out/" \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kubectl ./etcd ) || { rm -rf "$out"; die "build failed"; }
  chmod 755 "$out"   # mktemp made it 0700
  build_stamp >"$out/.stamp"
  rm -rf "$BIN_DIR"
  mv "$out" "$BIN_DIR"
  echo "cluster: built into $BIN_DIR"
  "$BIN_DIR/kube-apiserver" --version
}
