# shellcheck shell=bash
# The test environment's real worker node, sourced by testenv.sh (which owns the helpers
# log, die, state_get/state_set, pick_port, wait_for, ours, stop_pid, gone and the control
# plane): containerd + runc + the reference CNI plugins from Debian, kubelet and kube-proxy
# (nftables mode) built from the same k8s.io/kubernetes module as the control plane, CoreDNS
# from the Go module proxy as the cluster DNS, and the node's own images (pause, coredns,
# probe) written here as OCI layouts and imported with `ctr images import`.
#
# One real node per machine: kube-proxy's nft table (`ip kube-proxy`) has a fixed name, so two
# would undo each other's rules. The node's address interface is the claim: `up` fails, naming
# the owner, when it exists.
#
# Addresses, all inside 198.18.0.0/15 (RFC 2544 benchmarking range, never routed out):
#   198.18.0.0/17    Services (the control plane's --service-cluster-ip-range); DNS 198.18.0.10
#   198.18.128.0/18  the real node's pods: bridge kne-pods0 (gateway .1), host-local IPAM, no NAT
#   198.18.192.1/32  the node's address on the portless bridge kne-node0: kubelet serves there,
#                    the API server listens there so that pods reach it through the
#                    `kubernetes` Service (its endpoint must not be loopback)
#   198.19.0.0/16    kwok's simulated pod IPs (never routed) and the local backend's management
#                    network (another machine-wide user: which is why the real node stays out)

NODE_NAME="kne-real-0"
NODE_IP="198.18.192.1"
NODE_ADDRESS_IF="kne-node0"
NODE_BRIDGE="kne-pods0"
NODE_POD_CIDR="198.18.128.0/18"
NODE_POD_GATEWAY="198.18.128.1"
NODE_NFT_TABLE="kne_testenv_node"
CLUSTER_DNS_IP="198.18.0.10"
CNI_NETWORK="kne-testenv-node"
NODE_CGROUP_ROOT="/kne-testenv-node"
NODE_DIR="$HERE/node"
# Bump when node_build() changes what it produces.
NODE_RECIPE=1

CONTAINERD_EXE="$(command -v containerd 2>/dev/null || echo /usr/bin/containerd)"
CTR_EXE="$(command -v ctr 2>/dev/null || echo /usr/bin/ctr)"
CNI_BIN_DIR="${KNE_TESTENV_CNI_BIN:-/usr/lib/cni}"
COREDNS_VERSION="$(awk '$1 == "require" && $2 == "github.com/coredns/coredns" { print $3; exit } $1 == "github.com/coredns/coredns" { print $2; exit }' "$NODE_DIR/coredns/go.mod")"

# --- build: kubelet, kube-proxy, coredns, the images -------------------------------------

node_version_key() {
  local h
  h="$({
    go env GOVERSION GOOS GOARCH
    echo "$LDFLAGS_BASE"
    cat "$BUILD_DIR/k8s/go.mod" "$BUILD_DIR/k8s/go.sum"
    cat "$NODE_DIR/coredns/go.mod" "$NODE_DIR/coredns/go.sum" "$NODE_DIR/coredns/main.go"
    cat "$NODE_DIR/images/go.mod" "$NODE_DIR"/images/*/main.go "$HERE/oci-image.sh"
    echo "recipe=$NODE_RECIPE"
  } | sha256sum | cut -c1-10)"
  echo "node_k8s-${K8S_VERSION}_coredns-${COREDNS_VERSION}_${h}"
}
node_cache_dir() { echo "$CACHE_ROOT/$(node_version_key)"; }

node_group_outputs() {
  case "$1" in
    kubelet) echo bin/kubelet bin/kube-proxy ;;
    coredns) echo bin/coredns ;;
    images) echo bin/pause bin/probe images/pause.tar images/coredns.tar images/probe.tar images/refs.env ;;
  esac
}

node_missing_groups() {
  local dir="$1" g f out=""
  # coredns before images (its image holds the binary); kubelet last, the longest.
  for g in coredns images kubelet; do
    for f in $(node_group_outputs "$g"); do
      if [ ! -s "$dir/$f" ]; then out+="$g "; break; fi
    done
  done
  echo "$out"
}

node_build() {
  local dir; dir="$(node_cache_dir)"
  local todo; todo="$(node_missing_groups "$dir")"
  if [ -z "$todo" ]; then log "real node: binaries and images cached in $dir"; return 0; fi
  [ "${KNE_TESTENV_NO_BUILD:-0}" != 1 ] || die "real node: missing in $dir ($todo) and KNE_TESTENV_NO_BUILD=1"
  command -v go >/dev/null || die "go is not installed (Go 1.26 builds the real node)"
  mkdir -p "$dir"
  exec 7>"$dir/.build.lock"
  flock 7
  todo="$(node_missing_groups "$dir")"
  if [ -z "$todo" ]; then flock -u 7; log "real node: cached in $dir"; return 0; fi

  local jobs="${KNE_TESTENV_BUILD_JOBS:-$(nproc)}" tmp="$dir/tmp.$$" blog="$dir/build.log" start g t secs
  rm -rf "$dir"/tmp.*; mkdir -p "$tmp" "$dir/bin" "$dir/images"
  : >"$blog"
  quiet() { "$@" >>"$blog" 2>&1 || { log "failed: $*"; tail -n 40 "$blog" >&2; return 1; }; }
  export GOFLAGS="-trimpath -buildvcs=false -mod=readonly" GOTOOLCHAIN=local
  start=$(date +%s)
  log "real node: building ${todo% } into $dir; log: $blog"
  local k8s_minor="${K8S_VERSION#v1.}" kv="" p
  k8s_minor="${k8s_minor%%.*}"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    kv+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$k8s_minor -X $p.gitTreeState=clean"
  done
  for g in $todo; do
    t=$(date +%s)
    case "$g" in
      kubelet)
        log "  kubelet, kube-proxy $K8S_VERSION (build/k8s)"
        (cd "$BUILD_DIR/k8s" && quiet go build -p "$jobs" -ldflags "$LDFLAGS_BASE$kv" -o "$tmp/" \
          k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy)
        mv -f "$tmp/kubelet" "$tmp/kube-proxy" "$dir/bin/" ;;
      coredns)
        # Static: it runs in an image that holds nothing else.
        log "  coredns $COREDNS_VERSION (node/coredns)"
        (cd "$NODE_DIR/coredns" && CGO_ENABLED=0 quiet go build -p "$jobs" -ldflags "$LDFLAGS_BASE" -o "$tmp/coredns" .)
        mv -f "$tmp/coredns" "$dir/bin/" ;;
      images)
        log "  images: pause, coredns, probe (node/images, oci-image.sh)"
        (cd "$NODE_DIR/images" && CGO_ENABLED=0 quiet go build -p "$jobs" -ldflags "$LDFLAGS_BASE" -o "$tmp/" ./pause ./probe)
        mv -f "$tmp/pause" "$tmp/probe" "$dir/bin/"
        [ -s "$dir/bin/coredns" ] || die "real node: the coredns binary is missing (build order)"
        local img ref refs=""
        for img in pause coredns probe; do
          ref="$(bash "$HERE/oci-image.sh" "$tmp/$img.tar" "kne.local/testenv/$img" "/$img" "$dir/bin/$img")"
          mv -f "$tmp/$img.tar" "$dir/images/$img.tar"
          refs+="$img=$ref"$'\n'
        done
        printf '%s' "$refs" >"$tmp/refs.env"
        mv -f "$tmp/refs.env" "$dir/images/refs.env" ;;
    esac
    secs=$(($(date +%s) - t))
    log "    done in $secs s"
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $g ${secs}s go=$(go env GOVERSION) jobs=$jobs nproc=$(nproc)" >>"$dir/build-info.txt"
  done
  rm -rf "$tmp"
  flock -u 7
  log "real node: built in $(($(date +%s) - start)) s; images: $(cd "$dir/images" && du -b ./*.tar | awk '{ printf "%s %d KiB  ", $2, $1 / 1024 }')"
}

# --- the node's network: claimed first, before the API server binds to its address -------

node_check_prerequisites() {
  local c
  for c in "$CONTAINERD_EXE" "$CTR_EXE" runc nft ip; do
    command -v "$c" >/dev/null || die "real node: $c is missing (tools/setup/install-deps.sh installs containerd, runc, containernetworking-plugins, nftables)"
  done
  for c in bridge host-local loopback; do
    [ -x "$CNI_BIN_DIR/$c" ] || die "real node: CNI plugin $CNI_BIN_DIR/$c is missing (Debian package containernetworking-plugins)"
  done
  [ "$(id -u)" = 0 ] || die "real node: needs root (network, mounts, containers)"
}

# The address interface is the machine-wide claim on the real node's names and addresses.
node_claim_network() {
  if ip link show "$NODE_ADDRESS_IF" >/dev/null 2>&1; then
    die "real node: $NODE_ADDRESS_IF exists: another test environment's real node runs ($(ip -o link show "$NODE_ADDRESS_IF" | sed -n 's/.*alias //p')); only one per machine (kube-proxy's nft table has a fixed name)"
  fi
  # A bridge without ports stands in for a dummy interface: this kernel has no `dummy` driver
  # ("Unknown device type"); an address on it is local all the same.
  ip link add "$NODE_ADDRESS_IF" type bridge || die "real node: cannot create $NODE_ADDRESS_IF"
  state_set NODE_NETWORK 1
  ip link set "$NODE_ADDRESS_IF" alias "kne-testenv real node: $RUN_DIR"
  ip addr add "$NODE_IP/32" dev "$NODE_ADDRESS_IF"
  ip link set "$NODE_ADDRESS_IF" up
  # The CNI bridge plugin turns IPv4 forwarding on (the pods' gateway routes between them);
  # `down` puts back what was there.
  state_set NODE_IP_FORWARD_BEFORE "$(cat /proc/sys/net/ipv4/ip_forward)"
  # Nothing the node makes may reach beyond this machine: the host forwards nothing from the
  # pod bridge but back into it, and nothing from elsewhere into it; the node's address
  # answers only this host and the pods.
  nft -f - <<EOF
table inet $NODE_NFT_TABLE {}
flush table inet $NODE_NFT_TABLE
table inet $NODE_NFT_TABLE {
  chain forward {
    type filter hook forward priority 0; policy accept;
    iifname "$NODE_BRIDGE" oifname != "$NODE_BRIDGE" drop
    oifname "$NODE_BRIDGE" iifname != "$NODE_BRIDGE" drop
    ip saddr $NODE_POD_CIDR oifname != "$NODE_BRIDGE" drop
  }
  chain input {
    type filter hook input priority 0; policy accept;
    ip daddr $NODE_IP iifname != { "lo", "$NODE_BRIDGE" } drop
  }
}
EOF
}

# --- up ----------------------------------------------------------------------------------

node_pki() {
  local d="$RUN_DIR/pki" ext="$RUN_DIR/pki/node.ext"
  (
    cd "$d"
    umask 077
    # kubelet's identity towards the API server (Node authorizer: system:node:NAME in system:nodes)
    openssl req -newkey rsa:2048 -nodes -keyout kubelet-client.key -out kubelet-client.csr \
      -subj "/O=system:nodes/CN=system:node:$NODE_NAME" 2>/dev/null
    openssl x509 -req -in kubelet-client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out kubelet-client.crt \
      -days 3650 -extfile admin.ext 2>/dev/null
    # kubelet's serving certificate: the API server checks it (--kubelet-certificate-authority)
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:%s,DNS:%s\n' \
      "$NODE_IP" "$NODE_NAME" >"$ext"
    openssl req -newkey rsa:2048 -nodes -keyout kubelet.key -out kubelet.csr -subj "/CN=$NODE_NAME" 2>/dev/null
    openssl x509 -req -in kubelet.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out kubelet.crt \
      -days 3650 -extfile "$ext" 2>/dev/null
    # kube-proxy: the built-in binding system:node-proxier names the user system:kube-proxy
    openssl req -newkey rsa:2048 -nodes -keyout kube-proxy.key -out kube-proxy.csr -subj "/CN=system:kube-proxy" 2>/dev/null
    openssl x509 -req -in kube-proxy.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out kube-proxy.crt \
      -days 3650 -extfile admin.ext 2>/dev/null
  )
}

node_kubeconfig() { # node_kubeconfig FILE CERT KEY
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kne-testenv
  cluster:
    server: $(state_get SERVER)
    certificate-authority: $RUN_DIR/pki/ca.crt
users:
- name: node
  user:
    client-certificate: $2
    client-key: $3
contexts:
- name: kne-testenv
  context: {cluster: kne-testenv, user: node}
current-context: kne-testenv
EOF
  chmod 600 "$1"
}

# cgroup v1 here: kubelet wants its cgroup root to exist in every hierarchy; cpuset needs
# its cpus and mems filled before a child can hold tasks.
node_make_cgroups() {
  local m
  for m in /sys/fs/cgroup/*/; do
    [ -d "$m" ] || continue
    mkdir -p "$m${NODE_CGROUP_ROOT#/}"
    if [ -f "$m/cpuset.cpus" ]; then
      cat "$m/cpuset.cpus" >"$m${NODE_CGROUP_ROOT#/}/cpuset.cpus"
      cat "$m/cpuset.mems" >"$m${NODE_CGROUP_ROOT#/}/cpuset.mems"
    fi
  done
}

# The kubelet sets these host-wide sysctls to its liking at start (with protectKernelDefaults
# it would refuse to start instead); `down` puts back what was there.
KUBELET_SYSCTLS=(vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops kernel/keys/root_maxkeys kernel/keys/root_maxbytes)

node_save_sysctls() {
  local s saved=""
  for s in "${KUBELET_SYSCTLS[@]}"; do saved+="$s:$(cat "/proc/sys/$s") "; done
  state_set NODE_SYSCTLS_BEFORE "$saved"
}

node_restore_sysctls() {
  local pair
  for pair in $(state_get NODE_SYSCTLS_BEFORE); do
    case "${pair%%:*}" in vm/* | kernel/*) ;; *) continue ;; esac
    [ "$(cat "/proc/sys/${pair%%:*}" 2>/dev/null)" = "${pair#*:}" ] ||
      echo "${pair#*:}" >"/proc/sys/${pair%%:*}" 2>/dev/null || log "real node: cannot restore ${pair%%:*}"
  done
}

# Machine-wide directories the runtime makes on first use (shim sockets, CNI's result cache,
# the kubelet's log links): removed at `down` when `up` did not find them and they are empty.
NODE_SHARED_DIRS=(/run/containerd/s /run/containerd /var/lib/cni/results /var/lib/cni /var/log/containers)

# The kubelet makes iptables chains for other components (KUBE-IPTABLES-HINT, KUBE-FIREWALL
# with its jumps from INPUT and OUTPUT, KUBE-KUBELET-CANARY) whenever iptables is installed;
# through iptables-nft they land in nft tables. `down` removes those chains, and the
# tables they created when the tables were not there before `up`.
node_remove_kubelet_iptables() {
  local ipt t
  for ipt in iptables ip6tables; do
    command -v "$ipt" >/dev/null || continue
    for t in mangle nat filter; do
      "$ipt" -w -t "$t" -F KUBE-KUBELET-CANARY 2>/dev/null && "$ipt" -w -t "$t" -X KUBE-KUBELET-CANARY 2>/dev/null
    done
    "$ipt" -w -t mangle -X KUBE-IPTABLES-HINT 2>/dev/null || true
    if [ "$ipt" = iptables ]; then
      while iptables -w -t filter -D INPUT -j KUBE-FIREWALL 2>/dev/null; do :; done
      while iptables -w -t filter -D OUTPUT -j KUBE-FIREWALL 2>/dev/null; do :; done
      iptables -w -t filter -F KUBE-FIREWALL 2>/dev/null && iptables -w -t filter -X KUBE-FIREWALL 2>/dev/null
    fi
  done
  local before table
  before=" $(state_get NODE_NFT_TABLES_BEFORE) "
  for table in "ip filter" "ip mangle" "ip nat" "ip6 filter" "ip6 mangle" "ip6 nat"; do
    case "$before" in *" ${table// /:} "*) continue ;; esac
    nft list table $table >/dev/null 2>&1 || continue
    # Only base chains without rules left: what iptables-nft made for the kubelet alone.
    if ! nft list table $table | grep -qE '^\s+(jump|goto|counter|ip |ip6 |meta |ct |drop|accept|reject)'; then
      nft delete table $table 2>/dev/null || true
    fi
  done
}

node_up() {
  local ndir; ndir="$(node_cache_dir)"
  local nbin="$ndir/bin" d="$RUN_DIR/node" t0 pid
  t0=$(date +%s%N)
  state_set NODE_BIN "$nbin"
  mkdir -p "$d/containerd/root" "$d/containerd/state" "$d/containerd/runc" "$d/pod-logs" "$d/cni/net.d" "$d/cni/ipam" "$d/cni/bin" "$d/kubelet" "$d/volume-plugins"
  # The node's CNI bin directory is its own (links to the distribution's plugins), so that a
  # chained plugin installed by a test (the topology agent's) never lands in /usr/lib/cni.
  local plugin
  for plugin in "$CNI_BIN_DIR"/*; do ln -sf "$plugin" "$d/cni/bin/"; done
  state_set NODE_CNI_BIN_DIR "$d/cni/bin"
  state_set NODE_CNI_CONF_DIR "$d/cni/net.d"
  local sock="$d/containerd/containerd.sock"
  state_set NODE_CONTAINERD_SOCK "$sock"
  state_set NODE_CONTAINERD_STATE "$d/containerd/state"
  local -A ref
  local k v
  while IFS='=' read -r k v; do [ -n "$k" ] && ref[$k]="$v"; done <"$ndir/images/refs.env"
  state_set IMAGE_pause "${ref[pause]}"; state_set IMAGE_coredns "${ref[coredns]}"; state_set IMAGE_probe "${ref[probe]}"

  node_pki
  node_kubeconfig "$d/kubelet.kubeconfig" "$RUN_DIR/pki/kubelet-client.crt" "$RUN_DIR/pki/kubelet-client.key"
  node_kubeconfig "$d/kube-proxy.kubeconfig" "$RUN_DIR/pki/kube-proxy.crt" "$RUN_DIR/pki/kube-proxy.key"

  # The pod network: a bridge with host-local IPAM, no masquerade, and routes only to the
  # test range (Services, the node, the pods): no default route, so nothing is sent out.
  cat >"$d/cni/net.d/10-kne-testenv.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$CNI_NETWORK",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$NODE_BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$d/cni/ipam",
        "ranges": [[{ "subnet": "$NODE_POD_CIDR", "gateway": "$NODE_POD_GATEWAY" }]],
        "routes": [{ "dst": "198.18.0.0/15" }]
      }
    }
  ]
}
EOF
  # containerd: its own root, state and socket (no clash with another containerd); CRI with
  # the pause image built here, cgroupfs, and restrict_oom_score_adj because this machine
  # denies lowering oom_score_adj (no CAP_SYS_RESOURCE): without it every sandbox fails.
  local p_stream; pick_port; p_stream=$PORT
  cat >"$d/containerd/config.toml" <<EOF
version = 2
root = "$d/containerd/root"
state = "$d/containerd/state"
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "$sock"

[ttrpc]
  address = "$sock.ttrpc"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${ref[pause]}"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "$p_stream"
  enable_cdi = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        # runc's state beside containerd's, not in the machine-wide /run/containerd/runc
        Root = "$d/containerd/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$d/cni/bin"
    conf_dir = "$d/cni/net.d"
    max_conf_num = 1
EOF
  pid=$(start_exe containerd "$CONTAINERD_EXE" --config "$d/containerd/config.toml" --log-level warn)
  wait_for containerd 30 "$pid" "$CONTAINERD_EXE" "$CTR_EXE" --address "$sock" version
  local img
  for img in pause coredns probe; do
    "$CTR_EXE" --address "$sock" -n k8s.io images import "$ndir/images/$img.tar" >>"$RUN_DIR/logs/containerd.log" 2>&1 ||
      die "real node: ctr images import $ndir/images/$img.tar failed (log: $RUN_DIR/logs/containerd.log)"
  done

  node_make_cgroups
  state_set NODE_CGROUPS 1
  local p_kubelet p_kubelet_healthz p_proxy_healthz p_proxy_metrics
  pick_port; p_kubelet=$PORT; pick_port; p_kubelet_healthz=$PORT
  pick_port; p_proxy_healthz=$PORT; pick_port; p_proxy_metrics=$PORT
  state_set PORT_kubelet "$p_kubelet"; state_set PORT_kube-proxy "$p_proxy_healthz"
  # What the kubelet needs on this machine (cgroup v1, not systemd, no CAP_SYS_RESOURCE, no
  # registry): see the README. Everything it writes is under the run directory.
  : >"$d/resolv.conf"
  cat >"$d/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: $p_kubelet
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $p_kubelet_healthz
tlsCertFile: $RUN_DIR/pki/kubelet.crt
tlsPrivateKeyFile: $RUN_DIR/pki/kubelet.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $RUN_DIR/pki/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://$sock
imageServiceEndpoint: unix://$sock
cgroupDriver: cgroupfs
cgroupRoot: $NODE_CGROUP_ROOT
failCgroupV1: false
failSwapOn: false
enforceNodeAllocatable: []
localStorageCapacityIsolation: false
protectKernelDefaults: false
clusterDNS: [$CLUSTER_DNS_IP]
clusterDomain: cluster.local
resolvConf: $d/resolv.conf
podLogsDir: $d/pod-logs
podCIDR: $NODE_POD_CIDR
volumePluginDir: $d/volume-plugins
registerNode: true
rotateCertificates: false
serverTLSBootstrap: false
nodeStatusReportFrequency: 10s
syncFrequency: 10s
fileCheckFrequency: 10s
EOF
  local taint=()
  # Beside kwok nodes, only pods that ask (toleration) land on the real node: the others use
  # images no registry serves. Alone (KNE_TESTENV_NODES=0), it takes every pod.
  [ "$NODE_COUNT" = 0 ] || taint=(--register-with-taints=kne.dev/real-node=true:NoSchedule)
  node_save_sysctls
  local absent="" m
  for m in "${NODE_SHARED_DIRS[@]}"; do [ -e "$m" ] || absent+="$m "; done
  state_set NODE_SHARED_DIRS_ABSENT "$absent"
  state_set NODE_NFT_TABLES_BEFORE "$(nft list tables | awk '{ printf "%s:%s ", $2, $3 }')"
  pid=$(start_exe kubelet "$nbin/kubelet" --config="$d/kubelet.yaml" --kubeconfig="$d/kubelet.kubeconfig" \
    --root-dir="$d/kubelet" --cert-dir="$d/kubelet/pki" --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" \
    --node-labels="type=real,kne.dev/real-node=true" "${taint[@]}" --v=1)
  state_set NODE_KUBELET 1
  wait_for kubelet 120 "$pid" "$nbin/kubelet" \
    "$BIN/kubectl" --kubeconfig "$KC" wait --for=condition=Ready "node/$NODE_NAME" --timeout=1s

  cat >"$d/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: nftables
clientConnection: {kubeconfig: $d/kube-proxy.kubeconfig}
hostnameOverride: $NODE_NAME
clusterCIDR: $NODE_POD_CIDR
healthzBindAddress: 127.0.0.1:$p_proxy_healthz
metricsBindAddress: 127.0.0.1:$p_proxy_metrics
nodePortAddresses: ["$NODE_IP/32"]
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
  udpTimeout: 0s
  udpStreamTimeout: 0s
EOF
  pid=$(start_exe kube-proxy "$nbin/kube-proxy" --config="$d/kube-proxy.yaml" --v=1)
  wait_for kube-proxy 60 "$pid" "$nbin/kube-proxy" curl -fsS "http://127.0.0.1:$p_proxy_healthz/healthz"

  node_dns
  state_set NODE_READY 1
  log "real node $NODE_NAME Ready with kube-proxy and CoreDNS in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
}

# CoreDNS as the cluster DNS: a Deployment on the real node behind the kube-dns Service at
# CLUSTER_DNS_IP; it reads Services through the API server's `kubernetes` Service.
node_dns() {
  local api_port; api_port="$(state_get PORT_kube-apiserver)"
  "$BIN/kubectl" --kubeconfig "$KC" apply -f - >/dev/null <<EOF
# The API server's endpoint behind the kubernetes Service, for in-cluster clients (the API
# server runs with --endpoint-reconciler-type=none).
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kubernetes
  namespace: default
  labels:
    kubernetes.io/service-name: kubernetes
    endpointslice.kubernetes.io/managed-by: kne-testenv
addressType: IPv4
endpoints:
- addresses: [$NODE_IP]
  conditions: {ready: true}
ports:
- {name: https, port: $api_port, protocol: TCP}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: coredns, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:coredns"}
rules:
- apiGroups: [""]
  resources: [services, namespaces, pods]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "system:coredns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:coredns"}
subjects:
- {kind: ServiceAccount, name: coredns, namespace: kube-system}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: coredns, namespace: kube-system}
data:
  Corefile: |
    .:53 {
        errors
        health :8080
        ready :8181
        kubernetes cluster.local in-addr.arpa ip6.arpa {
            pods insecure
            fallthrough in-addr.arpa ip6.arpa
        }
        cache 30
        loadbalance
    }
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  replicas: 1
  selector: {matchLabels: {k8s-app: kube-dns}}
  template:
    metadata: {labels: {k8s-app: kube-dns}}
    spec:
      serviceAccountName: coredns
      dnsPolicy: Default
      nodeSelector: {kubernetes.io/hostname: $NODE_NAME}
      tolerations: [{key: kne.dev/real-node, operator: Exists, effect: NoSchedule}]
      containers:
      - name: coredns
        image: $(state_get IMAGE_coredns)
        imagePullPolicy: Never
        args: ["-conf", "/etc/coredns/Corefile"]
        ports:
        - {name: dns, containerPort: 53, protocol: UDP}
        - {name: dns-tcp, containerPort: 53, protocol: TCP}
        volumeMounts: [{name: config, mountPath: /etc/coredns, readOnly: true}]
        readinessProbe: {httpGet: {path: /ready, port: 8181}, periodSeconds: 1}
        livenessProbe: {httpGet: {path: /health, port: 8080}, periodSeconds: 10}
        resources: {limits: {memory: 170Mi}, requests: {cpu: 50m, memory: 30Mi}}
      volumes:
      - {name: config, configMap: {name: coredns}}
---
apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  clusterIP: $CLUSTER_DNS_IP
  selector: {k8s-app: kube-dns}
  ports:
  - {name: dns, port: 53, protocol: UDP, targetPort: 53}
  - {name: dns-tcp, port: 53, protocol: TCP, targetPort: 53}
EOF
  local kpid; kpid="$(state_get PID_kubelet)"
  wait_for kubelet 120 "$kpid" "$(state_get NODE_BIN)/kubelet" \
    "$BIN/kubectl" --kubeconfig "$KC" -n kube-system rollout status deployment/coredns --timeout=1s
}

# --- down: pods first, then the processes, then what they left in the kernel ------------

node_down() {
  local nbin sock rc=0 kc
  nbin="$(state_get NODE_BIN)"
  sock="$(state_get NODE_CONTAINERD_SOCK)"
  kc="$RUN_DIR/kubeconfig"
  # Pods go through the kubelet while it runs: it stops their containers and sandboxes,
  # which releases their CNI addresses and network namespaces.
  if [ -n "$(state_get NODE_KUBELET)" ] && ours "$(state_get PID_kubelet)" "$nbin/kubelet" &&
    ours "$(state_get PID_kube-apiserver)" "$(state_get BIN)/kube-apiserver"; then
    local k="$(state_get BIN)/kubectl"
    "$k" --kubeconfig "$kc" cordon "$NODE_NAME" >/dev/null 2>&1 || true
    "$k" --kubeconfig "$kc" -n kube-system delete deployment coredns --wait=false >/dev/null 2>&1 || true
    "$k" --kubeconfig "$kc" delete pods -A --field-selector "spec.nodeName=$NODE_NAME" --grace-period=1 --timeout=60s >/dev/null 2>&1 || true
    node_wait_no_sandboxes "$sock" 30 || log "real node: pod sandboxes still running after their pods were deleted"
  fi
  # The kubelet goes before what is left of its containers (it would restart them), and they
  # go while kube-proxy's rules still stand: a pod's last packets to a ClusterIP (the API
  # server's, from CoreDNS) must still be translated, or the API server waits at its exit
  # for connections whose end it never sees.
  stop_pid kubelet "$(state_get PID_kubelet)" "$nbin/kubelet" || rc=1
  [ -z "$(state_get NODE_NFT_TABLES_BEFORE)" ] || node_remove_kubelet_iptables
  if [ -n "$sock" ] && ours "$(state_get PID_containerd)" "$CONTAINERD_EXE"; then
    node_remove_containers "$sock"
  fi
  stop_pid kube-proxy "$(state_get PID_kube-proxy)" "$nbin/kube-proxy" || rc=1
  # kube-proxy leaves its nft tables (ip and ip6 `kube-proxy`) behind; --cleanup removes them.
  if [ -n "$(state_get PID_kube-proxy)" ] && [ -x "$nbin/kube-proxy" ]; then
    "$nbin/kube-proxy" --cleanup >>"$RUN_DIR/logs/kube-proxy.log" 2>&1 || true
  fi
  stop_pid containerd "$(state_get PID_containerd)" "$CONTAINERD_EXE" || rc=1
  node_kill_shims "$sock"
  node_release_kernel_objects || rc=1
  return $rc
}

node_wait_no_sandboxes() { # node_wait_no_sandboxes SOCK SECONDS: until no task runs in k8s.io
  local i
  for i in $(seq 1 $(($2 * 5))); do
    [ -z "$("$CTR_EXE" --address "$1" -n k8s.io tasks ls -q 2>/dev/null)" ] && return 0
    sleep 0.2
  done
  return 1
}

# What the kubelet did not remove: kill and delete every task and container in k8s.io, then
# let containerd drop the images' snapshots with the containers.
node_remove_containers() {
  local sock="$1" id
  for id in $("$CTR_EXE" --address "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
    "$CTR_EXE" --address "$sock" -n k8s.io tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
  done
  for id in $("$CTR_EXE" --address "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
    for _ in $(seq 1 25); do
      "$CTR_EXE" --address "$sock" -n k8s.io tasks delete "$id" >/dev/null 2>&1 && break
      sleep 0.2
    done
  done
  for id in $("$CTR_EXE" --address "$sock" -n k8s.io containers ls -q 2>/dev/null); do
    "$CTR_EXE" --address "$sock" -n k8s.io containers delete "$id" >/dev/null 2>&1 || true
  done
}

# A shim outlives containerd when its task was never deleted; ours are the ones started with
# our containerd's socket (unique to this run directory).
node_kill_shims() {
  local sock="$1" p
  [ -n "$sock" ] || return 0
  for p in /proc/[0-9]*; do
    case "$(readlink "$p/exe" 2>/dev/null)" in */containerd-shim-runc-v2) ;; *) continue ;; esac
    if tr '\0' '\n' <"$p/cmdline" 2>/dev/null | grep -qxF "$sock"; then
      stop_pid containerd-shim "${p#/proc/}" "$(readlink "$p/exe")" || true
    fi
  done
}

node_release_kernel_objects() {
  local rc=0 m ns id
  # Network namespaces of sandboxes the kubelet did not stop (no CNI DEL ran): the peers of
  # the bridge's ports. Named ones show as `link-netns NAME`; the veth goes with the namespace.
  if ip link show "$NODE_BRIDGE" >/dev/null 2>&1; then
    local ports port
    ports="$(ip -o link show master "$NODE_BRIDGE" 2>/dev/null)"
    for ns in $(sed -n 's/.* link-netns \(cni-[0-9a-f-]*\).*/\1/p' <<<"$ports" | sort -u); do
      ip netns delete "$ns" 2>/dev/null && log "real node: removed network namespace $ns"
    done
    # A namespace outlives its name while anything still refers to it; deleting the host
    # end of each veth takes the pod end with it.
    for port in $(awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' <<<"$ports"); do
      ip link delete "$port" 2>/dev/null || true
    done
    ip link delete "$NODE_BRIDGE" 2>/dev/null || { log "real node: cannot delete $NODE_BRIDGE"; rc=1; }
  fi
  # CNI's result cache (a fixed directory, not configurable in containerd 1.6) of those
  # sandboxes: this network's entries and the loopback entries of this containerd's
  # sandboxes (their ids are the directories of its state).
  rm -f /var/lib/cni/results/"$CNI_NETWORK"-* 2>/dev/null || true
  local sb
  for sb in "$RUN_DIR"/node/containerd/{root,state}/io.containerd.grpc.v1.cri/sandboxes/*/; do
    [ -d "$sb" ] && rm -f "/var/lib/cni/results/cni-loopback-$(basename "$sb")-lo"
  done
  # Mounts under the node's directories (overlay roots, shm, pod volumes), deepest first.
  local d="$RUN_DIR/node"
  for m in $(awk -v d="$d/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || { log "real node: cannot unmount $m"; rc=1; }
  done
  # The kubelet links each container's log into /var/log/containers (a fixed path); links
  # into this node's log directory go with it.
  local l
  for l in /var/log/containers/*.log; do
    [ -L "$l" ] || continue
    case "$(readlink "$l")" in "$d/pod-logs/"*) rm -f "$l" ;; esac
  done
  if [ -n "$(state_get NODE_CGROUPS)" ]; then
    for m in /sys/fs/cgroup/*/; do
      [ -d "$m${NODE_CGROUP_ROOT#/}" ] || continue
      find "$m${NODE_CGROUP_ROOT#/}" -depth -type d -exec rmdir {} + 2>/dev/null ||
        { log "real node: cannot remove cgroup $m${NODE_CGROUP_ROOT#/}"; rc=1; }
    done
  fi
  node_restore_sysctls
  for m in $(state_get NODE_SHARED_DIRS_ABSENT); do
    case " ${NODE_SHARED_DIRS[*]} " in *" $m "*) rmdir "$m" 2>/dev/null || true ;; esac
  done
  return $rc
}

# Last, after the control plane stopped: the API server listens on the node's address (taking
# the address away first leaves it waiting on its own requests at exit).
node_release_network() {
  [ -n "$(state_get NODE_NETWORK)" ] || return 0
  nft delete table inet "$NODE_NFT_TABLE" 2>/dev/null || true
  local before; before="$(state_get NODE_IP_FORWARD_BEFORE)"
  [ -z "$before" ] || echo "$before" >/proc/sys/net/ipv4/ip_forward
  ip link delete "$NODE_ADDRESS_IF" 2>/dev/null || true
}

node_status() {
  local nbin; nbin="$(state_get NODE_BIN)"
  [ -n "$nbin" ] || return 0
  local c pid
  for c in containerd kubelet kube-proxy; do
    pid="$(state_get "PID_$c")"
    local exe="$nbin/$c"
    [ "$c" != containerd ] || exe="$CONTAINERD_EXE"
    if ours "$pid" "$exe"; then echo "  $c: running, pid $pid${c:+, port $(state_get "PORT_$c")}"
    else echo "  $c: not running (pid ${pid:-none})"; fi
  done
  echo "  real node $NODE_NAME: $NODE_IP on $NODE_ADDRESS_IF, pods $NODE_POD_CIDR on $NODE_BRIDGE, DNS $CLUSTER_DNS_IP"
}
