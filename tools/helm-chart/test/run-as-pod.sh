#!/usr/bin/env bash
# Runs a command with the files a pod's container finds under /run/secrets (the
# ServiceAccount's token, ca.crt and namespace in kubernetes.io/serviceaccount/, the chart's
# API token in kne/auth/, its TLS files in kne/tls/), for a process on this host. Meant to run
# under `unshare --mount --propagation private`: the fresh tmpfs on /run (and /var/run, its
# link) exists only for this command and goes away with it.
# usage: run-as-pod.sh SECRETS_DIR -- COMMAND [ARGS...]   (SECRETS_DIR becomes /run/secrets)
set -euo pipefail
secrets="$1"
[ "${2:-}" = -- ] || { echo "usage: run-as-pod.sh SECRETS_DIR -- COMMAND [ARGS...]" >&2; exit 2; }
shift 2
mount -t tmpfs -o size=1m,mode=0755 kne-pod-run /run
cp -r "$secrets" /run/secrets
exec "$@"
