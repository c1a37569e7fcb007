#!/usr/bin/env bash
# Builds every image under deploy/images (or the ones named) without a container daemon:
# the apps first (nx, cached), then the images (cached by input hash under
# ${KNE_IMAGES_CACHE:-/var/cache/kne-images}). Prints each image's ref, digest and sizes, and
# the list file (images.json / images.tsv) that other scripts read.
#
#   build.sh [NAME...] [--check-reproducible]   build; the flag builds everything again from
#                                                nothing and compares the manifest digests
#   build.sh unpack ARCHIVE DIR                  unpack an image's root file system onto DIR
#   build.sh list                                print the list file's path
#
# Needs root only for what apt needs (nothing is installed on the host).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$(bash tools/setup/install-node.sh --print):$PATH"
case "${1:-}" in
  unpack | list) exec node tools/images/src/main.ts "$@" ;;
esac
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
started=$(date +%s%N)
apps=(topology-manager topology-agent config-bootstrapper service-exposer)
nice npx nx run-many -t build --projects="$(IFS=,; echo "${apps[*]}")" --outputStyle=static >/dev/null
echo "images: apps built in $(( ($(date +%s%N) - started) / 1000000 )) ms" >&2
exec node tools/images/src/main.ts build "$@"
