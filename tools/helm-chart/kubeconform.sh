#!/usr/bin/env bash
# Builds kubeconform (validates Kubernetes manifests against JSON schemas) from the Go module
# proxy at the version pinned in kubeconform/go.mod, cached outside the repository beside the
# test environment's binaries, and prints the binary's path.
#
#   kubeconform.sh build   build if the cache lacks it; print the path of the binary
#
# Environment:
#   KNE_TESTENV_CACHE   cache root shared with tools/testenv (default /var/cache/kne-testenv);
#                       the binary goes to <root>/tools/kubeconform_<hash>/bin/kubeconform
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
case "${1:-}" in
  build) exec bash "$here/../scripts/go-build-cached.sh" kubeconform "${KNE_TESTENV_CACHE:-/var/cache/kne-testenv}/tools" \
    "$here/kubeconform" github.com/yannh/kubeconform/cmd/kubeconform ;;
  *) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
