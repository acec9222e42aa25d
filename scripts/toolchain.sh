#!/usr/bin/env bash
# The project's Node.js, in one command: downloads the pinned official build of a supported LTS
# line (the node-<os>-<arch> package of the npm registry carries the binary and its headers) into
# .toolchain/, once, and prints the environment that puts it first on PATH and makes node-gyp
# compile native modules (better-sqlite3) against its headers instead of fetching them.
#
#   eval "$(scripts/toolchain.sh)"      # Node 26, the version .nvmrc names
#   eval "$(scripts/toolchain.sh 24)"   # the other supported line (CI runs the suite on both)
#
# npm itself is the machine's: it runs on whichever node is first on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

line="${1:-$(cat .nvmrc)}"
case "$line" in
  26) version=26.12.1 ;;
  24) version=24.22.3 ;;
  *) echo "toolchain.sh: supported lines are 24 and 26, not '$line'" >&2; exit 2 ;;
esac
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "toolchain.sh: no Node.js build for $(uname -m)" >&2; exit 2 ;;
esac
os="$(uname -s | tr '[:upper:]' '[:lower:]')"
package="node-${os}-${arch}"
dir="$PWD/.toolchain/${package}-${version}"

if [ ! -x "$dir/bin/node" ]; then
  mkdir -p .toolchain
  tmp="$(mktemp -d .toolchain/download.XXXXXX)"
  # npm pack fetches the tarball through npm's own registry settings (proxy, mirror, cache).
  (cd "$tmp" && npm pack "${package}@${version}" --silent >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp"
  rm -rf "$dir"
  mv "$tmp/package" "$dir"
  rm -rf "$tmp"
fi
"$dir/bin/node" --version >/dev/null

echo "export PATH=\"$dir/bin:\$PATH\""
echo "export npm_config_nodedir=\"$dir\""
