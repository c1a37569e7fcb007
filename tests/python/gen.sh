#!/usr/bin/env bash
# Generates Python message and gRPC stubs from proto/ with grpc_tools.protoc.
#   tests/python/gen.sh [PYTHON] [OUT_DIR]
# PYTHON: an interpreter with requirements.txt installed (default: the cached venv that
# ensure-venv.sh prints). OUT_DIR: default tests/python/.gen (ignored by git; generated
# Python is never committed).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${1:-$("$here/ensure-venv.sh")/bin/python}"
out="${2:-$here/.gen}"

rm -rf "$out"
mkdir -p "$out"
# Only what the client uses: grpc/ protos would generate a `grpc` package beside grpcio's.
"$python" -m grpc_tools.protoc \
  --proto_path="$root/proto" \
  --python_out="$out" \
  --pyi_out="$out" \
  --grpc_python_out="$out" \
  "$root/proto/topo/topo.proto" \
  "$root/proto/kne/manager/v1/manager.proto" \
  "$root/proto/controller/controller.proto"
echo "$out"
