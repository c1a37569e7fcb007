#!/usr/bin/env bash
# Prints chart values (images.<app>.repository/tag and topologyManager.imageOverrides) for the
# images of the image build's list, for `helm install -f FILE`:
#
#   bash tools/helm-chart/image-values.sh [IMAGES_JSON] > kne-images.yaml
#
# IMAGES_JSON defaults to the list the last `bash tools/images/build.sh` wrote.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$(bash tools/setup/install-node.sh --print):$PATH"
exec node --import tsx tools/helm-chart/src/image-values-main.ts "$@"
