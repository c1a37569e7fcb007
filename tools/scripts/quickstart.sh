#!/usr/bin/env bash
# The main job, from a fresh Debian machine, as root: installs what the project needs, then
# creates the eBGP CLOS of examples/frr-clos (2 spines, 4 leaves, 4 hosts; real FRR) on this
# machine, shows every BGP session Established and host-to-host ping, and deletes it again.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/setup/install-deps.sh
export PATH="$(bash tools/setup/install-node.sh --print):$PATH"
kne() { node apps/cli/bin/kne.mjs "$@"; }
topology=examples/frr-clos/topology.pb.txt
name=frr-clos
trap 'kne delete "$name" >/dev/null 2>&1 || true' EXIT

echo "== kne topology validate examples/*/topology.pb.txt"
kne topology validate examples/*/topology.pb.txt
echo
# A CLOS left over from an interrupted run would make create fail: start clean.
kne show "$name" >/dev/null 2>&1 && kne delete "$name"
echo "== kne create $topology"
kne create "$topology"
echo

echo "== BGP sessions (each of the 8 leaf-spine sessions is seen by its spine)"
for _ in $(seq 1 30); do
  established=0
  for spine in spine1 spine2; do
    # No session up yet is a count of 0 (grep finds nothing), not a failure: keep waiting.
    n=$(kne exec "$name" "$spine" -- vtysh -c 'show bgp summary json' | grep -o '"state":"Established"' | wc -l) || n=0
    established=$((established + n))
  done
  [ "$established" -eq 8 ] && break
  sleep 1
done
for node in spine1 leaf1; do
  echo "-- kne exec $name $node -- vtysh -c 'show bgp summary'"
  kne exec "$name" "$node" -- vtysh -c 'show bgp summary'
done
echo "Established: $established of 8 sessions"
[ "$established" -eq 8 ]
echo

echo "== host-to-host ping (every host to every other host)"
for from in 1 2 3 4; do
  targets=()
  for to in 1 2 3 4; do [ "$from" = "$to" ] || targets+=("198.18.$((100 + to)).10"); done
  # One exec per host: a loop inside the node pings the three others.
  kne exec "$name" "host$from" -- sh -c 'for t in "$@"; do ping -c 2 -i 0.2 -W 1 "$t" >/dev/null && echo "host'"$from"' -> $t ok" || { echo "host'"$from"' -> $t FAILED"; exit 1; }; done' sh "${targets[@]}"
done
echo "-- kne exec $name host1 -- ping -c 3 198.18.104.10"
kne exec "$name" host1 -- ping -c 3 -i 0.2 198.18.104.10
echo "-- kne exec $name leaf1 -- vtysh -c 'show ip route 198.18.104.0/24'   (ECMP over both spines)"
kne exec "$name" leaf1 -- vtysh -c 'show ip route 198.18.104.0/24'
echo

echo "== kne delete $name"
kne delete "$name"
trap - EXIT
