#!/usr/bin/env bash
# SIP benchmark: Linli's registrar and forking proxy on loopback, side by
# side with Kamailio 5.6 in one run.
#
# 1. Authenticated REGISTER/s (REGISTER → 401 → REGISTER with digest → 200)
#    with the same sipp scenario (bench-sip/register.xml) and the same
#    10,000 accounts against two Kamailio instances (auth_db on SQLite;
#    usrloc in memory only, and usrloc written through to SQLite; config
#    bench-sip/kamailio.cfg) and Linli (bench-sip/server: the real SIP
#    server on a fresh SQLite database, with the accounts in a Directory
#    seeded in memory). Offered rates RATES; per rate: achieved rate,
#    failures, p50/p99 of both response times, server CPU.
# 2. Linli's memory with 10,000 registered contacts (RSS, and bytes per
#    registration over the idle server): a fresh server registered at
#    1,000/s, and the server of step 1 after its bursts.
# 3. Forked call setup: a door station (sipp UAC) calls 0502, which forks to
#    an indoor monitor that answers at once and two apps that ring and are
#    cancelled (three sipp UAS). At CALL_RATES calls/s for CALL_SECONDS
#    each: p50/p99 INVITE→180 and INVITE→200, failed calls.
#
# Usage: scripts/bench-sip.sh   Knobs (env): RATES="500 1000 2000 4000"
#   USERS=10000 CALLS=20000 CALL_RATES="50 100 300" CALL_SECONDS=10 KEEP=0
# Needs sipp (sip-tester), kamailio + kamailio-sqlite-modules, sqlite3,
# python3, go. Only processes started here are stopped, by PID.
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
HERE=$ROOT/scripts/bench-sip
RATES=${RATES:-"500 1000 2000 4000"}
USERS=${USERS:-10000}
CALLS=${CALLS:-20000}
CALL_RATES=${CALL_RATES:-"50 100 300"}
CALL_SECONDS=${CALL_SECONDS:-10}
KEEP=${KEEP:-0}
SQL_DIR=/usr/share/kamailio/db_sqlite

for c in sipp kamailio sqlite3 python3 go; do
	command -v $c >/dev/null || { echo "missing: $c"; exit 2; }
done

WORK=$(mktemp -d /tmp/bench-sip.XXXXXX)
PIDS=()
declare -A KPORT KPID
cleanup() {
	local p
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
	stop_kamailio
	if [ "$KEEP" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_udp_port() {
	python3 -c 'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}
cpu_ticks() {
	local p t=0 s
	for p in "$@"; do
		s=$(cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null) || continue
		t=$((t + ${s% *} + ${s#* }))
	done
	echo $t
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
kamailio_pids() { echo "$1"; pgrep -P "$1"; }
stop_kamailio() {
	local name pids p
	for name in "${!KPID[@]}"; do
		pids=$(kamailio_pids "${KPID[$name]}")
		kill "${KPID[$name]}" 2>/dev/null
		sleep 0.5
		for p in $pids; do kill -9 "$p" 2>/dev/null; done
		unset "KPID[$name]"
	done
}

# --- accounts --------------------------------------------------------------------------------
go build -o "$WORK/linli-sip" ./scripts/bench-sip/server || exit 1
sqlite3 "$WORK/kamailio.sqlite" <"$SQL_DIR/standard-create.sql" || exit 1
sqlite3 "$WORK/kamailio.sqlite" <"$SQL_DIR/auth_db-create.sql" || exit 1
sqlite3 "$WORK/kamailio.sqlite" <"$SQL_DIR/usrloc-create.sql" || exit 1
sqlite3 "$WORK/kamailio.sqlite" "PRAGMA journal_mode=WAL" >/dev/null || exit 1
python3 - "$WORK" "$USERS" <<'PY' || exit 1
import sqlite3, sys
work, users = sys.argv[1], int(sys.argv[2])
rows = [("u%05d" % i, "127.0.0.1", "pw-%05d-x" % i) for i in range(1, users + 1)]
db = sqlite3.connect(work + "/kamailio.sqlite")
db.executemany("INSERT INTO subscriber(username, domain, password) VALUES (?,?,?)", rows)
db.commit()
with open(work + "/users.csv", "w") as f:
    f.write("SEQUENTIAL\n")
    f.writelines("%s;%s\n" % (u, pw) for u, _, pw in rows)
PY
echo "work dir $WORK; $USERS accounts; $CALLS REGISTER calls per rate step; $(nproc) CPUs; $(sipp -v 2>&1 | grep -o 'SIPp v[0-9.]*')"

# --- one REGISTER step: name port rate pids... ---------------------------------------------------
# Each server gets one sipp port for every step, so that later steps refresh
# the same 10,000 contacts instead of adding new ones.
declare -A SIPP_PORT
register_step() {
	local name=$1 port=$2 rate=$3; shift 3
	[ -n "${SIPP_PORT[$name]:-}" ] || SIPP_PORT[$name]=$(free_udp_port)
	local dir="$WORK/$name-r$rate" c0 c1 t0 t1
	mkdir -p "$dir"
	c0=$(cpu_ticks "$@"); t0=$(date +%s.%N)
	(cd "$dir" && timeout 300 sipp -sf "$HERE/register.xml" -inf "$WORK/users.csv" -i 127.0.0.1 -p "${SIPP_PORT[$name]}" \
		-r "$rate" -rp 1000 -m "$CALLS" -l 20000 -nostdin -buff_size 4194304 \
		-trace_stat -stf stat.csv -fd 1 -trace_rtt -rtt_freq 1000 -timeout 200 \
		"127.0.0.1:$port" >screen.txt 2>&1; echo $? >rc)
	t1=$(date +%s.%N); c1=$(cpu_ticks "$@")
	python3 - "$dir" "$name" "$rate" "$CALLS" "$c0" "$c1" "$t0" "$t1" "$(getconf CLK_TCK)" <<'PY'
import csv, glob, sys
d, name, rate, calls = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
c0, c1, t0, t1, hz = int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7]), float(sys.argv[8]), int(sys.argv[9])
rows = list(csv.DictReader(open(d + "/stat.csv"), delimiter=";"))
last = rows[-1]
ok, failed = int(last["SuccessfulCall(C)"]), int(last["FailedCall(C)"])
span = float(last["CurrentTime"].split()[-1]) - float(last["StartTime"].split()[-1])
rtd = {"1": [], "2": []}
for f in glob.glob(d + "/*_rtt.csv"):
    for line in open(f):
        p = line.strip().split(";")
        if len(p) == 3 and p[2] in rtd:
            rtd[p[2]].append(float(p[1]))
def pct(v, q):
    if not v: return float("nan")
    v = sorted(v); return v[min(len(v) - 1, max(0, int(round(q / 100.0 * len(v))) - 1))]
print("%-12s offered=%5d/s achieved=%7.1f/s ok=%d failed=%d | 401 p50/p99=%g/%g ms | 200 p50/p99=%g/%g ms | server CPU %.0f%% | rc=%s" % (
    name, rate, ok / span if span > 0 else float("nan"), ok, failed,
    pct(rtd["1"], 50), pct(rtd["1"], 99), pct(rtd["2"], 50), pct(rtd["2"], 99),
    100 * (c1 - c0) / hz / (t1 - t0), open(d + "/rc").read().strip()))
PY
}

# --- Kamailio ---------------------------------------------------------------------------------
# Two instances: usrloc in memory only (db_mode 0), and usrloc written through
# to SQLite before each answer (db_mode 1), which is what Linli does.

start_kamailio() { # name db_mode
	local port; port=$(free_udp_port)
	kamailio -f "$HERE/kamailio.cfg" -l "udp:127.0.0.1:$port" -n 2 -m 64 -M 8 \
		-A "DBURL=\"sqlite://$WORK/kamailio.sqlite\"" -A "ULDBMODE=$2" -P "$WORK/$1.pid" -E >"$WORK/$1.log" 2>&1
	for i in $(seq 1 50); do [ -s "$WORK/$1.pid" ] && break; sleep 0.1; done
	KPID[$1]=$(cat "$WORK/$1.pid" 2>/dev/null)
	[ -n "${KPID[$1]}" ] || { tail "$WORK/$1.log"; echo "kamailio did not start"; exit 1; }
	KPORT[$1]=$port
}
start_kamailio kamailio-mem 0
start_kamailio kamailio-db 1
sleep 0.5

# --- Linli --------------------------------------------------------------------------------------
LPORT=$(free_udp_port)
mkdir -p "$WORK/linli"
"$WORK/linli-sip" -addr "127.0.0.1:$LPORT" -dir "$WORK/linli" -users "$USERS" >"$WORK/linli.out" 2>"$WORK/linli.log" &
LINLI_PID=$!
PIDS+=("$LINLI_PID")
for i in $(seq 1 100); do grep -q ready "$WORK/linli.out" && break; sleep 0.1; done
grep -q ready "$WORK/linli.out" || { cat "$WORK/linli.log"; echo "linli did not start"; exit 1; }
sleep 0.5
IDLE_RSS=$(rss_kib "$LINLI_PID")
kill -USR1 "$LINLI_PID"; sleep 0.5

echo "== authenticated REGISTER calls/s (each = 2 REGISTER transactions), Kamailio 5.6 children=2 (usrloc in memory / written through to SQLite) vs Linli (registrations in SQLite)"
for rate in $RATES; do
	register_step kamailio-mem "${KPORT[kamailio-mem]}" "$rate" $(kamailio_pids "${KPID[kamailio-mem]}")
	register_step kamailio-db "${KPORT[kamailio-db]}" "$rate" $(kamailio_pids "${KPID[kamailio-db]}")
	register_step linli "$LPORT" "$rate" "$LINLI_PID"
done
stop_kamailio

echo "== Linli memory with $USERS registered contacts: a fresh server, the contacts registered at 1,000/s, measured 40 s later (when the REGISTER transactions' 32 s retransmission timers have run out); and the server above, after the rate steps"
mkdir -p "$WORK/linli-mem"
M_PORT=$(free_udp_port)
"$WORK/linli-sip" -addr "127.0.0.1:$M_PORT" -dir "$WORK/linli-mem" -users "$USERS" >"$WORK/linli-mem.out" 2>"$WORK/linli-mem.log" &
M_PID=$!
PIDS+=("$M_PID")
for i in $(seq 1 100); do grep -q ready "$WORK/linli-mem.out" && break; sleep 0.1; done
sleep 0.5
M_IDLE_RSS=$(rss_kib "$M_PID")
kill -USR1 "$M_PID"; sleep 0.5
(cd "$WORK/linli-mem" && timeout 120 sipp -sf "$HERE/register.xml" -inf "$WORK/users.csv" -i 127.0.0.1 -p "$(free_udp_port)" \
	-r 1000 -m "$USERS" -l 20000 -nostdin -timeout 100 "127.0.0.1:$M_PORT" >screen.txt 2>&1)
sleep 40
kill -USR1 "$M_PID"; kill -USR1 "$LINLI_PID"; sleep 1
memline() { # name pid out-file idle-rss db
	local heap idle_heap regs rss
	heap=$(grep heap-inuse "$3" | tail -1); idle_heap=$(grep heap-inuse "$3" | head -1)
	regs=$(sqlite3 "$5" "select count(*) from sip_registrations where expires_at > datetime('now')" 2>/dev/null || echo "?")
	rss=$(rss_kib "$2")
	python3 -c "
name, idle, full, regs = '$1', $4, $rss, '$regs'
n = int(regs) if regs.isdigit() else $USERS
h0, h1 = int('$idle_heap'.split()[1]), int('$heap'.split()[1])
print('  %s: idle RSS %.1f MiB, Go heap %.1f MiB; with %s registered contacts RSS %.1f MiB, Go heap %.1f MiB; (RSS-idle)/contact %.0f B, (heap-idle)/contact %.0f B' % (name, idle / 1024, h0 / 2**20, regs, full / 1024, h1 / 2**20, (full - idle) * 1024 / max(n, 1), (h1 - h0) / max(n, 1)))
"
}
memline "fresh, 1,000/s" "$M_PID" "$WORK/linli-mem.out" "$M_IDLE_RSS" "$WORK/linli-mem/linli.db"
memline "after the rate steps (RSS holds memory Go has not yet returned)" "$LINLI_PID" "$WORK/linli.out" "$IDLE_RSS" "$WORK/linli/linli.db"
kill "$M_PID"

# --- forked calls -----------------------------------------------------------------------------
render() { # scenario key=value... → rendered copy in $WORK
	local src=$1; shift
	local out="$WORK/$(basename "$src" .xml)-$RANDOM.xml" kv
	cp "$src" "$out"
	for kv in "$@"; do
		python3 - "$out" "${kv%%=*}" "${kv#*=}" <<'PY'
import sys
p, k, v = sys.argv[1:]
s = open(p).read().replace("[" + k + "]", v)
open(p, "w").write(s)
PY
	done
	echo "$out"
}
T=$ROOT/internal/sip/testdata/sipp
uas() { # user password scenario
	local port dir
	port=$(free_udp_port); dir="$WORK/uas-$1"; mkdir -p "$dir"
	printf 'SEQUENTIAL\n%s;%s\n' "$1" "$2" >"$dir/user.csv"
	(cd "$dir" && sipp -sf "$(render "$HERE/register.xml")" -inf user.csv -i 127.0.0.1 -p "$port" -m 1 -nostdin \
		"127.0.0.1:$LPORT" >reg.txt 2>&1) || { echo "registering $1 failed"; exit 1; }
	(cd "$dir" && exec sipp -sf "$3" -i 127.0.0.1 -p "$port" -nostdin -buff_size 4194304 -l 100000 \
		"127.0.0.1:$LPORT" >screen.txt 2>&1) &
	PIDS+=($!)
}
uas m1 m1-pw "$(render "$T/monitor-answer.xml" ring=0 expect=INVITE)"
uas a1 a1-pw "$(render "$T/monitor-cancelled.xml" reason='cause=200')"
uas a2 a2-pw "$(render "$T/monitor-cancelled.xml" reason='cause=200')"
sleep 0.5
DOOR=$(render "$HERE/door-call.xml" user=door1)
echo "== forked call setup (door → monitor answers + 2 apps cancelled), Linli"
for rate in $CALL_RATES; do
	dir="$WORK/calls-r$rate"; mkdir -p "$dir"
	n=$((rate * CALL_SECONDS))
	(cd "$dir" && timeout 300 sipp -sf "$DOOR" -s 0502 -au door1 -ap door-pw -auth_uri "0502@127.0.0.1:$LPORT" \
		-i 127.0.0.1 -p "$(free_udp_port)" -r "$rate" -m "$n" -l 20000 -nostdin -buff_size 4194304 \
		-trace_stat -stf stat.csv -fd 1 -trace_rtt -rtt_freq 1 -timeout 120 \
		"127.0.0.1:$LPORT" >screen.txt 2>&1; echo $? >rc)
	python3 - "$dir" "$rate" <<'PY'
import csv, glob, sys
d, rate = sys.argv[1], sys.argv[2]
last = list(csv.DictReader(open(d + "/stat.csv"), delimiter=";"))[-1]
rtd = {"1": [], "2": []}
for f in glob.glob(d + "/*_rtt.csv"):
    for line in open(f):
        p = line.strip().split(";")
        if len(p) == 3 and p[2] in rtd:
            rtd[p[2]].append(float(p[1]))
def pct(v, q):
    if not v: return float("nan")
    v = sorted(v); return v[min(len(v) - 1, max(0, int(round(q / 100.0 * len(v))) - 1))]
print("  %4s calls/s: ok=%s failed=%s | INVITE→180 p50/p99=%g/%g ms (%d samples) | INVITE→200 p50/p99=%g/%g ms | rc=%s" % (
    rate, last["SuccessfulCall(C)"], last["FailedCall(C)"], pct(rtd["1"], 50), pct(rtd["1"], 99), len(rtd["1"]),
    pct(rtd["2"], 50), pct(rtd["2"], 99), open(d + "/rc").read().strip()))
PY
done
echo "  Linli RSS after the calls: $(( $(rss_kib "$LINLI_PID") / 1024 )) MiB"
