#!/usr/bin/env bash
# The whole test suite, as CI runs it: contract checks, typecheck, lint, build, then every
# unit and integration test in one vitest run. Integration tests need root (the kernel,
# real routing daemons); without root they are skipped and say so.
set -uo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PWD/node_modules/.bin:$(bash tools/setup/install-node.sh --print):$PATH"
echo "test-all: node $(node --version)"
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false NX_SKIP_NX_CACHE=${NX_SKIP_NX_CACHE:-false}

step() { printf '\n=== %s\n' "$*"; }
fail=0

step "proto: buf lint"
buf lint || fail=1
step "proto: generated code matches the protos"
node tools/scripts/check-generated.mjs || fail=1
step "proto: buf breaking"
node tools/scripts/buf-breaking.mjs || fail=1
step "typecheck, lint and build of every project"
nx run-many -t typecheck lint build --outputStyle=static --parallel=2 || fail=1

step "tests"
mkdir -p reports
rm -f reports/*.json
# Unit tests run in parallel; integration tests run after them, alone, because they share
# the kernel and some measure it (loss, rate, latency).
vitest run --project unit --reporter=default --reporter=json --outputFile.json=reports/unit.json || fail=1
if [ "$(id -u)" -eq 0 ]; then
  vitest run --project integration --reporter=default --reporter=json --outputFile.json=reports/integration.json || fail=1
else
  echo "integration tests skipped: they need root (network namespaces, veth, tc, nft, routing daemons)"
fi
node tools/scripts/summarize-tests.mjs reports/*.json || fail=1

exit "$fail"
