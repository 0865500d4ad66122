#!/usr/bin/env bash
# Build the VS Code extension: install its packages, type-check, run its unit tests (node --test)
# and package the .vsix (vscode-extension/eager-lsp.vsix) that the end-to-end test installs.
set -euo pipefail
cd "$(dirname "$0")/../vscode-extension"
npm ci --no-audit --no-fund --loglevel=error
npm run lint
npm test
npm run package
cd ../tests/e2e/vscode
npm ci --no-audit --no-fund --loglevel=error
