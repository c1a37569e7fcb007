#!/usr/bin/env bash
# Builds one Go program of the project's test tooling from the Go module proxy, cached outside
# the repository by the hash of its inputs, and prints the binary's path. Shared by the test
# tools that are not part of the test environment's control plane (kubeconform, the kubelet's
# gRPC prober, upstream's Go client).
#
#   go-build-cached.sh NAME CACHE_ROOT SRC_DIR [PACKAGE] [MOD_DIR]
#
#   NAME        the binary's name; the cache entry is CACHE_ROOT/NAME_<hash>/bin/NAME
#   SRC_DIR     the program's folder (its files are inputs; go.mod/go.sum too unless MOD_DIR)
#   PACKAGE     what to build (default "."), e.g. a main package of a required module
#   MOD_DIR     a folder whose go.mod and go.sum pin the build instead of SRC_DIR's (a program
#               built against exactly the module graph another build pins)
#
# The key covers the Go version and platform, the flags, every file of SRC_DIR, the module
# files and PACKAGE: any change builds anew; a warm Go build cache relinks in seconds.
# Concurrent builds of one entry wait on a lock; a failed or killed build leaves no binary.
set -euo pipefail

[ $# -ge 3 ] || { sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
name="$1" cache_root="$2" src="$3" package="${4:-.}" mod_dir="${5:-$3}"
log() { printf '%s: %s\n' "$name" "$*" >&2; }
die() { log "error: $*"; exit 1; }
command -v go >/dev/null || die "go is not installed (the Go toolchain the test environment builds with)"
[ -d "$src" ] || die "no folder $src"
[ -f "$mod_dir/go.mod" ] && [ -f "$mod_dir/go.sum" ] || die "no go.mod and go.sum in $mod_dir"

ldflags="-s -w"
goflags="-trimpath -buildvcs=false -mod=readonly"
key="$({
  go env GOVERSION GOOS GOARCH CGO_ENABLED
  echo "$ldflags $goflags $package"
  (cd "$src" && find . -type f ! -name go.mod ! -name go.sum -print0 | sort -z | xargs -0 -r sha256sum)
  cat "$mod_dir/go.mod" "$mod_dir/go.sum"
} | sha256sum | cut -c1-12)"
dir="$cache_root/${name}_$key"
bin="$dir/bin/$name"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi

mkdir -p "$dir/bin"
exec 8>"$dir/.build.lock"
flock 8
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
work="$(mktemp -d "$dir/build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# Built in a scratch copy: the module files may come from elsewhere, and nothing is written
# into the repository.
cp -R "$src/." "$work/"
cp "$mod_dir/go.mod" "$mod_dir/go.sum" "$work/"
start=$(date +%s)
log "building into $dir/bin (log: $dir/build.log)"
if ! (cd "$work" && GOFLAGS="$goflags" GOTOOLCHAIN=local go build -ldflags "$ldflags" -o "$work/$name.out" "$package") >"$dir/build.log" 2>&1; then
  tail -n 30 "$dir/build.log" >&2
  die "go build failed"
fi
mv -f "$work/$name.out" "$bin"
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $name $(($(date +%s) - start))s $(go env GOVERSION)" >>"$dir/build-info.txt"
log "built in $(($(date +%s) - start)) s"
echo "$bin"
