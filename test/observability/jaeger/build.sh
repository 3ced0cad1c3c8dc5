#!/usr/bin/env bash
# Builds Jaeger v2 (the all-in-one binary, github.com/jaegertracing/jaeger/cmd/jaeger, pinned in ./go.mod as a Go tool)
# into the binary cache, once. The stamp ties the cached binary to go.mod + go.sum, so a changed pin rebuilds rather
# than silently reusing a stale binary. Prints the binary's path on the last line of stdout. Starts nothing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${PORTICO_CACHE:-$HOME/.cache/portico}"
out_dir="$cache/jaeger"
stamp="$(cat "$here/go.mod" "$here/go.sum" | sha256sum | cut -d' ' -f1)"

if [ -x "$out_dir/jaeger" ] && [ "$(cat "$out_dir/.stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "$out_dir/jaeger"
  exit 0
fi
command -v go >/dev/null || { echo "jaeger build: go is not on PATH" >&2; exit 1; }
echo "jaeger build: building $(sed -n 's/^tool //p' "$here/go.mod") into $out_dir (cold on 2 cores: see README)" >&2
mkdir -p "$cache"
# Build into a fresh directory and swap it in, so an interrupted build never leaves a binary a later run would trust.
tmp="$(mktemp -d "$cache/jaeger.tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
( cd "$here" && CGO_ENABLED=0 go build -mod=readonly -trimpath -buildvcs=false -ldflags "-s -w" \
    -o "$tmp/jaeger" github.com/jaegertracing/jaeger/cmd/jaeger ) >&2
echo "$stamp" >"$tmp/.stamp"
chmod 755 "$tmp"
rm -rf "$out_dir"
mv "$tmp" "$out_dir"
trap - EXIT
echo "jaeger build: built in $(( $(date +%s) - start )) s" >&2
echo "$out_dir/jaeger"
