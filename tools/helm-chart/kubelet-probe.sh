#!/usr/bin/env bash
# Builds kubelet-probe (kubelet-probe/main.go: the kubelet's gRPC prober, run once) against
# exactly the Kubernetes release the test environment pins: the module is
# tools/testenv/build/k8s's go.mod and go.sum, copied beside main.go in a scratch directory.
# Cached beside the other tools, by input hash.
#
#   kubelet-probe.sh build   build if the cache lacks it; print the path of the binary
#
# Environment: KNE_TESTENV_CACHE (default /var/cache/kne-testenv): <root>/tools/<key>/bin
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
K8S_MOD="$HERE/../testenv/build/k8s"
log() { printf 'kubelet-probe: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
LDFLAGS="-s -w"
BUILD_RECIPE=1

key() {
  local h
  h="$({ go env GOVERSION GOOS GOARCH CGO_ENABLED; echo "$LDFLAGS"; cat "$K8S_MOD/go.mod" "$K8S_MOD/go.sum" "$HERE/kubelet-probe/main.go"; echo "recipe=$BUILD_RECIPE"; } | sha256sum | cut -c1-10)"
  echo "kubelet-probe_${h}"
}

build() {
  command -v go >/dev/null || die "go is not installed"
  local dir; dir="${KNE_TESTENV_CACHE:-/var/cache/kne-testenv}/tools/$(key)"
  local bin="$dir/bin/kubelet-probe"
  if [ -x "$bin" ]; then echo "$bin"; return 0; fi
  mkdir -p "$dir/bin"
  exec 8>"$dir/.build.lock"
  flock 8
  if [ -x "$bin" ]; then flock -u 8; echo "$bin"; return 0; fi
  local start src="$dir/src.$$"
  start=$(date +%s)
  rm -rf "$src"; mkdir -p "$src"
  cp "$K8S_MOD/go.mod" "$K8S_MOD/go.sum" "$HERE/kubelet-probe/main.go" "$src/"
  log "building into $dir/bin (log: $dir/build.log)"
  if ! (cd "$src" && GOFLAGS="-trimpath -buildvcs=false -mod=readonly" GOTOOLCHAIN=local \
    go build -ldflags "$LDFLAGS" -o "$src/kubelet-probe" .) >"$dir/build.log" 2>&1; then
    tail -n 30 "$dir/build.log" >&2
    rm -rf "$src"
    die "go build failed"
  fi
  mv -f "$src/kubelet-probe" "$bin"
  rm -rf "$src"
  flock -u 8
  log "built in $(($(date +%s) - start)) s"
  echo "$bin"
}

case "${1:-}" in
  build) build ;;
  *) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
esac
