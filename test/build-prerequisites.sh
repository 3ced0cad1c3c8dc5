#!/usr/bin/env bash
# The first step of `npm test`: build what the suites on a real API server and on real Helm need, from Go modules,
# into ~/.cache/portico (a no-op when the cache is up to date). Without Go, outside CI, it says what cannot be built
# and carries on: .mocharc.cjs then leaves out the suites that need it and names them. With CI=true a missing
# prerequisite is a failure.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build() { # what, command...
  local what=$1; shift
  "$@" && return 0
  if [ "${CI:-}" != true ] && ! command -v go >/dev/null; then
    echo "prerequisites: SKIPPED building $what: go is not on PATH; the suites that need it will be skipped" >&2
    return 0
  fi
  echo "prerequisites: building $what failed" >&2
  exit 1
}

# cluster.sh is a no-op when its binaries are current (no Go needed) and fails without Go otherwise.
build "the Kubernetes test bed" bash test/cluster/cluster.sh build
build "Helm" bash test/helm/build.sh
