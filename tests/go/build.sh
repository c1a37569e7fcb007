#!/usr/bin/env bash
# Prints the path of the upstream-client binary (built against upstream KNE's published Go
# module at the version go.mod pins), building it on first use. Binaries are cached outside
# the repository, keyed by go.mod, go.sum, main.go and the Go version:
#   ${KNE_GO_CLIENT_CACHE:-/var/cache/kne-go-client}/<hash>/upstream-client
# Go is the toolchain tools/testenv builds the control plane with (`go` on PATH, 1.24 or newer).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/upstream-client"
cache="${KNE_GO_CLIENT_CACHE:-/var/cache/kne-go-client}"
command -v go >/dev/null || { echo "build.sh: go is not installed (the Go toolchain tools/testenv uses)" >&2; exit 1; }
key="$({ go env GOVERSION GOOS GOARCH; cat "$here/go.mod" "$here/go.sum" "$here/main.go"; } | sha256sum | cut -c1-16)"
out="$cache/$key/upstream-client"
if [[ -x "$out" ]]; then
  echo "$out"
  exit 0
fi
mkdir -p "$cache/$key"
# Built beside the final path and renamed, so a killed build never leaves a half-written binary.
tmp="$(mktemp "$cache/$key/.build-XXXXXX")"
trap 'rm -f "$tmp"' EXIT
start=$(date +%s)
(cd "$here" && GOTOOLCHAIN=local GOFLAGS="-trimpath -buildvcs=false -mod=readonly" go build -o "$tmp" .) >&2
mv "$tmp" "$out"
echo "build.sh: built upstream-client in $(( $(date +%s) - start )) s" >&2
echo "$out"
