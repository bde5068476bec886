#!/usr/bin/env bash
# Glass-to-glass call setup in Chromium (e2e/bench-glass.mjs): a simulated
# door station (`linli sim`, real SIP, H.264 and G.711) calls 9900 twenty
# times; a 物业管理员 has 门口呼叫 open in headless Chromium with a fake
# camera and microphone. Prints p50/p95/min/max of INVITE → first decoded
# video frame in the page, and 接听 → two-way audio (the door station counts
# the browser's audio and the page's inbound audio grows), in ms, and the
# door station's key frame requests. All on loopback; about a minute.
#
# Usage: scripts/bench-glass.sh   Knobs (env): CALLS=20
# Needs go, node and Debian's chromium (CHROMIUM=path for another).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(mktemp -d)/linli
trap 'rm -rf "$(dirname "$BIN")"' EXIT
go build -o "$BIN" ./cmd/linli
[ -d e2e/node_modules/playwright-core ] || (cd e2e && npm ci --no-audit --no-fund --loglevel=error)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
LINLI_BIN="$BIN" node e2e/bench-glass.mjs
