#!/usr/bin/env bash
# Builds kubelet-probe (kubelet-probe/main.go: the kubelet's gRPC prober, run once) against
# exactly the Kubernetes release the test environment pins (tools/testenv/build/k8s's go.mod
# and go.sum), cached beside the other tools by input hash.
#
#   kubelet-probe.sh build   build if the cache lacks it; print the path of the binary
#
# Environment: KNE_TESTENV_CACHE (default /var/cache/kne-testenv): <root>/tools/kubelet-probe_<hash>/bin
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
case "${1:-}" in
  build) exec bash "$here/../scripts/go-build-cached.sh" kubelet-probe "${KNE_TESTENV_CACHE:-/var/cache/kne-testenv}/tools" \
    "$here/kubelet-probe" . "$here/../testenv/build/k8s" ;;
  *) sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
