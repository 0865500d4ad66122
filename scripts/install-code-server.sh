#!/usr/bin/env bash
# Install code-server 4.100.3 (VS Code 1.100.3) and headless Chromium for the VS Code end-to-end test.
#
#   bash scripts/install-code-server.sh          # installs (or checks) and prints the code-server path
#
# Where:   ${EAGER_CODE_SERVER_DIR:-~/.cache/eager-lsp/code-server-4.100.3}  (outside the checkout,
#          so later runs on the same machine reuse it).
# Why not a plain `npm install code-server`: its install builds native modules and @vscode/ripgrep
# downloads a ripgrep binary from GitHub, which this machine cannot reach. We seed that package's
# download cache with Debian's ripgrep, so the post-install finds it locally (docs/vscode.md).
# Idempotent: when the cache holds a working code-server and chromium is present, it does nothing.
set -euo pipefail

VERSION="4.100.3"
DEST="${EAGER_CODE_SERVER_DIR:-$HOME/.cache/eager-lsp/code-server-$VERSION}"
BIN="$DEST/node_modules/.bin/code-server"
MARKER="$DEST/.installed-ok"

log() { printf '[install-code-server] %s\n' "$*" >&2; }

sudo_if_needed() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

code_server_works() {
  [ -x "$BIN" ] && [ -f "$MARKER" ] && "$BIN" --version 2>/dev/null | grep -q "^$VERSION"
}

apt_ok() {
  command -v chromium >/dev/null 2>&1 && command -v rg >/dev/null 2>&1 \
    && dpkg -s libkrb5-dev >/dev/null 2>&1
}

if apt_ok && code_server_works; then
  log "code-server $VERSION already installed in $DEST"
  echo "$BIN"
  exit 0
fi

# --- 1. Debian packages: kerberos headers (native module build), ripgrep (seed), chromium (driver).
if ! apt_ok; then
  log "apt-get install libkrb5-dev ripgrep chromium build-essential"
  export DEBIAN_FRONTEND=noninteractive
  sudo_if_needed apt-get update -qq
  sudo_if_needed apt-get install -y -qq libkrb5-dev ripgrep chromium build-essential >/dev/null
fi

command -v node >/dev/null || { log "node is required (Node 20; code-server $VERSION runs on it)"; exit 1; }
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  log "Node >= 20 is required, found $(node --version)"; exit 1
fi

if code_server_works; then
  echo "$BIN"; exit 0
fi

# --- 2. Seed @vscode/ripgrep's download cache with Debian's rg.
# @vscode/ripgrep looks in $TMPDIR/vscode-ripgrep-cache-<its version>/ for
# ripgrep-<tag>-<target>.tar.gz before it tries to download.
tmp_root="$(node -p 'require("os").tmpdir()')"
stage="$(mktemp -d)"
cp "$(command -v rg)" "$stage/rg"
for rgver in 1.15.9 1.15.10 1.15.11 1.15.12 1.15.13 1.15.14; do
  cache="$tmp_root/vscode-ripgrep-cache-$rgver"
  mkdir -p "$cache"
  for tag in v13.0.0-4 v13.0.0-10 v13.0.0-13; do
    f="$cache/ripgrep-$tag-x86_64-unknown-linux-musl.tar.gz"
    [ -s "$f" ] || tar -czf "$f" -C "$stage" rg
  done
done
rm -rf "$stage"

# --- 3. npm install into the cache directory.
log "npm install code-server@$VERSION into $DEST (takes several minutes: native modules build)"
mkdir -p "$DEST"
rm -f "$MARKER"
[ -f "$DEST/package.json" ] || printf '{"name":"eager-code-server-cache","private":true}\n' >"$DEST/package.json"
(
  cd "$DEST"
  # npm_config_yes lets node-pty's post-install run `npx node-gyp` without a prompt.
  npm_config_yes=true npm install --unsafe-perm --no-audit --no-fund --loglevel=error \
    "code-server@$VERSION" >&2
)

if ! "$BIN" --version 2>/dev/null | grep -q "^$VERSION"; then
  log "code-server did not install correctly: '$BIN --version' failed"; exit 1
fi
touch "$MARKER"
log "installed: $("$BIN" --version | head -1)"
echo "$BIN"
