#!/usr/bin/env bash
# Install everything the tests need, then run every check: lint, types, the Python suites
# (core, worker, providers, LSP, benchmarks smoke, real Neovim, real VS Code, real local model)
# and the VS Code extension's unit tests. Safe to re-run; heavy installs are cached.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test,bench,local]'
export PATH="$PWD/.venv/bin:$PATH"

echo "== lint and types"
ruff check server tests
ruff format --check server tests
mypy

echo "== VS Code extension: build, unit tests, package"
bash scripts/build-extension.sh

echo "== real VS Code (code-server), cached outside the checkout"
bash scripts/install-code-server.sh

echo "== pytest"
pytest -q -ra "$@"
