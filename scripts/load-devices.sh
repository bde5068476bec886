#!/usr/bin/env bash
# Connects N simulated devices (indoor monitors, one per room) to a fresh
# Linli on the embedded broker, then measures the server's memory and the
# time from a community-wide change (a new super card) until every device
# has synced it. Usage: scripts/load-devices.sh [N]   (default 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-10000}"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/linli" ./cmd/linli
HTTP=127.0.0.1:18300 MQTT=127.0.0.1:18301 BASE=http://127.0.0.1:18300
LINLI_HTTP_ADDR=$HTTP LINLI_MQTT_ADDR=$MQTT LINLI_DATA_DIR="$work/data" LINLI_ADMIN_PASSWORD=Load-Admin-1 LINLI_LOG_LEVEL=warn \
	"$work/linli" serve >"$work/server.log" 2>&1 &
server=$!
until curl -fs -o /dev/null "$BASE/api/openapi.json"; do sleep 0.1; done
jar="$work/cookies"
api() { curl -fsS -b "$jar" -c "$jar" -H 'Content-Type: application/json' "$@"; }
api -X POST "$BASE/api/v1/session" -d '{"account":"admin","password":"Load-Admin-1"}' >/dev/null
api -X PUT "$BASE/api/v1/me/password" -d '{"old_password":"Load-Admin-1","new_password":"Load-Admin-2026"}' >/dev/null
cid=$(api -X POST "$BASE/api/v1/communities" -d '{"name":"压测小区","region_code":"440306","address":"x","community_password":"123456"}' | python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])')
area=$(api -X POST "$BASE/api/v1/communities/$cid/areas" -d '{"number":1}' | python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])')
bld=$(api -X POST "$BASE/api/v1/communities/$cid/buildings" -d "{\"area_id\":$area,\"number\":1}" | python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])')
units=$(( (N + 1979) / 1980 ))
for u in $(seq 1 "$units"); do
	uid=$(api -X POST "$BASE/api/v1/communities/$cid/units" -d "{\"building_id\":$bld,\"number\":$u,\"device_count\":1}" | python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])')
	api -X POST "$BASE/api/v1/communities/$cid/units/$uid/rooms/batch" -d '{"floors":99,"rooms_per_floor":20}' >/dev/null
done
first=$(api "$BASE/api/v1/communities/$cid/rooms?size=1" | python3 -c 'import json,sys;print(json.load(sys.stdin)["items"][0]["id"])')
echo "community $cid with $((units * 1980)) rooms; starting $N simulated devices"
t0=$(date +%s.%N)
"$work/linli" sim -server "$BASE" -mqtt "$MQTT" -community "$cid" -password 123456 -slot "indoor:$first" -n "$N" \
	-serial LOAD -sync-every 1h -sip off -control 127.0.0.1:18302 >"$work/sim.out" 2>"$work/sim.log" &
until grep -q "sim control" "$work/sim.out" 2>/dev/null; do
	if ! kill -0 $! 2>/dev/null; then tail -5 "$work/sim.log"; exit 1; fi
	sleep 0.5
done
echo "all $N devices bound and connected in $(python3 -c "import time;print(round(time.time()-$t0,1))") s"
status() { curl -fs http://127.0.0.1:18302/status; }
until [ "$(status | python3 -c 'import json,sys;d=json.load(sys.stdin);print(sum(1 for x in d if x["syncs"]>0))')" = "$N" ]; do sleep 0.5; done
sleep 3
echo "server idle with $N devices online: RSS $(( $(awk '/VmRSS/{print $2}' /proc/$server/status) / 1024 )) MiB, threads $(awk '/Threads/{print $2}' /proc/$server/status)"
version=$(api -X POST "$BASE/api/v1/communities/$cid/cards/super" -d '{"number":"5A5A5A5A"}' >/dev/null; date +%s.%N)
while :; do
	done_n=$(status | python3 -c 'import json,sys;d=json.load(sys.stdin);print(sum(1 for x in d if "card:5A5A5A5A" in x["whitelist"]))')
	[ "$done_n" = "$N" ] && break
	sleep 0.05
done
echo "a new super card reached all $N devices in $(python3 -c "import time;print(round(time.time()-$version,2))") s"
echo "server peak RSS $(( $(awk '/VmHWM/{print $2}' /proc/$server/status) / 1024 )) MiB"
