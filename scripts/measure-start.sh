#!/usr/bin/env bash
# Measures the cold start of `linli serve` on SQLite (from exec until the API
# answers, on a fresh data directory) and its idle memory (RSS) afterwards.
# Usage: scripts/measure-start.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
bin="$(mktemp -d)/linli"
go build -o "$bin" ./cmd/linli
port=18765
for i in $(seq 1 "$runs"); do
	data="$(mktemp -d)"
	start=$(date +%s%N)
	LINLI_HTTP_ADDR=127.0.0.1:$port LINLI_DATA_DIR="$data" LINLI_ADMIN_PASSWORD=Measure-Start-1 "$bin" serve >/dev/null 2>&1 &
	pid=$!
	until curl -fs -o /dev/null "http://127.0.0.1:$port/api/openapi.json"; do sleep 0.005; done
	ready=$(( ($(date +%s%N) - start) / 1000000 ))
	sleep 5
	rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
	echo "run $i: ready after ${ready} ms (fresh database), idle RSS $((rss / 1024)) MiB"
	kill "$pid"; wait "$pid" 2>/dev/null || true
	# Start again on the same, now existing, database.
	start=$(date +%s%N)
	LINLI_HTTP_ADDR=127.0.0.1:$port LINLI_DATA_DIR="$data" "$bin" serve >/dev/null 2>&1 &
	pid=$!
	until curl -fs -o /dev/null "http://127.0.0.1:$port/api/openapi.json"; do sleep 0.005; done
	ready=$(( ($(date +%s%N) - start) / 1000000 ))
	sleep 5
	rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
	echo "run $i: restart ready after ${ready} ms (existing database), idle RSS $((rss / 1024)) MiB"
	kill "$pid"; wait "$pid" 2>/dev/null || true
	rm -rf "$data"
done
