#!/usr/bin/env bash
# Builds Helm 4 (and Helm 3, for its lint) from their Go modules into the binary cache, like the test bed's binaries
# (test/cluster/lib/build.sh): a stamp of the inputs beside the binaries, a fresh directory swapped in at the end so an
# interrupted build never leaves a partial set. No-op when the cache is up to date.
#
#   build.sh          build if needed; prints where the binaries are
#   build.sh path     print the cache directory (whether or not it is built)
#
# Environment: PORTICO_CACHE (default $HOME/.cache/portico). Binaries: $PORTICO_CACHE/helm-<v4>-<v3>/bin/{helm,helm3}.
# Without Go the build cannot run: outside CI it says so and exits 0 (the Helm suites then skip, naming the reason);
# with CI=true it fails.
set -euo pipefail

HELM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
source "$HELM_DIR/versions.env"
BIN_DIR=${PORTICO_CACHE:-$HOME/.cache/portico}/helm-$HELM_VERSION-$HELM3_VERSION/bin

die() { echo "helm: $*" >&2; exit 1; }

# Helm's own Makefile sets the version by link flags; without them `helm version` says v4.0+unreleased.
ldflags() {
  local major=$1 version=$2
  echo "-s -w -X helm.sh/helm/$major/internal/version.version=$version -X helm.sh/helm/$major/internal/version.metadata="
}

build_stamp() {
  cat "$HELM_DIR/versions.env" <(ldflags v4 "$HELM_VERSION") <(ldflags v3 "$HELM3_VERSION") | sha256sum | cut -d' ' -f1
}

binaries_present() {
  [ -x "$BIN_DIR/helm" ] && [ -x "$BIN_DIR/helm3" ] && [ "$(cat "$BIN_DIR/.stamp" 2>/dev/null)" = "$(build_stamp)" ]
}

cmd_build() {
  if binaries_present; then
    echo "helm: binaries up to date in $BIN_DIR"
    return 0
  fi
  if ! command -v go >/dev/null; then
    local reason="go is not on PATH (building Helm $HELM_VERSION and $HELM3_VERSION needs Go >= 1.26)"
    [ "${CI:-}" = true ] && die "$reason; CI=true makes a missing prerequisite a failure"
    echo "helm: SKIPPED building Helm: $reason; the Helm suites will be skipped" >&2
    return 0
  fi
  echo "helm: building Helm $HELM_VERSION and $HELM3_VERSION into $BIN_DIR; cold it took 21 minutes on 2 cores shared with other builds (5 CPU-minutes)"
  mkdir -p "$(dirname "$BIN_DIR")"
  local out t0=$SECONDS
  out=$(mktemp -d "$(dirname "$BIN_DIR")/bin.tmp.XXXXXX")
  # `go install module@version` builds exactly the released module graph (its go.sum, checked against the checksum
  # database); CGO off gives static binaries that need nothing from the machine.
  mkdir "$out/v3"
  ( CGO_ENABLED=0 GOBIN=$out GOFLAGS=-buildvcs=false go install -trimpath -ldflags "$(ldflags v4 "$HELM_VERSION")" \
      "helm.sh/helm/v4/cmd/helm@$HELM_VERSION" \
    && CGO_ENABLED=0 GOBIN=$out/v3 GOFLAGS=-buildvcs=false go install -trimpath \
      -ldflags "$(ldflags v3 "$HELM3_VERSION")" "helm.sh/helm/v3/cmd/helm@$HELM3_VERSION" \
    && mv "$out/v3/helm" "$out/helm3" && rmdir "$out/v3" ) || { rm -rf "$out"; die "build failed"; }
  chmod 755 "$out"   # mktemp made it 0700
  build_stamp >"$out/.stamp"
  rm -rf "$BIN_DIR"
  mv "$out" "$BIN_DIR"
  echo "helm: built into $BIN_DIR in $((SECONDS - t0))s"
  "$BIN_DIR/helm" version --short
  "$BIN_DIR/helm3" version --short
}

case "${1:-build}" in
  build) cmd_build ;;
  path) echo "$BIN_DIR" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
