#!/usr/bin/env bash
# What `npm start` and `npm test` run node through: the node on PATH when it is a supported line
# (24 or newer), else the pinned build in .toolchain/ (scripts/toolchain.sh, which `npm install`
# already ran on such a machine), so the README's two commands work where the machine ships an
# older Node.js. Running bin/dealer-gateway.js with an older node directly is refused.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$major" -lt 24 ]; then
  toolchain="$("$root/scripts/toolchain.sh")"
  eval "$toolchain"
fi
exec node "$@"
