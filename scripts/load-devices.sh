#!/usr/bin/env bash
# Connects N simulated devices (indoor monitors, one per room) to a fresh
# Linli on the embedded broker, the simulator in a process of its own, and
# measures:
#   - the server's idle RSS before the devices come and with all of them
#     connected, and the bytes each connected device costs (the difference
#     divided by N);
#   - the heap and goroutines of the idle server (its pprof listener);
#   - fan-out: the time from a community-wide change (a new super card,
#     CHANGES of them one after another) until every device holds it, p50
#     and max.
# Usage: scripts/load-devices.sh [N]   (default 10000)
# Environment: CHANGES (5), BROKER=mosquitto (the devices connect to an
# external Mosquitto with dynamic security started by the script, as
# LINLI_MQTT_URL sets up, instead of the embedded broker), BARE=1 (the devices ignore the change in nudges
# and sync over HTTP, as older devices do), MEMORY_LIMIT (LINLI_MEMORY_LIMIT
# of the server, e.g. 400MiB), PROFILES=dir (keep the idle server's heap and
# goroutine profiles there, and a CPU profile of the first change's fan-out,
# for go tool pprof).
#
# Idle RSS is read twice: as found after 10 s without traffic, and after
# three garbage collections asked through pprof, 2 s apart, and 3 s more for
# the runtime to give the freed pages back: what an idle server reaches by
# itself within minutes (the runtime collects at least every 2 minutes).
# Signing in hashes the password with 64 MiB of argon2id memory, which stays
# mapped until the collector runs again; each collection may halve the
# stacks of goroutines that use less than a quarter of theirs.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-10000}"
CHANGES="${CHANGES:-5}"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/linli" ./cmd/linli
# Free loopback ports: other tests may run on this machine at the same time.
read -r P_HTTP P_MQTT P_SIM P_PPROF < <(python3 -c '
import socket
ss=[socket.socket() for _ in range(4)]
for s in ss: s.bind(("127.0.0.1",0))
print(*[s.getsockname()[1] for s in ss])
for s in ss: s.close()')
HTTP=127.0.0.1:$P_HTTP MQTT=127.0.0.1:$P_MQTT BASE=http://127.0.0.1:$P_HTTP PPROF=http://127.0.0.1:$P_PPROF
broker_env=(LINLI_MQTT_ADDR="$MQTT")
broker=""
if [ "${BROKER:-}" = mosquitto ]; then
	# An external Mosquitto with its dynamic security plugin, as the README
	# sets one up; the server then holds one connection to it.
	plugin=$(ls /usr/lib/*/mosquitto_dynamic_security.so /usr/lib/mosquitto_dynamic_security.so 2>/dev/null | head -1 || true)
	mosquitto_ctrl dynsec init "$work/dynsec.json" load-admin Load-Broker-1 >/dev/null
	cat >"$work/mosquitto.conf" <<-CONF
	$( [ "$(id -u)" = 0 ] && echo "user root" )
	per_listener_settings false
	persistence false
	log_dest stderr
	log_type error
	listener $P_MQTT 127.0.0.1
	max_connections -1
	allow_anonymous false
	plugin $plugin
	plugin_opt_config_file $work/dynsec.json
	CONF
	ulimit -n "$(ulimit -Hn)" # a descriptor per device
	mosquitto -c "$work/mosquitto.conf" 2>"$work/mosquitto.log" &
	broker=$!
	until python3 -c "import socket;socket.create_connection(('127.0.0.1',$P_MQTT),1)" 2>/dev/null; do sleep 0.1; done
	broker_env=(LINLI_MQTT_URL="mqtt://load-admin:Load-Broker-1@$MQTT")
fi
env "${broker_env[@]}" LINLI_HTTP_ADDR=$HTTP LINLI_SIP_ADDR=127.0.0.1:0 LINLI_PPROF_ADDR=127.0.0.1:$P_PPROF \
	LINLI_MEMORY_LIMIT="${MEMORY_LIMIT:-}" LINLI_DATA_DIR="$work/data" LINLI_ADMIN_PASSWORD=Load-Admin-1 LINLI_LOG_LEVEL=warn \
	"$work/linli" serve >"$work/server.log" 2>&1 &
server=$!
until curl -fs -o /dev/null "$BASE/api/openapi.json"; do
	if ! kill -0 $server 2>/dev/null; then tail -5 "$work/server.log"; exit 1; fi
	sleep 0.1
done
jar="$work/cookies"
api() { curl -fsS -b "$jar" -c "$jar" -H 'Content-Type: application/json' "$@"; }
json() { python3 -c "import json,sys;d=json.load(sys.stdin);print($1)"; }
api -X POST "$BASE/api/v1/session" -d '{"account":"admin","password":"Load-Admin-1"}' >/dev/null
api -X PUT "$BASE/api/v1/me/password" -d '{"old_password":"Load-Admin-1","new_password":"Load-Admin-2026"}' >/dev/null
cid=$(api -X POST "$BASE/api/v1/communities" -d '{"name":"压测小区","region_code":"440306","address":"x","community_password":"123456"}' | json 'd["id"]')
area=$(api -X POST "$BASE/api/v1/communities/$cid/areas" -d '{"number":1}' | json 'd["id"]')
bld=$(api -X POST "$BASE/api/v1/communities/$cid/buildings" -d "{\"area_id\":$area,\"number\":1}" | json 'd["id"]')
units=$(( (N + 1979) / 1980 ))
for u in $(seq 1 "$units"); do
	uid=$(api -X POST "$BASE/api/v1/communities/$cid/units" -d "{\"building_id\":$bld,\"number\":$u,\"device_count\":1}" | json 'd["id"]')
	api -X POST "$BASE/api/v1/communities/$cid/units/$uid/rooms/batch" -d '{"floors":99,"rooms_per_floor":20}' >/dev/null
done
first=$(api "$BASE/api/v1/communities/$cid/rooms?size=1" | json 'd["items"][0]["id"]')
rss() { echo $(( $(awk '/VmRSS/{print $2}' /proc/${1:-$server}/status) * 1024 )); }
mib() { python3 -c "print(round($1/1048576,1))"; }
# idle sets rss_found to the RSS as found and rss_gc to the RSS after
# collections, and idle_text to both.
idle() {
	rss_found=$(rss)
	for _ in 1 2 3; do
		curl -fs -o /dev/null "$PPROF/debug/pprof/heap?gc=1"
		sleep 2
	done
	sleep 3
	rss_gc=$(rss)
	idle_text="RSS $(mib "$rss_found") MiB as found, $(mib "$rss_gc") MiB after collections"
}
sleep 10
idle
rss0=$rss_gc
echo "community $cid with $((units * 1980)) rooms; server idle without devices: $idle_text"

sim_flags=()
[ "${BARE:-}" = 1 ] && sim_flags+=(-bare-nudges)
echo "starting $N simulated devices${BARE:+ (bare nudges: every change is fetched over HTTP)}"
t0=$(date +%s.%N)
# The simulator keeps its goroutines' stacks between nudges: 10,000 devices
# in one process would otherwise each grow theirs again on the first nudge
# after an idle spell (the collector shrank them), which adds up to half a
# second of the simulator's own work to that fan-out; separate devices do
# not share a collector.
GODEBUG=gcshrinkstackoff=1 "$work/linli" sim -server "$BASE" -mqtt "$MQTT" -community "$cid" -password 123456 -slot "indoor:$first" -n "$N" \
	-serial LOAD -sync-every 1h -sip off -control "127.0.0.1:$P_SIM" "${sim_flags[@]}" >"$work/sim.out" 2>"$work/sim.log" &
sim=$!
until grep -q "sim control" "$work/sim.out" 2>/dev/null; do
	if ! kill -0 $sim 2>/dev/null; then tail -5 "$work/sim.log"; exit 1; fi
	sleep 0.5
done
echo "all $N devices bound and connected in $(python3 -c "import time;print(round(time.time()-$t0,1))") s"
SIM=http://127.0.0.1:$P_SIM
until [ "$(curl -fs "$SIM/status" | json 'sum(1 for x in d if x["syncs"]>0)')" = "$N" ]; do sleep 1; done
sleep 10
idle
rss1=$rss_gc
echo "server idle with $N devices online: $idle_text, threads $(awk '/Threads/{print $2}' /proc/$server/status)"
echo "  $(( (rss1 - rss0) / N )) bytes per connected device (RSS after collections, with $N devices minus without)"
[ -n "$broker" ] && echo "  the external Mosquitto holding the $N connections: RSS $(mib "$(rss "$broker")") MiB, $(( $(rss "$broker") / N )) bytes per device"
if [ -n "${PROFILES:-}" ]; then
	mkdir -p "$PROFILES"
	curl -fs -o "$PROFILES/heap-$N.pb.gz" "$PPROF/debug/pprof/heap"
	curl -fs -o "$PROFILES/goroutine-$N.pb.gz" "$PPROF/debug/pprof/goroutine"
	curl -fs -o "$PROFILES/goroutine-$N.txt" "$PPROF/debug/pprof/goroutine?debug=1"
fi
curl -fs "$PPROF/debug/pprof/heap?debug=1&gc=1" | python3 -c '
import sys
want = ("HeapAlloc", "HeapInuse", "HeapSys", "HeapReleased", "Stack", "MSpan", "Sys", "NumGC")
for line in sys.stdin:
    if line.startswith("# ") and line[2:].split(" ")[0] in want:
        print("  heap profile:", line[2:].strip())'
echo "  goroutines: $(curl -fs "$PPROF/debug/pprof/goroutine?debug=1" | head -1 | sed 's/goroutine profile: //')"

times=()
for i in $(seq 1 "$CHANGES"); do
	number=$(printf '5A5A5A%02X' "$i")
	if [ -n "${PROFILES:-}" ] && [ "$i" = 1 ]; then
		curl -fs -o "$PROFILES/cpu-fanout-$N.pb.gz" "$PPROF/debug/pprof/profile?seconds=4" &
		sleep 0.5
	fi
	start=$(python3 -c 'import time;print(time.time())')
	# curl's own clock: the request until the answer (every nudge written).
	answered=$(api -o /dev/null -w '%{time_total}' -X POST "$BASE/api/v1/communities/$cid/cards/super" -d "{\"number\":\"$number\"}")
	while :; do
		h=$(curl -fs "$SIM/holding?key=card:$number")
		[ "$(echo "$h" | json 'd["holding"]')" = "$N" ] && break
		sleep 0.05
	done
	took=$(echo "$h" | json "round(d['last']-$start,3)")
	times+=("$took")
	echo "change $i: a new super card reached all $N devices in $took s (the API answered, every nudge written, in $answered s)"
	sleep 2
done
python3 -c "
import statistics,sys
t=sorted(float(x) for x in sys.argv[1:])
print(f'fan-out over {len(t)} changes: p50 {statistics.median(t):.3f} s, max {t[-1]:.3f} s')" "${times[@]}"
nudged=$(curl -fs "$SIM/status" | json 'sum(x["nudged"] for x in d)')
syncs=$(curl -fs "$SIM/status" | json 'sum(x["syncs"] for x in d)')
echo "devices applied $nudged changes straight from nudges and made $syncs HTTP syncs in all"
echo "server peak RSS $(( $(awk '/VmHWM/{print $2}' /proc/$server/status) / 1024 )) MiB, now $(mib "$(rss)") MiB"
