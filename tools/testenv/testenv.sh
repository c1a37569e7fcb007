#!/usr/bin/env bash
# A real Kubernetes control plane on loopback, for tests: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and kwok (simulated nodes whose pods get scheduled,
# Running and Ready). Every binary is built from the Go module proxy at pinned versions
# (tools/testenv/build/*/go.mod) and cached outside the repository.
#
#   testenv.sh build [--all] [--real-node]  build what the cache lacks (many minutes on a new
#                       machine); --all adds helm (so does KNE_TESTENV_HELM=1), --real-node the node's
#                       kubelet, kube-proxy, coredns and images
#   testenv.sh up [--real-node]  build if needed, start everything, create the fake nodes, print the
#                       kubeconfig path; --real-node (or KNE_TESTENV_REAL_NODE=1) adds a real worker
#                       node: containerd, kubelet, kube-proxy and CoreDNS (real-node.sh)
#   testenv.sh env      print `export KUBECONFIG=...` (and PATH for kubectl, helm) for a running environment
#   testenv.sh status   say what runs
#   testenv.sh down     stop exactly the processes `up` started and remove the run directory
#   testenv.sh bin      print the directory that holds the built binaries
#
# Environment:
#   KNE_TESTENV_CACHE   cache root (default /var/cache/kne-testenv); binaries in <root>/<version-key>/bin
#   KNE_TESTENV_DIR     run directory: state file, certificates, etcd data, logs, kubeconfig
#                       (default ${TMPDIR:-/tmp}/kne-testenv)
#   KNE_TESTENV_NODES   number of fake nodes created at `up` (default 3)
#   KNE_TESTENV_BUILD_JOBS  `go build -p` (default: number of CPUs)
#   KNE_TESTENV_NO_BUILD=1  fail instead of building when the cache lacks binaries
#   KNE_TESTENV_HELM=1  build helm too
#   KNE_TESTENV_REAL_NODE=1  `up` starts the real node too
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD_DIR="$HERE/build"

# Ranges that never collide with anything real here: services from the RFC 2544 benchmarking
# block, pod IPs (handed out by kwok, never routed) from the other half of it. The upper half
# of 198.18.0.0/16 belongs to the real node (real-node.sh lists every range).
SERVICE_CIDR="198.18.0.0/17"
POD_CIDR="198.19.0.0/16"
NODE_COUNT="${KNE_TESTENV_NODES:-3}"

log() { printf 'testenv: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- versions and the cache --------------------------------------------------------------

modver() { # modver DIR MODULE: the version DIR/go.mod requires
  awk -v m="$2" '($1 == m) { print $2; exit } ($1 == "require" && $2 == m) { print $3; exit }' "$BUILD_DIR/$1/go.mod"
}
K8S_VERSION="$(modver k8s k8s.io/kubernetes)"
ETCD_VERSION="$(modver etcd go.etcd.io/etcd/server/v3)"
KWOK_VERSION="$(modver kwok sigs.k8s.io/kwok)"
HELM_VERSION="$(modver helm helm.sh/helm/v3)"
[ -n "$K8S_VERSION" ] && [ -n "$ETCD_VERSION" ] && [ -n "$KWOK_VERSION" ] && [ -n "$HELM_VERSION" ] ||
  die "cannot read the pinned versions from $BUILD_DIR/*/go.mod"

# What `up` needs, and what `build --all` (or KNE_TESTENV_HELM=1) adds.
CORE_BINS=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok kwokctl)
EXTRA_BINS=(helm)
LDFLAGS_BASE="-s -w"
# Bump when build() changes what it produces (flags, binaries, files), so caches rebuild.
BUILD_RECIPE=1

version_key() {
  local h
  h="$({
    go env GOVERSION GOOS GOARCH CGO_ENABLED
    echo "$LDFLAGS_BASE"
    cat "$BUILD_DIR"/*/go.mod "$BUILD_DIR"/*/go.sum
    echo "recipe=$BUILD_RECIPE"
  } | sha256sum | cut -c1-10)"
  echo "k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_helm-${HELM_VERSION}_${h}"
}

CACHE_ROOT="${KNE_TESTENV_CACHE:-/var/cache/kne-testenv}"
cache_dir() { echo "$CACHE_ROOT/$(version_key)"; }

group_bins() { # the binaries a build group produces
  case "$1" in
    etcd) echo etcd ;;
    k8s) echo kube-apiserver kube-controller-manager kube-scheduler kubectl ;;
    kwok) echo kwok kwokctl ;;
    helm) echo helm ;;
  esac
}

missing_groups() { # missing_groups DIR WANT_HELM: the build groups whose output is not cached
  local dir="$1" g b out=""
  for g in etcd k8s kwok helm; do
    [ "$g" != helm ] || [ "$2" = 1 ] || continue
    for b in $(group_bins "$g"); do
      if [ ! -x "$dir/bin/$b" ]; then out+="$g "; break; fi
    done
  done
  [ -f "$dir/share/kwok-stages.yaml" ] || case " $out " in *" kwok "*) ;; *) out+="kwok " ;; esac
  echo "$out"
}

build() { # build [--all] [--real-node]: build what the cache lacks (helm only with --all or KNE_TESTENV_HELM=1)
  local want_helm="${KNE_TESTENV_HELM:-0}" a
  for a in "$@"; do
    case "$a" in
      --all) want_helm=1 ;;
      --real-node) WANT_REAL_NODE=1 ;;
      *) die "build: unknown option $a (--all, --real-node)" ;;
    esac
  done
  # The node's groups have their own cache key and lock, so they build while another process
  # holds the control plane's lock.
  [ "$WANT_REAL_NODE" != 1 ] || node_build
  build_control_plane "$want_helm"
}

build_control_plane() { # build_control_plane WANT_HELM
  local want_helm="$1"
  local dir; dir="$(cache_dir)"
  local todo; todo="$(missing_groups "$dir" "$want_helm")"
  if [ -z "$todo" ]; then
    log "binaries cached in $dir/bin"
    return 0
  fi
  [ "${KNE_TESTENV_NO_BUILD:-0}" != 1 ] || die "binaries missing in $dir ($todo) and KNE_TESTENV_NO_BUILD=1"
  command -v go >/dev/null || die "go is not installed (Go 1.26 builds the control plane)"
  mkdir -p "$dir"
  # One build at a time per version (a test and a shell may both ask).
  exec 8>"$dir/.build.lock"
  flock 8
  todo="$(missing_groups "$dir" "$want_helm")"
  if [ -z "$todo" ]; then flock -u 8; log "binaries cached in $dir/bin"; return 0; fi

  local jobs="${KNE_TESTENV_BUILD_JOBS:-$(nproc)}" tmp="$dir/tmp.$$" start end blog="$dir/build.log"
  rm -rf "$dir"/tmp.*; mkdir -p "$tmp" "$dir/bin" "$dir/share"
  : >"$blog"
  # The go command's output goes to the build log; its tail is shown if a step fails.
  quiet() { "$@" >>"$blog" 2>&1 || { log "failed: $*"; tail -n 40 "$blog" >&2; return 1; }; }
  export GOFLAGS="-trimpath -buildvcs=false -mod=readonly" GOTOOLCHAIN=local
  start=$(date +%s)
  log "building ${todo% } into $dir/bin; a new machine takes many minutes; log: $blog"

  local k8s_minor="${K8S_VERSION#v1.}"; k8s_minor="${k8s_minor%%.*}"
  local kv="" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    kv+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$k8s_minor -X $p.gitTreeState=clean"
  done
  local -A pkgs=(
    [etcd]="go.etcd.io/etcd/server/v3"
    [k8s]="k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl"
    [kwok]="sigs.k8s.io/kwok/cmd/kwok sigs.k8s.io/kwok/cmd/kwokctl"
    [helm]="helm.sh/helm/v3/cmd/helm"
  )
  local -A ldflags=(
    [etcd]="$LDFLAGS_BASE"
    [k8s]="$LDFLAGS_BASE$kv"
    [kwok]="$LDFLAGS_BASE -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=$K8S_VERSION"
    [helm]="$LDFLAGS_BASE -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  )
  local -A versions=([etcd]=$ETCD_VERSION [k8s]=$K8S_VERSION [kwok]=$KWOK_VERSION [helm]=$HELM_VERSION)
  local g t secs
  for g in $todo; do
    t=$(date +%s)
    log "  $g ${versions[$g]}: $(group_bins "$g")"
    # shellcheck disable=SC2086 # package lists
    (cd "$BUILD_DIR/$g" && quiet go list -deps ${pkgs[$g]})
    local fetched=$(($(date +%s) - t))
    if [ "$g" = etcd ]; then
      # The main package is the module root: name the output, or it would be called v3.
      (cd "$BUILD_DIR/$g" && quiet go build -p "$jobs" -ldflags "${ldflags[$g]}" -o "$tmp/etcd" ${pkgs[$g]})
    else
      # shellcheck disable=SC2086
      (cd "$BUILD_DIR/$g" && quiet go build -p "$jobs" -ldflags "${ldflags[$g]}" -o "$tmp/" ${pkgs[$g]})
    fi
    if [ "$g" = kwok ]; then
      # kwok's default stages (what kwokctl gives a cluster): nodes become Ready and keep a
      # lease; pods become Running and Ready, complete, and go away when deleted.
      local kd f first=1
      kd="$(cd "$BUILD_DIR/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
      for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
        pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
        [ $first = 1 ] || echo "---"
        first=0
        cat "$kd/kustomize/stage/$f"
      done >"$tmp/kwok-stages.yaml"
      mv -f "$tmp/kwok-stages.yaml" "$dir/share/kwok-stages.yaml"
    fi
    for p in $(group_bins "$g"); do mv -f "$tmp/$p" "$dir/bin/$p"; done
    secs=$(($(date +%s) - t))
    log "    done in $secs s (module fetch $fetched s)"
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $g ${versions[$g]} ${secs}s fetch=${fetched}s go=$(go env GOVERSION) jobs=$jobs nproc=$(nproc)" >>"$dir/build-info.txt"
  done
  rm -rf "$tmp"
  end=$(date +%s)
  flock -u 8
  log "built in $((end - start)) s; $dir/bin holds $(cd "$dir/bin" && du -sh --apparent-size . | cut -f1)"
}

# --- the run directory and its state file ------------------------------------------------

RUN_DIR="${KNE_TESTENV_DIR:-${TMPDIR:-/tmp}/kne-testenv}"
STATE="$RUN_DIR/state.env"
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

state_get() { # state_get KEY
  [ -f "$STATE" ] || return 0
  awk -F= -v k="$1" '$1 == k { sub(/^[^=]*=/, ""); print; exit }' "$STATE"
}
state_set() { echo "$1=$2" >>"$STATE"; }

# Is PID alive and still the process we started (its executable is our binary)?
ours() {
  local pid="$1" exe="$2"
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$exe" ]
}

# Gone: no such process, or only a zombie left for its parent (or init) to reap.
gone() {
  local st
  st="$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" || return 0
  [ -z "$st" ] || [ "$st" = Z ] || [ "$st" = X ]
}

stop_pid() { # stop_pid NAME PID EXE
  local name="$1" pid="$2" exe="$3" i
  ours "$pid" "$exe" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do gone "$pid" && { log "stopped $name (pid $pid)"; return 0; }; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do gone "$pid" && { log "killed $name (pid $pid)"; return 0; }; sleep 0.1; done
  log "warning: $name (pid $pid) did not exit"
  return 1
}

down() {
  if [ ! -f "$STATE" ]; then
    [ -d "$RUN_DIR" ] && rm -rf "$RUN_DIR"
    log "not running"
    return 0
  fi
  local bin c rc=0 i
  bin="$(state_get BIN)"
  # The real node first: its pods are deleted through the API server while it still runs.
  if [ -n "$(state_get NODE_BIN)" ] || [ -n "$(state_get NODE_NETWORK)" ]; then node_down || rc=1; fi
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
    c="${COMPONENTS[$i]}"
    stop_pid "$c" "$(state_get "PID_$c")" "$bin/$c" || rc=1
  done
  node_release_network
  if [ $rc = 0 ]; then
    rm -rf "$RUN_DIR"
    log "down: removed $RUN_DIR"
  else
    log "down: some processes did not exit; $RUN_DIR kept"
  fi
  return $rc
}

# Prints running / stopped / partial for the recorded environment.
run_state() {
  [ -f "$STATE" ] || { echo absent; return; }
  local bin c alive=0 dead=0
  bin="$(state_get BIN)"
  for c in "${COMPONENTS[@]}"; do
    if [ -z "$(state_get "PID_$c")" ]; then continue; fi
    if ours "$(state_get "PID_$c")" "$bin/$c"; then alive=$((alive + 1)); else dead=$((dead + 1)); fi
  done
  local nbin; nbin="$(state_get NODE_BIN)"
  if [ -n "$nbin" ]; then
    for c in kubelet kube-proxy; do
      if ours "$(state_get "PID_$c")" "$nbin/$c"; then alive=$((alive + 1)); else dead=$((dead + 1)); fi
    done
    if ours "$(state_get PID_containerd)" "$CONTAINERD_EXE"; then alive=$((alive + 1)); else dead=$((dead + 1)); fi
  fi
  if [ "$(state_get READY)" = 1 ] && [ $dead = 0 ] && [ $alive -gt 0 ]; then echo running
  elif [ $alive = 0 ]; then echo stopped
  else echo partial
  fi
}

status() {
  local s; s="$(run_state)"
  if [ "$s" = absent ]; then echo "testenv: not running (no $STATE)"; return 3; fi
  local bin c pid; bin="$(state_get BIN)"
  echo "testenv: $s — run dir $RUN_DIR, kubeconfig $(state_get KUBECONFIG)"
  echo "  versions: k8s $(state_get K8S_VERSION), etcd $ETCD_VERSION, kwok $KWOK_VERSION; binaries $bin"
  for c in "${COMPONENTS[@]}"; do
    pid="$(state_get "PID_$c")"
    if ours "$pid" "$bin/$c"; then echo "  $c: running, pid $pid, port $(state_get "PORT_$c")"
    else echo "  $c: not running (pid ${pid:-none})"; fi
  done
  node_status
  if [ "$s" = running ] && [ -x "$bin/kubectl" ]; then
    "$bin/kubectl" --kubeconfig "$(state_get KUBECONFIG)" get nodes -o wide 2>&1 | sed 's/^/  /' || true
  fi
  [ "$s" = running ]
}

env_cmd() {
  [ "$(run_state)" = running ] || die "not running: run '$0 up' first"
  echo "export KUBECONFIG=$(state_get KUBECONFIG)"
  echo "export PATH=$(state_get BIN):\$PATH"
}

# --- up ----------------------------------------------------------------------------------

# A port no socket uses in any state (listening, connected, TIME_WAIT).
port_free() { ! ss -Htan "sport = :$1" 2>/dev/null | grep -q .; }
USED_PORTS=" "
PORT=
# Ports are picked outside the kernel's ephemeral range: a port inside it can be taken by an
# outgoing connection between the check and the bind (etcd then fails: address already in use).
read -r EPHEMERAL_LOW EPHEMERAL_HIGH < /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || { EPHEMERAL_LOW=32768; EPHEMERAL_HIGH=60999; }
if [ "$EPHEMERAL_LOW" -gt 12000 ]; then PORT_BASE=10000; PORT_SPAN=$((EPHEMERAL_LOW - 10000))
else PORT_BASE=$((EPHEMERAL_HIGH + 1)); PORT_SPAN=$((65535 - EPHEMERAL_HIGH)); fi
[ "$PORT_SPAN" -ge 100 ] || { PORT_BASE=20000; PORT_SPAN=30000; }
pick_port() { # sets PORT to a free loopback port not handed out before in this run
  local p i
  for i in $(seq 1 200); do
    p=$((PORT_BASE + RANDOM % PORT_SPAN))
    case "$USED_PORTS" in *" $p "*) continue ;; esac
    if port_free "$p"; then USED_PORTS+="$p "; PORT=$p; return 0; fi
  done
  die "no free port found"
}

wait_for() { # wait_for WHAT SECONDS PID EXE COMMAND...
  local what="$1" secs="$2" pid="$3" exe="$4" i
  shift 4
  for i in $(seq 1 $((secs * 5))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    ours "$pid" "$exe" || { log "$what exited; last lines of its log:"; tail -n 30 "$RUN_DIR/logs/$what.log" >&2 || true; return 1; }
    sleep 0.2
  done
  log "$what not ready after ${secs}s; last lines of its log:"
  tail -n 30 "$RUN_DIR/logs/$what.log" >&2 || true
  return 1
}

start() { # start NAME ARGS...: runs BIN/NAME detached, logs to logs/NAME.log, records its pid
  local name="$1"; shift
  start_exe "$name" "$BIN/$name" "$@"
}

start_exe() { # start_exe NAME EXE ARGS...: runs EXE detached, logs to logs/NAME.log, records its pid
  local name="$1" exe="$2"; shift 2
  setsid "$exe" "$@" </dev/null >"$RUN_DIR/logs/$name.log" 2>&1 &
  local pid=$!
  state_set "PID_$name" "$pid"
  echo "$pid"
}

gen_pki() {
  local d="$RUN_DIR/pki"
  mkdir -p "$d"
  (
    cd "$d"
    umask 077
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
      -subj "/CN=kne-testenv-ca" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
    # The API server's serving certificate: loopback, and the in-cluster names and first
    # service IP of the kubernetes Service.
    openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver" 2>/dev/null
    cat >apiserver.ext <<EOF
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:198.18.0.1,IP:$NODE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
EOF
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt \
      -days 3650 -extfile apiserver.ext 2>/dev/null
    # One client identity for the tests and the components (system:masters).
    openssl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr -subj "/O=system:masters/CN=kne-testenv-admin" 2>/dev/null
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' >admin.ext
    openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out admin.crt \
      -days 3650 -extfile admin.ext 2>/dev/null
    # The front proxy (aggregated API servers): its own CA and the API server's client
    # identity towards them; kube-controller-manager and kube-scheduler read this CA too.
    openssl req -x509 -newkey rsa:2048 -nodes -keyout front-proxy-ca.key -out front-proxy-ca.crt -days 3650 \
      -subj "/CN=kne-testenv-front-proxy-ca" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout front-proxy-client.key -out front-proxy-client.csr -subj "/CN=front-proxy-client" 2>/dev/null
    openssl x509 -req -in front-proxy-client.csr -CA front-proxy-ca.crt -CAkey front-proxy-ca.key -CAcreateserial \
      -out front-proxy-client.crt -days 3650 -extfile admin.ext 2>/dev/null
    # Service-account token signing key pair.
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  )
}

write_kubeconfig() { # write_kubeconfig FILE URL
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kne-testenv
  cluster:
    server: $2
    certificate-authority-data: $(base64 -w0 <"$RUN_DIR/pki/ca.crt")
users:
- name: kne-testenv-admin
  user:
    client-certificate-data: $(base64 -w0 <"$RUN_DIR/pki/admin.crt")
    client-key-data: $(base64 -w0 <"$RUN_DIR/pki/admin.key")
contexts:
- name: kne-testenv
  context:
    cluster: kne-testenv
    user: kne-testenv-admin
current-context: kne-testenv
EOF
  chmod 600 "$1"
}

fake_nodes() { # the manifest of NODE_COUNT kwok nodes
  local i
  for i in $(seq 1 "$NODE_COUNT"); do
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    type: kwok
    kubernetes.io/arch: amd64
    kubernetes.io/os: linux
    kubernetes.io/hostname: kwok-node-$i
    kubernetes.io/role: agent
    node-role.kubernetes.io/agent: ""
status:
  allocatable: {cpu: "64", memory: 256Gi, pods: "1000"}
  capacity: {cpu: "64", memory: 256Gi, pods: "1000"}
EOF
  done
}

up() {
  local a
  for a in "$@"; do
    case "$a" in
      --real-node) WANT_REAL_NODE=1 ;;
      *) die "up: unknown option $a (--real-node)" ;;
    esac
  done
  case "$(run_state)" in
    running)
      if [ "$WANT_REAL_NODE" = 1 ] && [ -z "$(state_get NODE_READY)" ]; then
        die "already up in $RUN_DIR without the real node: run '$0 down' first, then 'up --real-node'"
      fi
      log "already up"
      echo "$(state_get KUBECONFIG)"
      return 0 ;;
    absent) rm -rf "$RUN_DIR" ;;
    *) log "found a stopped or partial environment in $RUN_DIR: tearing it down first"; down || die "cannot clean up the previous environment" ;;
  esac

  if [ "$WANT_REAL_NODE" = 1 ]; then node_check_prerequisites; build --real-node; else build; fi
  local t0 dir; t0=$(date +%s%N); dir="$(cache_dir)"
  BIN="$dir/bin"
  command -v openssl >/dev/null || die "openssl is needed for the certificates"
  command -v ss >/dev/null || die "ss (iproute2) is needed to find free ports"

  mkdir -p "$RUN_DIR/logs"
  mkdir -m 700 "$RUN_DIR/etcd"
  : >"$STATE"
  state_set BIN "$BIN"
  state_set K8S_VERSION "$K8S_VERSION"
  # From here on, any failure tears down what was started.
  # The logs of a failed start are kept beside the run directory.
  trap 'rc=$?; if [ $rc != 0 ]; then
      rm -rf "$RUN_DIR.failed-logs"; cp -r "$RUN_DIR/logs" "$RUN_DIR.failed-logs" 2>/dev/null || true
      log "up failed (exit $rc): tearing down; logs kept in $RUN_DIR.failed-logs"; down || true
    fi' EXIT

  local p_etcd p_peer p_api p_kcm p_sched p_kwok
  pick_port; p_etcd=$PORT; pick_port; p_peer=$PORT; pick_port; p_api=$PORT
  pick_port; p_kcm=$PORT; pick_port; p_sched=$PORT; pick_port; p_kwok=$PORT
  state_set PORT_etcd "$p_etcd"; state_set PORT_kube-apiserver "$p_api"
  state_set PORT_kube-controller-manager "$p_kcm"; state_set PORT_kube-scheduler "$p_sched"
  state_set PORT_kwok "$p_kwok"
  # With the real node the API server listens on the node's address instead of loopback:
  # pods reach it through the `kubernetes` Service, whose endpoint cannot be loopback.
  local api_ip=127.0.0.1
  if [ "$WANT_REAL_NODE" = 1 ]; then node_claim_network; api_ip="$NODE_IP"; fi
  local url="https://$api_ip:$p_api" kc="$RUN_DIR/kubeconfig"
  KC="$kc"
  state_set SERVER "$url"

  gen_pki
  write_kubeconfig "$kc" "$url"
  local pki="$RUN_DIR/pki" pid

  pid=$(start etcd --name=kne-testenv --data-dir="$RUN_DIR/etcd" \
    --listen-client-urls="http://127.0.0.1:$p_etcd" --advertise-client-urls="http://127.0.0.1:$p_etcd" \
    --listen-peer-urls="http://127.0.0.1:$p_peer" --initial-advertise-peer-urls="http://127.0.0.1:$p_peer" \
    --initial-cluster="kne-testenv=http://127.0.0.1:$p_peer" \
    --unsafe-no-fsync --auto-compaction-retention=1 --quota-backend-bytes=4294967296 --log-level=warn)
  wait_for etcd 30 "$pid" "$BIN/etcd" curl -fsS "http://127.0.0.1:$p_etcd/health"

  # --endpoint-reconciler-type=none: on loopback the kubernetes Service's endpoint would be the
  # loopback advertise address, which Endpoints validation refuses; nothing in a kwok cluster
  # dials it. The real node writes that endpoint itself (real-node.sh: the lease reconciler
  # would hold the API server's exit for 10 s, failing to delete its lease through a listener
  # that is already closed).
  pid=$(start kube-apiserver \
    --etcd-servers="http://127.0.0.1:$p_etcd" \
    --bind-address="$api_ip" --advertise-address="$api_ip" --secure-port="$p_api" \
    --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --client-ca-file="$pki/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --requestheader-client-ca-file="$pki/front-proxy-ca.crt" --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$pki/front-proxy-client.crt" --proxy-client-key-file="$pki/front-proxy-client.key" \
    --authorization-mode=Node,RBAC --allow-privileged=true \
    --endpoint-reconciler-type=none \
    --kubelet-client-certificate="$pki/admin.crt" --kubelet-client-key="$pki/admin.key" \
    --kubelet-certificate-authority="$pki/ca.crt" --kubelet-preferred-address-types=InternalIP \
    --max-requests-inflight=1000 --max-mutating-requests-inflight=500 \
    --profiling=false --v=1)
  wait_for kube-apiserver 90 "$pid" "$BIN/kube-apiserver" \
    "$BIN/kubectl" --kubeconfig "$kc" get --raw /readyz

  local common=(--kubeconfig="$kc" --authentication-kubeconfig="$kc" --authorization-kubeconfig="$kc"
    --bind-address=127.0.0.1 --kube-api-qps=500 --kube-api-burst=1000 --profiling=false --v=1)
  pid=$(start kube-controller-manager "${common[@]}" --secure-port="$p_kcm" \
    --controllers='*,-nodeipam' --allocate-node-cidrs=false \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
    --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
    --use-service-account-credentials=true --leader-elect=false)
  pid_kcm=$pid
  pid=$(start kube-scheduler "${common[@]}" --secure-port="$p_sched" --leader-elect=false)
  pid_sched=$pid
  wait_for kube-controller-manager 60 "$pid_kcm" "$BIN/kube-controller-manager" curl -kfsS "https://127.0.0.1:$p_kcm/healthz"
  wait_for kube-scheduler 60 "$pid_sched" "$BIN/kube-scheduler" curl -kfsS "https://127.0.0.1:$p_sched/healthz"

  pid=$(start kwok --kubeconfig="$kc" --config="$dir/share/kwok-stages.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --manage-nodes-with-label-selector= --manage-single-node= \
    --cidr="$POD_CIDR" --node-ip=127.0.0.1 --node-port="$p_kwok" \
    --server-address="127.0.0.1:$p_kwok" --node-lease-duration-seconds=40)
  wait_for kwok 60 "$pid" "$BIN/kwok" curl -fsS "http://127.0.0.1:$p_kwok/healthz"

  if [ "$NODE_COUNT" -gt 0 ]; then
    fake_nodes | "$BIN/kubectl" --kubeconfig "$kc" apply -f - >/dev/null
    wait_for kwok 60 "$pid" "$BIN/kwok" \
      "$BIN/kubectl" --kubeconfig "$kc" wait --for=condition=Ready node -l type=kwok --timeout=1s
  fi
  # Pods need the namespace's default ServiceAccount, which the controller-manager makes.
  wait_for kube-controller-manager 60 "$pid_kcm" "$BIN/kube-controller-manager" \
    "$BIN/kubectl" --kubeconfig "$kc" -n default get serviceaccount default

  [ "$WANT_REAL_NODE" != 1 ] || node_up

  state_set KUBECONFIG "$kc"
  state_set READY 1
  trap - EXIT
  local real=""
  [ "$WANT_REAL_NODE" != 1 ] || real=" and the real node $NODE_NAME"
  log "up in $(( ($(date +%s%N) - t0) / 1000000 )) ms: $url, $NODE_COUNT kwok nodes$real; kubeconfig:"
  echo "$kc"
}

# shellcheck source=real-node.sh
. "$HERE/real-node.sh"
WANT_REAL_NODE="${KNE_TESTENV_REAL_NODE:-0}"

case "${1:-}" in
  build) shift; build "$@" ;;
  bin) echo "$(cache_dir)/bin" ;;
  node-bin) echo "$(node_cache_dir)/bin" ;;
  up) shift; up "$@" ;;
  down) down ;;
  env) env_cmd ;;
  status) status ;;
  key) version_key ;;
  *) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
esac
