#!/usr/bin/env bash
# Prints the path of a virtualenv with tests/python/requirements.txt installed, creating it
# on first use. Venvs are cached outside the repo, keyed by the requirements' hash, so a
# fresh machine builds one once and later runs reuse it:
#   ${KNE_PYTHON_VENV_CACHE:-/var/cache/kne-python-venv}/<hash>
# The interpreter is the first of $KNE_PYTHON, python3 on PATH, /usr/bin/python3 that can
# make a venv with pip (Debian's python3 lacks ensurepip unless python3-venv is installed).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
requirements="$here/requirements.txt"
cache="${KNE_PYTHON_VENV_CACHE:-/var/cache/kne-python-venv}"
key="$(sha256sum "$requirements" | cut -c1-16)"
venv="$cache/$key"

if [[ -x "$venv/bin/python" && -f "$venv/.complete" ]]; then
  echo "$venv"
  exit 0
fi

python=""
for candidate in "${KNE_PYTHON:-}" "$(command -v python3 || true)" /usr/bin/python3; do
  [[ -n "$candidate" && -x "$candidate" ]] || continue
  if "$candidate" -c 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 9) else 1)' 2>/dev/null; then
    python="$candidate"
    break
  fi
done
if [[ -z "$python" ]]; then
  echo "ensure-venv: no python3 (>= 3.9) with the venv and ensurepip modules; install python3-venv" >&2
  exit 1
fi

mkdir -p "$cache"
# Build beside the final path and rename, so a killed run never leaves a half-made venv in use.
staging="$(mktemp -d "$cache/.staging-$key-XXXXXX")"
trap 'rm -rf "$staging"' EXIT
"$python" -m venv "$staging" >&2
# Venvs hard-code their path in scripts; run pip as a module so the staging path never matters.
"$staging/bin/python" -m pip install --disable-pip-version-check --quiet --requirement "$requirements" >&2
touch "$staging/.complete"
if ! mv -T "$staging" "$venv" 2>/dev/null; then
  # Another run finished first; use its venv.
  [[ -f "$venv/.complete" ]] || { echo "ensure-venv: could not place $venv" >&2; exit 1; }
fi
trap - EXIT
rm -rf "$staging"
echo "$venv"
