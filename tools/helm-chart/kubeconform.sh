#!/usr/bin/env bash
# Builds kubeconform (validates Kubernetes manifests against JSON schemas) from the Go module
# proxy at the version pinned in kubeconform/go.mod, cached outside the repository beside the
# test environment's binaries, and prints the binary's path.
#
#   kubeconform.sh build   build if the cache lacks it; print the path of the binary
#   kubeconform.sh key     print the cache key
#
# Environment:
#   KNE_TESTENV_CACHE   cache root shared with tools/testenv (default /var/cache/kne-testenv);
#                       the binary goes to <root>/tools/<key>/bin/kubeconform
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MOD_DIR="$HERE/kubeconform"
log() { printf 'kubeconform: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

VERSION="$(awk '$1 == "require" && $2 == "github.com/yannh/kubeconform" { print $3; exit } $1 == "github.com/yannh/kubeconform" { print $2; exit }' "$MOD_DIR/go.mod")"
[ -n "$VERSION" ] || die "cannot read kubeconform's version from $MOD_DIR/go.mod"
LDFLAGS="-s -w"
# Bump when build() changes what it produces.
BUILD_RECIPE=1

key() {
  local h
  h="$({ go env GOVERSION GOOS GOARCH CGO_ENABLED; echo "$LDFLAGS"; cat "$MOD_DIR/go.mod" "$MOD_DIR/go.sum"; echo "recipe=$BUILD_RECIPE"; } | sha256sum | cut -c1-10)"
  echo "kubeconform-${VERSION}_${h}"
}

build() {
  command -v go >/dev/null || die "go is not installed (Go 1.26 builds kubeconform)"
  local dir; dir="${KNE_TESTENV_CACHE:-/var/cache/kne-testenv}/tools/$(key)"
  local bin="$dir/bin/kubeconform"
  if [ -x "$bin" ]; then echo "$bin"; return 0; fi
  mkdir -p "$dir/bin"
  exec 8>"$dir/.build.lock"
  flock 8
  if [ -x "$bin" ]; then flock -u 8; echo "$bin"; return 0; fi
  local start tmp="$dir/tmp.$$"
  start=$(date +%s)
  mkdir -p "$tmp"
  log "building kubeconform $VERSION into $dir/bin (log: $dir/build.log)"
  if ! (cd "$MOD_DIR" && GOFLAGS="-trimpath -buildvcs=false -mod=readonly" GOTOOLCHAIN=local \
    go build -ldflags "$LDFLAGS" -o "$tmp/kubeconform" github.com/yannh/kubeconform/cmd/kubeconform) >"$dir/build.log" 2>&1; then
    tail -n 30 "$dir/build.log" >&2
    rm -rf "$tmp"
    die "go build failed"
  fi
  mv -f "$tmp/kubeconform" "$bin"
  rm -rf "$tmp"
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) kubeconform $VERSION $(($(date +%s) - start))s go=$(go env GOVERSION)" >>"$dir/build-info.txt"
  flock -u 8
  log "built in $(($(date +%s) - start)) s"
  echo "$bin"
}

case "${1:-}" in
  build) build ;;
  key) key ;;
  *) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
esac
