#!/usr/bin/env bash
# The test command of Linli (see README): formatting and vet, every Go test
# with the race detector on SQLite and on PostgreSQL, and the end-to-end test
# of the real binary in Chromium. It installs what the tests need when it is
# missing (Debian's chromium, the e2e npm packages) and starts the machine's
# PostgreSQL if it is down.
set -euo pipefail
cd "$(dirname "$0")/.."

export TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"

need_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium fonts-noto-cjk)
command -v libreoffice >/dev/null 2>&1 || missing+=(libreoffice-calc)
# The external-broker tests start their own Mosquitto with its dynamic
# security plugin; mosquitto_sub/mosquitto_pub are the real clients.
command -v mosquitto_ctrl >/dev/null 2>&1 || missing+=(mosquitto)
command -v mosquitto_sub >/dev/null 2>&1 || missing+=(mosquitto-clients)
# Two instances behind a load balancer (e2e/instances.mjs).
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
# The SIP tests call and answer with real peers: sipp, baresip, linphonec.
command -v sipp >/dev/null 2>&1 || missing+=(sip-tester)
command -v baresip >/dev/null 2>&1 || missing+=(baresip)
command -v linphonec >/dev/null 2>&1 || missing+=(linphone-cli)
# baresip as a third-party door station sends an MP4 (made with ffmpeg)
# through its avformat module.
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
[ -e /usr/lib/baresip/modules/avformat.so ] || missing+=(baresip-ffmpeg)
if [ ${#missing[@]} -gt 0 ]; then
	echo "== installing ${missing[*]}"
	need_root apt-get update -qq
	need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# The spreadsheet tests must not silently skip the LibreOffice case here.
export CI_REQUIRE_LIBREOFFICE=1
# Nor the SIP tests the case of a missing peer.
export CI_REQUIRE_SIPP=1
# The file-store tests run against a real S3-compatible server, Versity's
# gateway; go install builds it once (about 2.5 minutes) and keeps it in
# GOPATH/bin for later runs.
VERSITYGW_VERSION=v1.8.0
if ! command -v versitygw >/dev/null 2>&1 && [ ! -x "$(go env GOPATH)/bin/versitygw" ]; then
	echo "== installing versitygw $VERSITYGW_VERSION"
	go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
fi
export CI_REQUIRE_S3=1

if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432; then
	echo "== starting PostgreSQL"
	need_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
	for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

echo "== gofmt"
unformatted="$(gofmt -l cmd internal web/embed.go)"
if [ -n "$unformatted" ]; then
	echo "these files need gofmt:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

echo "== go mod tidy (go.mod and go.sum must be as it leaves them)"
if ! go mod tidy -diff; then
	echo "run go mod tidy and commit go.mod and go.sum"; exit 1
fi

echo "== golangci-lint (.golangci.yml)"
./scripts/lint.sh

echo "== generated files (ent, OpenAPI, console API types, web/dist) match their sources"
./scripts/generate.sh --check

echo "== go test -race (SQLite and PostgreSQL at $TEST_POSTGRES_URL)"
# The API tests of internal/app start whole servers, peers and browsers'
# worth of requests; under the race detector they take over 20 minutes on
# two cores, so they run without it, and those that exercise concurrency
# run again with it.
go test -race -count=1 -timeout 20m $(go list ./... | grep -v '/internal/app$')
# The API tests run in parallel; most of their time is spent waiting on
# sockets, peers and timers, so four at once on two cores.
echo "== go test internal/app"
go test -count=1 -timeout 20m -parallel 4 ./internal/app/
echo "== go test -race internal/app (the concurrency tests)"
go test -race -count=1 -timeout 20m -parallel 4 \
	-run '^(TestLockoutUnderConcurrency|TestGuessLimitsUnderConcurrency|TestConcurrentApplicationsFromOneAddress|TestRemoteOpenAcrossInstances|TestImportWhileDatabaseBusy|TestGuardRoomAnswersInBrowser|TestResidentPageRingsAndWatches)$' ./internal/app/

echo "== end-to-end in Chromium"
(cd e2e && npm ci --no-audit --no-fund --loglevel=error && node run.mjs)

echo "== the residents' H5 site in Chromium at 390×844"
(cd e2e && node h5.mjs)
# The same pages with the API's answers staged in the browser: empty lists,
# failing requests, an expired session, slow 3G, and axe-core on every screen.
(cd e2e && node h5e2e.mjs)

echo "== door calls in the browser: 门口呼叫 in the console, the H5 call screen, 监视"
# The real binary, a simulated door station and Chromium with a fake camera
# and microphone (e2e/doorcall.mjs).
(cd e2e && node doorcall.mjs)

echo "== 监控设备 in Chromium: a fake ONVIF camera added, its snapshot and live view"
(cd e2e && node cameras.mjs)

echo "== 忘记密码 by e-mail and 替换邮箱 in Chromium, mail through a real SMTP server"
(cd e2e && node recover.mjs)

echo "== 操作日志, 登录设备 and 小区信息列表 in Chromium"
# The real binary: changes, a failed sign-in, filters and 导出 in 操作日志;
# 退出 of another browser; 停用 ends a session at once (e2e/audit.mjs).
(cd e2e && node audit.mjs)

echo "== staff roles in Chromium: a 保安 without 业主列表 and the 无权限 page"
(cd e2e && node roles.mjs)

echo "== two instances behind HAProxy: one PostgreSQL, Mosquitto, S3; an instance killed, the broker restarted"
# The console, devices, a SIP call across the instances and writes during
# a SIGKILL, through a round-robin balancer (e2e/instances.mjs).
(cd e2e && node instances.mjs)

echo "== 登录验证 in Chromium: authenticator enrolment, a new browser asked for the code"
# A recovery code, an SMS code from the log, 重置登录验证 and 要求登录验证 (e2e/twofactor.mjs).
(cd e2e && node twofactor.mjs)
