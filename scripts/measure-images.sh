#!/usr/bin/env bash
# Measures the server's peak memory (RSS) while it decodes uploaded
# pictures: for each path (public 业主申请 photos, face photos, ads) a fresh
# `linli serve` on SQLite receives 20 concurrent worst-case requests, and the
# peak RSS above idle is printed. Snapshots are not measured: the server
# checks their header and end marker and never decodes them.
# Usage: scripts/measure-images.sh
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
go build -o "$work/linli" ./cmd/linli
go build -o "$work/measure-images" ./scripts/measure-images
"$work/measure-images" "$work/linli"
