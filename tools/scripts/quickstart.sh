#!/usr/bin/env bash
# The main job, from a fresh Debian machine, as root: installs what the project needs,
# then shows kne at work on the shipped examples. Until the local backend lands, that
# is: load and validate every example, and print one of them in each format.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/setup/install-deps.sh
kne() { node apps/cli/bin/kne.mjs "$@"; }

echo "== kne topology validate examples/*/topology.pb.txt"
kne topology validate examples/*/topology.pb.txt
echo
echo "== kne topology validate -o json examples/frr-2node-ebgp/topology.pb.txt"
kne topology validate -o json examples/frr-2node-ebgp/topology.pb.txt
echo
echo "== kne topology convert examples/frr-2node-ebgp/topology.pb.txt --to yaml"
kne topology convert examples/frr-2node-ebgp/topology.pb.txt --to yaml
