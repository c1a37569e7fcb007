#!/usr/bin/env bash
# Prints the path of the upstream-client binary (built against upstream KNE's published Go
# module at the version go.mod pins), building it on first use. Cached outside the
# repository by the hash of go.mod, go.sum, main.go and the Go version:
#   ${KNE_GO_CLIENT_CACHE:-/var/cache/kne-go-client}/upstream-client_<hash>/bin/upstream-client
# Go is the toolchain tools/testenv builds the control plane with (`go` on PATH, 1.24 or newer).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec bash "$here/../../tools/scripts/go-build-cached.sh" upstream-client "${KNE_GO_CLIENT_CACHE:-/var/cache/kne-go-client}" "$here/upstream-client"
