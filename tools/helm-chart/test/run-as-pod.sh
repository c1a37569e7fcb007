#!/usr/bin/env bash
# Runs a command with the files a pod's container finds, for a process on this host: meant to
# run under `unshare --mount --propagation private`, so that the fresh tmpfs on /run (and
# /var/run, its link) exists only for this command and goes away with it.
#   /run/secrets/kubernetes.io/serviceaccount/{token,ca.crt,namespace}  (in-cluster config)
#   /run/secrets/kne/auth/token                                          (the chart's API token)
# usage: run-as-pod.sh SERVICEACCOUNT_DIR AUTH_DIR -- COMMAND [ARGS...]
set -euo pipefail
sa="$1"
auth="$2"
[ "${3:-}" = -- ] || { echo "usage: run-as-pod.sh SERVICEACCOUNT_DIR AUTH_DIR -- COMMAND [ARGS...]" >&2; exit 2; }
shift 3
mount -t tmpfs -o size=1m,mode=0755 kne-pod-run /run
mkdir -p /run/secrets/kubernetes.io/serviceaccount /run/secrets/kne/auth
cp "$sa/token" "$sa/ca.crt" "$sa/namespace" /run/secrets/kubernetes.io/serviceaccount/
cp "$auth/token" /run/secrets/kne/auth/token
exec "$@"
