#!/usr/bin/env bash
# Regenerates go.mod and go.sum of this module from versions.env. Run it only to change versions; builds use the
# committed go.mod/go.sum as they are (-mod=readonly), so they are reproducible.
#
# k8s.io/kubernetes requires each of its staging modules (k8s.io/api, k8s.io/client-go, ...) at v0.0.0 and replaces
# it with ./staging/src/...; a consumer must replace every one of them with the published tag, or the v0.0.0
# requirements cannot be resolved. The list is taken from the kubernetes module's own go.mod, never written by hand,
# so a version bump picks up staging modules that appear or disappear (1.36 added cri-streaming and streaming).
set -euo pipefail
cd "$(dirname "$0")"
source ./versions.env

gomod=$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
[ -f "$gomod" ] || { echo "update.sh: could not download the go.mod of k8s.io/kubernetes@$KUBE_VERSION" >&2; exit 1; }

rm -f go.mod go.sum
go mod init portico.invalid/test/cluster/kube
go_directive=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod")
go mod edit -go="$go_directive"
staging=$(sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/.*#\1#p' "$gomod")
[ -n "$staging" ] || { echo "update.sh: no staging replaces found in $gomod" >&2; exit 1; }
for m in $staging; do go mod edit -replace="$m=$m@$STAGING_VERSION"; done
echo "update.sh: replaced $(wc -w <<<"$staging") staging modules with $STAGING_VERSION"

# The tool directives keep the main packages (and so their dependencies) in the graph through `go mod tidy`. Each
# path carries the version: a bare path means @latest and would silently move k8s.io/kubernetes to a newer minor.
go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@$KUBE_VERSION" \
  "k8s.io/kubernetes/cmd/kube-controller-manager@$KUBE_VERSION" "k8s.io/kubernetes/cmd/kubectl@$KUBE_VERSION"
# etcd's server module is already in the graph (an indirect requirement of k8s.io/kubernetes); ./etcd imports it at
# whatever version that graph selects, so etcd and the apiserver's etcd client come from one consistent release line.
go mod tidy
actual=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)
[ "$actual" = "$KUBE_VERSION" ] || { echo "update.sh: k8s.io/kubernetes resolved to $actual, not $KUBE_VERSION" >&2; exit 1; }
echo "update.sh: etcd server $(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)"
