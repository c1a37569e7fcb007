#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian machine, as root: Debian
# packages (the kernel tools, routing daemons that serve as nodes, the performance peer),
# then the npm workspace. Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/../.."

debs=(
  iproute2 iputils-ping nftables ethtool tcpdump iperf3 procps psmisc
  python3
  openssl
  frr frr-pythontools gobgpd bird2
  mininet
  containerd runc containernetworking-plugins
)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The distribution starts FRR, bird, gobgpd and containerd as system services; nodes run
# their own copies inside namespaces, and the test cluster's node its own containerd (own
# socket and state), so the host-wide ones are stopped and disabled.
for svc in frr bird gobgpd containerd; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl disable --now "$svc" >/dev/null 2>&1 || true
  fi
done

# The project's runtime: Node 24 LTS in a prefix of its own; npm and every script below run on it.
node_bin="$(bash tools/setup/install-node.sh)"
export PATH="$node_bin:$PATH"

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi
# The apps and the CLI run from their built output (dist/); nx rebuilds only what changed.
echo "setup: building the apps"
if ! build_log="$(NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false npx nx run-many -t build --outputStyle=static 2>&1)"; then
  printf '%s\n' "$build_log"
  echo "setup: the build failed (above)" >&2
  exit 1
fi
# `kne` and this `node` in one directory a user puts first on PATH (see the README).
kne_bin="$(bash tools/setup/install-launcher.sh "$node_bin")"
echo "setup: done (node $(node --version); kne and node in $kne_bin: export PATH=$kne_bin:\$PATH)"
