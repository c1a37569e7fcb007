#!/usr/bin/env bash
# Makes the project's command directory (default /opt/kne/bin; KNE_BIN_DIR to choose): a
# `kne` launcher that runs this checkout's CLI on the project's pinned Node, and `node`
# pointing at that same runtime. One `export PATH=/opt/kne/bin:$PATH` then gives a user
# both, whatever node the distribution ships. Safe to run again: both are rewritten in place
# (the launcher follows the checkout that ran setup last).
#
#   install-launcher.sh NODE_BIN_DIR   prints the command directory on stdout
set -euo pipefail
cd "$(dirname "$0")/../.."

node_bin="${1:?usage: install-launcher.sh NODE_BIN_DIR}"
[ -x "$node_bin/node" ] || { echo "setup: error: no node in $node_bin" >&2; exit 1; }
bin_dir="${KNE_BIN_DIR:-/opt/kne/bin}"
cli="$PWD/apps/cli/bin/kne.mjs"
[ -f "$cli" ] || { echo "setup: error: $cli not found" >&2; exit 1; }

mkdir -p "$bin_dir"
# Written beside the target and renamed, so a running `kne` never sees half a file.
tmp="$(mktemp "$bin_dir/.kne.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
printf '#!/bin/bash\n# Written by tools/setup/install-launcher.sh: the kne CLI of this checkout on the pinned Node.\nexec %q %q "$@"\n' \
  "$node_bin/node" "$cli" >"$tmp"
chmod 0755 "$tmp"
mv -f "$tmp" "$bin_dir/kne"
ln -sfn "$node_bin/node" "$bin_dir/node"
echo "$bin_dir"
