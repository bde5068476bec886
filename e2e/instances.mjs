// Two linli instances behind a load balancer, end to end:
//
//   node e2e/instances.mjs          builds ./cmd/linli (LINLI_BIN=path reuses one)
//
// Both `linli serve` instances share one fresh PostgreSQL database, a
// Mosquitto of the walk's own with the dynamic security plugin
// (LINLI_MQTT_URL) and a bucket on a versitygw S3 server (LINLI_BLOB_URL). Debian's HAProxy balances round robin without
// stickiness and checks /readyz. Through the balancer:
//
// 1. The operator and a 物业管理员 work in the console in Chromium (小区,
//    房屋, 门禁卡, 设备列表, 发卡): every request lands on either instance,
//    and each instance's /metrics shows it answered some of them.
// 2. A door station binds and syncs through instance A while a card is
//    issued through instance B (with the session the browser signed in
//    with): B's nudge reaches the door over the broker and it opens for the
//    card. The door's snapshot of that opening, uploaded to A, is shown by B.
// 3. The door station registers for SIP on A, an indoor monitor on B; the
//    door calls 0502, the monitor answers, and 呼叫记录 holds the call once.
// 4. Writes go on through the balancer (super cards, and a device's event
//    reports retried with their event id) while instance B is killed with
//    SIGKILL: every write answered 2xx is in the database, no event is
//    recorded twice, A keeps serving and B, started again, serves again and
//    relays a new call to the monitor registered with it before the kill.
// 5. The broker restarts: the door station reconnects, the instances
//    reconnect and resubscribe, 设备列表 shows the door 在线, and a new card
//    reaches it over the restarted broker. The indoor monitor, switched off
//    while the broker was down (its last will died with the broker), is
//    shown 离线 once the grace window after the instances' lost sessions has
//    passed (LINLI_PRESENCE_GRACE, 3 s here), and the door stays 在线.
//
// The walk skips, saying which program is missing, unless CI_REQUIRE_SIPP
// is set (scripts/test.sh sets it), when a missing program fails it. It
// prints its wall time at the end.
import { execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import dgram from 'node:dgram'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { root, check, checkCount, startProcess, launch, firstSignIn, watch } from './lib.mjs'
import { until } from './calllib.mjs'

const started = Date.now()
const PG = process.env.TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable'
const ADMIN_INITIAL = 'Admin-Initial-1'
const OPERATOR_PW = 'Operator-Pass-2026'
const MANAGER = { account: 'wyzx', password: 'Manager-Pass-2026' }
const BROKER_ADMIN = 'linli-admin'
const BROKER_PW = 'Broker-Admin-9'

// ---- the programs it needs ----
const dynsecPlugin = ['/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so', '/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so',
  '/usr/lib/mosquitto_dynamic_security.so'].find((p) => existsSync(p))
const which = (name) => {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim()
  } catch {
    return ''
  }
}
const programs = {
  haproxy: which('haproxy') || (existsSync('/usr/sbin/haproxy') ? '/usr/sbin/haproxy' : ''),
  mosquitto: which('mosquitto') || (existsSync('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : ''),
  mosquitto_ctrl: which('mosquitto_ctrl'),
  psql: which('psql'),
  chromium: existsSync(process.env.CHROMIUM || '/usr/bin/chromium') ? 'chromium' : '',
  // where `go install` puts it when it is not on PATH
  versitygw: which('versitygw') || [process.env.GOPATH, join(process.env.HOME || '/root', 'go')].filter(Boolean)
    .map((d) => join(d, 'bin', 'versitygw')).find((p) => existsSync(p)) || '',
}
const missing = Object.entries(programs).filter(([, p]) => !p).map(([n]) => n)
if (!dynsecPlugin) missing.push('mosquitto_dynamic_security.so (package mosquitto)')
if (missing.length) {
  const msg = `two instances behind a load balancer need ${missing.join(', ')}`
  if (process.env.CI_REQUIRE_SIPP) {
    console.error(`not ok - ${msg}`)
    process.exit(1)
  }
  console.log(`skip - ${msg} (apt-get install haproxy mosquitto postgresql-client chromium; go install github.com/versity/versitygw/cmd/versitygw)`)
  process.exit(0)
}

// ---- free loopback ports ----
// freePort asks the system for a TCP port and, with udp, makes sure the
// same UDP port is free too (SIP listens on both).
async function freePort(udp = false) {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const s = net.createServer()
      s.on('error', reject)
      s.listen(0, '127.0.0.1', () => {
        const p = s.address().port
        s.close(() => resolve(p))
      })
    })
    if (!udp) return port
    const ok = await new Promise((resolve) => {
      const u = dgram.createSocket('udp4')
      u.on('error', () => resolve(false))
      u.bind(port, '127.0.0.1', () => u.close(() => resolve(true)))
    })
    if (ok) return port
  }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const canConnect = (addr) => new Promise((resolve) => {
  const [host, port] = addr.split(':')
  const c = net.connect(Number(port), host)
  c.on('connect', () => { c.destroy(); resolve(true) })
  c.on('error', () => resolve(false))
})

const work = mkdtempSync(join(tmpdir(), 'linli-instances-'))
const procs = [] // everything started, stopped at the end
const psql = (db, sql) => execFileSync(programs.psql, [db, '-v', 'ON_ERROR_STOP=1', '-At', '-c', sql], { encoding: 'utf8' }).trim()
const dbName = `linli_e2e_instances_${process.pid}_${randomBytes(3).toString('hex')}`
const dbURL = (() => { const u = new URL(PG); u.pathname = '/' + dbName; return u.toString() })()
let dbCreated = false

// ---- Mosquitto with the dynamic security plugin ----
const mqttPort = await freePort()
const mqttAddr = `127.0.0.1:${mqttPort}`
const dynsec = join(work, 'dynsec.json')
execFileSync(programs.mosquitto_ctrl, ['dynsec', 'init', dynsec, BROKER_ADMIN, BROKER_PW], { stdio: 'ignore' })
writeFileSync(join(work, 'mosquitto.conf'), `${process.getuid() === 0 ? 'user root\n' : ''}per_listener_settings false
persistence false
log_dest stderr
log_type error
log_type warning
listener ${mqttPort} 127.0.0.1
allow_anonymous false
retain_available false
plugin ${dynsecPlugin}
plugin_opt_config_file ${dynsec}
`, { mode: 0o600 })
let broker = null
async function startBroker() {
  const p = spawn(programs.mosquitto, ['-c', join(work, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'inherit'] })
  procs.push(p)
  await until(() => canConnect(mqttAddr), `Mosquitto listening on ${mqttAddr}`)
  return p
}
function stopProcess(p, signal = 'SIGTERM') {
  if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve()
  const gone = new Promise((r) => p.once('exit', r))
  p.kill(signal)
  return gone
}

// ---- the two instances ----
let bin = process.env.LINLI_BIN
if (!bin) {
  bin = join(work, 'linli')
  execFileSync('go', ['build', '-o', bin, './cmd/linli'], { cwd: root, stdio: 'inherit' })
}
const dataKey = randomBytes(32).toString('base64')
const ports = { httpA: await freePort(), httpB: await freePort(), sipA: await freePort(true), sipB: await freePort(true), lb: await freePort() }
const direct = { A: `http://127.0.0.1:${ports.httpA}`, B: `http://127.0.0.1:${ports.httpB}` }
const sipAddr = { A: `127.0.0.1:${ports.sipA}`, B: `127.0.0.1:${ports.sipB}` }
const lb = `http://127.0.0.1:${ports.lb}`
const blobEnv = {}
const instances = {}
function startInstance(name) {
  const http = name === 'A' ? ports.httpA : ports.httpB
  const p = startProcess(bin, ['serve'], {
    LINLI_HTTP_ADDR: `127.0.0.1:${http}`, LINLI_DB_URL: dbURL, LINLI_DATA_DIR: join(work, `data-${name}`), LINLI_DATA_KEY: dataKey,
    LINLI_MQTT_ADDR: 'off', LINLI_MQTT_URL: `mqtt://${BROKER_ADMIN}:${BROKER_PW}@${mqttAddr}`,
    LINLI_SIP_ADDR: sipAddr[name], LINLI_SIP_ADVERTISE: sipAddr[name], LINLI_RTP_PORTS: '0',
    LINLI_ADMIN_PASSWORD: ADMIN_INITIAL, LINLI_PRESENCE_GRACE: '3s', ...blobEnv,
  }, /msg="linli listening"/, `linli ${name}`)
  procs.push(p.child)
  p.found.catch(() => {}) // an instance killed on purpose rejects it
  instances[name] = p
  return p.found
}
// served counts the API requests an instance answered (its own /metrics).
async function served(name) {
  const text = await (await fetch(`${direct[name]}/metrics`)).text()
  let n = 0
  for (const m of text.matchAll(/^linli_http_requests_total\{[^}]*\} (\d+)/gm)) n += Number(m[1])
  return n
}

// ---- HAProxy: round robin, no stickiness, /readyz checks ----
function haproxyConfig() {
  return `global
  maxconn 256
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  retries 2
  option redispatch
backend linli
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 300ms fall 2 rise 2
  server a 127.0.0.1:${ports.httpA} check
  server b 127.0.0.1:${ports.httpB} check
frontend web
  bind 127.0.0.1:${ports.lb}
  default_backend linli
`
}

// ---- a simulated device (`linli sim`) ----
async function startSim(args, what) {
  const p = spawn(bin, ['sim', '-mqtt', mqttAddr, '-control', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  procs.push(p)
  let out = ''
  p.stderr.on('data', (c) => { out += c })
  const control = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${out}`)), 30000)
    p.stdout.on('data', (c) => {
      const m = String(c).match(/sim control at (http:\/\/[0-9.:]+)/)
      if (m) { clearTimeout(timer); resolve(m[1]) }
    })
    p.on('exit', (code) => reject(new Error(`${what} exited ${code}:\n${out}`)))
  })
  const status = async () => (await (await fetch(`${control}/status`)).json())[0]
  const post = async (path) => (await fetch(control + path, { method: 'POST' })).json()
  return { proc: p, control, status, post, log: () => out, swipe: async (card) => (await post(`/swipe?card=${card}`)).opened }
}

// ---- the console's API with a cookie, against any address ----
function apiAt(base, cookie) {
  return async (method, path, body) => {
    const res = await fetch(base + path, {
      method, headers: { ...(body ? { 'Content-Type': 'application/json' } : {}), Cookie: cookie }, body: body ? JSON.stringify(body) : undefined,
    })
    const text = await res.text()
    let data = null
    try { data = text ? JSON.parse(text) : null } catch { data = text }
    return { status: res.status, body: data }
  }
}

let browser = null
let haproxy = null
let failed = false
// cleanup stops everything the walk started and drops its database, also
// when the walk is interrupted.
let cleaning = null
function cleanup() {
  cleaning ??= stopAll()
  return cleaning
}
async function stopAll() {
  if (browser) await browser.close().catch(() => {})
  for (const p of procs.reverse()) await stopProcess(p)
  if (dbCreated) {
    try {
      psql(PG, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
    } catch (e) {
      console.error(`could not drop ${dbName}: ${e.message}`)
    }
  }
  rmSync(work, { recursive: true, force: true })
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => cleanup().finally(() => process.exit(1)))
try {
  const dbs = psql(PG, 'SELECT 1')
  check(dbs === '1', 'PostgreSQL answers')
  psql(PG, `CREATE DATABASE ${dbName}`)
  dbCreated = true
  broker = await startBroker()
  check(true, `Mosquitto with the dynamic security plugin on ${mqttAddr}`)
  // S3: versitygw's posix backend serves each directory as a bucket.
  const s3Port = await freePort()
  const s3Dir = join(work, 's3')
  mkdirSync(join(s3Dir, 'linli'), { recursive: true })
  const s3Key = 'LINLIE2E' + randomBytes(6).toString('hex').toUpperCase()
  const s3Secret = randomBytes(24).toString('base64url')
  procs.push(spawn(programs.versitygw, ['--access', s3Key, '--secret', s3Secret, '--port', `127.0.0.1:${s3Port}`, 'posix', s3Dir],
    { stdio: ['ignore', 'ignore', 'inherit'] }))
  await until(() => canConnect(`127.0.0.1:${s3Port}`), 'versitygw listening')
  Object.assign(blobEnv, { LINLI_BLOB_URL: `s3://linli?endpoint=http://127.0.0.1:${s3Port}&region=us-east-1`, AWS_ACCESS_KEY_ID: s3Key, AWS_SECRET_ACCESS_KEY: s3Secret })
  check(true, `versitygw S3 server on 127.0.0.1:${s3Port}, bucket linli`)

  // Both instances start at the same moment on the empty database: one
  // migrates, creates the operator; the other waits and finds them.
  const t0 = Date.now()
  await Promise.all([startInstance('A'), startInstance('B')])
  check(true, `instances A (${direct.A}, SIP ${sipAddr.A}) and B (${direct.B}, SIP ${sipAddr.B}) started together on one database in ${Date.now() - t0} ms`)
  const operators = psql(dbURL, "SELECT count(*) FROM accounts WHERE account = 'admin'")
  check(operators === '1', `the first operator exists once (${operators})`)

  writeFileSync(join(work, 'haproxy.cfg'), haproxyConfig())
  haproxy = spawn(programs.haproxy, ['-db', '-f', join(work, 'haproxy.cfg')], { stdio: ['ignore', 'inherit', 'inherit'] })
  procs.push(haproxy)
  await until(async () => (await fetch(`${lb}/readyz`).catch(() => null))?.status === 200, 'HAProxy in front of both instances')
  check(true, `HAProxy balances round robin at ${lb}, health checks on /readyz`)

  // ---- 1. the console through the balancer ----
  browser = await launch()
  const pageErrors = []
  const person = async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' })
    const page = await context.newPage()
    page.setDefaultTimeout(20000)
    watch(page, pageErrors)
    const call = (method, path, body) => page.evaluate(async ([m, p, b]) => {
      const r = await fetch(p, { method: m, headers: b ? { 'Content-Type': 'application/json' } : {}, body: b ? JSON.stringify(b) : undefined })
      return { status: r.status, body: await r.json().catch(() => null) }
    }, [method, path, body])
    const cookie = async () => (await context.cookies(lb)).filter((c) => c.name.startsWith('linli_')).map((c) => `${c.name}=${c.value}`).join('; ')
    return { context, page, call, cookie, tid: (id) => page.getByTestId(id) }
  }
  const servedBefore = { A: await served('A'), B: await served('B') }
  const op = await person()
  await firstSignIn(op.page, lb, 'admin', ADMIN_INITIAL, OPERATOR_PW)
  const community = await op.call('POST', '/api/v1/communities', { name: '双实例小区', region_code: '440306', address: '宝安大道 2 号', wall_station_count: 1 })
  check(community.status === 201, 'the operator creates 双实例小区 through the balancer')
  const cid = community.body.id
  const password = community.body.community_password
  const mgrAccount = await op.call('POST', '/api/v1/accounts', { account: MANAGER.account, name: '王经理', phone: '13700137000', role: 'property_admin', community_ids: [cid] })
  check(mgrAccount.status === 201, 'the operator creates its 物业管理员')

  const mgr = await person()
  await firstSignIn(mgr.page, lb, MANAGER.account, '123456', MANAGER.password)
  const must = async (want, ...args) => {
    const r = await mgr.call(...args)
    if (r.status !== want) throw new Error(`${args[0]} ${args[1]}: ${r.status} ${JSON.stringify(r.body)}`)
    return r.body
  }
  const area = await must(201, 'POST', `/api/v1/communities/${cid}/areas`, { number: 1 })
  const building = await must(201, 'POST', `/api/v1/communities/${cid}/buildings`, { area_id: area.id, number: 1 })
  const unit = await must(201, 'POST', `/api/v1/communities/${cid}/units`, { building_id: building.id, number: 1, device_count: 1 })
  await must(201, 'POST', `/api/v1/communities/${cid}/units/${unit.id}/rooms/batch`, { floors: 6, rooms_per_floor: 4 })
  const rooms = (await must(200, 'GET', `/api/v1/communities/${cid}/rooms?unit_id=${unit.id}&size=100`)).items
  const room = (no) => rooms.find((r) => r.label.endsWith('-' + no))
  const owner = await must(201, 'POST', `/api/v1/communities/${cid}/residents`, { room_id: room('0101').id, name: '张三', role: '业主', phone: '13800138000' })
  check(rooms.length === 24 && owner.id > 0, 'the manager builds 1区 1栋 1单元 with 24 rooms and a resident of 0101 through the balancer')

  // Pages of the console: each needs the session on whichever instance.
  for (const [path, ready] of [['/communities', '.el-table__row'], ['/housing', '.el-tree-node'], ['/cards', '[data-testid="cards-issue"]'], ['/devices', '.el-table__row']]) {
    await mgr.page.goto(`${lb}${path}`)
    await mgr.page.locator(ready).first().waitFor()
    check(new URL(mgr.page.url()).pathname === path, `the manager's ${path} page opens through the balancer (not sent back to sign in)`)
  }

  // ---- 2. the door binds and syncs through A; the card is issued through B ----
  const door = await startSim(['-server', direct.A, '-sip', sipAddr.A, '-community', String(cid), '-password', password,
    '-slot', `door:${unit.id}:1`, '-serial', 'SIM-DOOR-A', '-no-video'], 'the door station')
  await until(async () => { const st = await door.status(); return st.syncs > 0 && st.online }, 'the door station to sync and connect')
  check(true, 'a door station binds and syncs through instance A and connects to the broker')
  // 发卡 in the console (through the balancer)…
  await mgr.page.goto(`${lb}/cards`)
  await mgr.tid('cards-issue').click()
  await mgr.tid('card-form-dialog').waitFor()
  const choose = async (id, text) => {
    await mgr.tid(id).click()
    await mgr.page.locator('.el-select-dropdown:visible .el-select-dropdown__item', { hasText: text }).first().click()
  }
  await choose('card-form-area', '1区')
  await choose('card-form-building', '1栋')
  await choose('card-form-unit', '1单元')
  await choose('card-form-room', '0101')
  await mgr.tid('card-form-number').fill('1a2b3c4d')
  await mgr.tid('card-form-units-table').locator('.el-table__row').first().waitFor()
  // The room's 业主 is chosen for the card once the room's residents have loaded.
  await mgr.tid('card-form-resident').filter({ hasText: '（业主）' }).waitFor()
  await mgr.tid('card-form-submit').click()
  await mgr.page.locator('.el-table__row', { hasText: '1A2B3C4D' }).first().waitFor()
  check(true, '发卡 in the console through the balancer lists card 1A2B3C4D')
  await until(() => door.swipe('1A2B3C4D'), 'the door station to open for 1A2B3C4D')
  check(true, 'the door station (on A) opens for the card issued in the console')
  // …and one through instance B itself, with the browser's session.
  const atB = apiAt(direct.B, await mgr.cookie())
  const atA = apiAt(direct.A, await mgr.cookie())
  const before = await door.status()
  const viaB = await atB('POST', `/api/v1/communities/${cid}/cards`, { number: '0B0B0001', resident_id: owner.id })
  check(viaB.status === 201, `instance B accepts the browser's session and issues card 0B0B0001 (${viaB.status})`)
  await until(() => door.swipe('0B0B0001'), 'the door station to open for 0B0B0001')
  // A small change travels inside the nudge; a device that cannot apply it
  // syncs through A instead. Either way only B's nudge told the door.
  const after = await door.status()
  check(after.nudged > before.nudged || after.syncs > before.syncs,
    `B's nudge went over the broker: the door on A holds 0B0B0001 (${after.nudged - before.nudged} change from the nudge, ${after.syncs - before.syncs} syncs through A)`)

  const servedAfter = { A: await served('A'), B: await served('B') }
  const share = { A: servedAfter.A - servedBefore.A, B: servedAfter.B - servedBefore.B }
  check(share.A >= 10 && share.B >= 10, `both instances answered the console's requests (A ${share.A}, B ${share.B} API requests)`)

  // The snapshot of that opening was uploaded to A; B shows it.
  const unlocks = (await atA('GET', `/api/v1/communities/${cid}/records/unlocks?size=50`)).body
  const opening = unlocks.items.find((r) => r.card === '0B0B0001')
  check(opening && opening.has_snapshot, '开锁记录 (on A) holds the opening of 0B0B0001 with a snapshot')
  const snapA = await fetch(`${direct.A}/api/v1/communities/${cid}/records/${opening.id}/snapshot`, { headers: { Cookie: await mgr.cookie() } })
  const snapB = await fetch(`${direct.B}/api/v1/communities/${cid}/records/${opening.id}/snapshot`, { headers: { Cookie: await mgr.cookie() } })
  const bytesA = Buffer.from(await snapA.arrayBuffer())
  const bytesB = Buffer.from(await snapB.arrayBuffer())
  check(snapA.status === 200 && bytesA[0] === 0xff && bytesA[1] === 0xd8, `instance A serves the snapshot it stored (${snapA.status}, ${bytesA.length} bytes)`)
  check(snapB.status === 200 && bytesB.equals(bytesA), `instance B shows the same snapshot from the bucket (${snapB.status}, ${bytesB.length} bytes)`)

  // ---- 3. a SIP call from a door registered on A to a monitor registered on B ----
  const monitor = await startSim(['-server', lb, '-sip', sipAddr.B, '-community', String(cid), '-password', password,
    '-slot', `indoor:${room('0502').id}`, '-serial', 'SIM-MONITOR-B', '-no-video'], 'the indoor monitor')
  await until(async () => (await door.status()).sip?.registration?.state === 'registered', 'the door station to register on A')
  await until(async () => (await monitor.status()).sip?.registration?.state === 'registered', 'the monitor to register on B')
  check(true, 'the door station is registered on A, the indoor monitor of 0502 on B')
  const placed = await door.post('/call?to=0502')
  check(placed.id && !placed.error, `the door station calls 0502 through A (${placed.state || placed.error})`)
  await until(async () => (await door.status()).sip.calls.some((c) => c.id === placed.id && c.state === 'answered'), "the door's call to be answered")
  await until(async () => (await monitor.status()).sip.calls.some((c) => c.direction === 'in' && c.state === 'answered'), 'the monitor to show the answered call')
  check(true, 'the monitor registered on B answers the call that came to A')
  await sleep(1200) // a second of talk
  await door.post('/hangup')
  const calls = await until(async () => {
    const r = await mgr.call('GET', `/api/v1/communities/${cid}/records/calls?size=50`)
    const mine = r.body.items.filter((c) => c.target === '0502' || c.callee?.endsWith('0502'))
    return mine.length && mine.every((c) => c.result === 'answered') ? mine : null
  }, 'the call record of the answered call')
  check(calls.length === 1 && calls[0].answerer, `呼叫记录 holds the call once, 已接听 by ${calls[0].answerer} (${calls.length} record)`)

  // ---- 4. instance B killed while writes go on ----
  const wall = await (await fetch(`${lb}/device/v1/bind`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ community_id: cid, community_password: password, serial: 'NODE-WALL-1', slot: { kind: 'wall', index: 1 } }),
  })).json()
  check(wall.token, 'a wall station binds through the balancer')
  const cookie = await mgr.cookie()
  const acked = { cards: [], events: [] }
  const failures = { cards: 0, events: 0 }
  let stopWrites = false
  let seq = 0
  const jpeg = bytesA
  // reportEvent posts an event as a device does: retried with the same
  // event id until the server answers 2xx.
  // (The same report each time: a report that differs from the stored one
  // under the same event id is refused as a conflict.)
  let gaveUp = 0
  async function reportEvent(id) {
    const time = new Date().toISOString()
    for (let attempt = 0; attempt < 40; attempt++) {
      const form = new FormData()
      form.set('event_id', id)
      form.set('type', 'unlock')
      form.set('unlock_type', 'button')
      form.set('time', time)
      form.set('snapshot', new Blob([jpeg], { type: 'image/jpeg' }), 'snapshot.jpg')
      const r = await fetch(`${lb}/device/v1/events`, { method: 'POST', headers: { Authorization: `Bearer ${wall.token}` }, body: form }).catch(() => null)
      if (r && r.status >= 200 && r.status < 300) return true
      failures.events++
      await sleep(100)
    }
    gaveUp++
    return false
  }
  async function writer(w) {
    while (!stopWrites) {
      const n = ++seq
      const number = `FA${String(w).padStart(2, '0')}${String(n).padStart(4, '0')}`
      const r = await fetch(`${lb}/api/v1/communities/${cid}/cards/super`, {
        method: 'POST', headers: { 'Content-Type': 'application/json', Cookie: cookie }, body: JSON.stringify({ number }),
      }).catch(() => null)
      if (r && r.status === 201) acked.cards.push(number)
      else failures.cards++
      const id = `NODE-WALL-1-${n}`
      if (await reportEvent(id)) acked.events.push(id)
    }
  }
  const writers = [1, 2, 3, 4].map(writer)
  await until(() => acked.cards.length >= 20, '20 acknowledged writes before the kill')
  const killedAt = acked.cards.length
  await stopProcess(instances.B.child, 'SIGKILL')
  check(true, `instance B killed (SIGKILL) with writes in flight (${killedAt} cards acknowledged so far)`)
  await until(() => acked.cards.length >= killedAt + 40, '40 more acknowledged writes after the kill', 60000)
  stopWrites = true
  await Promise.all(writers)
  check(true, `writes went on through A: ${acked.cards.length} cards and ${acked.events.length} events acknowledged, ${failures.cards} card and ${failures.events} event attempts failed during the kill`)
  const stored = new Set(psql(dbURL, `SELECT number FROM cards WHERE community_id = ${cid} AND number LIKE 'FA%'`).split('\n').filter(Boolean))
  const lost = acked.cards.filter((n) => !stored.has(n))
  check(lost.length === 0, `every acknowledged card is in the database (${acked.cards.length} acknowledged, ${stored.size} stored${lost.length ? ', lost: ' + lost.join(' ') : ''})`)
  const events = psql(dbURL, `SELECT event_id, count(*) FROM events WHERE event_id LIKE 'NODE-WALL-1-%' GROUP BY event_id`).split('\n').filter(Boolean).map((l) => l.split('|'))
  const twice = events.filter(([, c]) => c !== '1')
  const eventIds = new Set(events.map(([id]) => id))
  check(gaveUp === 0, `every event report was acknowledged, retried with its event id where the kill cut it off (${gaveUp} given up)`)
  check(acked.events.every((id) => eventIds.has(id)) && twice.length === 0,
    `every acknowledged event is recorded exactly once (${acked.events.length} acknowledged, ${events.length} recorded, ${twice.length} twice)`)
  const listed = (await atA('GET', `/api/v1/communities/${cid}/records/unlocks?size=1`)).body.total
  check(listed === unlocks.total + eventIds.size, `开锁记录 lists each of them once (${listed} records)`)
  const readyA = await fetch(`${lb}/readyz`)
  check(readyA.status === 200, 'the balancer keeps answering through A')
  await until(() => door.swipe('1A2B3C4D'), 'the door station still opening for its cards')
  check((await door.status()).online, 'the devices stay connected (the broker is not the instance)')

  // B comes back on its ports and serves again.
  const servedBack = await (async () => { await startInstance('B'); return served('B') })()
  await until(async () => {
    for (let i = 0; i < 6; i++) await fetch(`${lb}/api/v1/me`, { headers: { Cookie: cookie } })
    return (await served('B')) > servedBack
  }, 'the balancer to send requests to B again')
  check(true, 'instance B, started again, serves through the balancer')
  // The monitor's registration outlived B (it is kept in the database): a
  // new call from the door on A reaches it through the restarted B.
  const again = await door.post('/call?to=0502')
  await until(async () => (await door.status()).sip.calls.some((c) => c.id === again.id && c.state === 'answered'), 'the second call to be answered')
  await door.post('/hangup')
  const callsAfter = await until(async () => {
    const r = await mgr.call('GET', `/api/v1/communities/${cid}/records/calls?size=50`)
    const mine = r.body.items.filter((c) => c.target === '0502' || c.callee?.endsWith('0502'))
    return mine.length === 2 && mine.every((c) => c.result === 'answered') ? mine : null
  }, 'the second call record')
  check(callsAfter.length === 2, 'after the restart a call from A reaches the monitor through B again; 呼叫记录 holds each call once (2 records)')

  // ---- 5. the broker restarts ----
  await stopProcess(broker, 'SIGKILL')
  await until(async () => !(await door.status()).online && !(await monitor.status()).online, 'the devices to see the broker gone')
  // The monitor goes away while the broker is down: nobody hears its goodbye.
  await stopProcess(monitor.proc, 'SIGKILL')
  broker = await startBroker()
  await until(async () => (await door.status()).online, 'the door station to reconnect', 30000)
  check(true, 'after the broker restarts the door station reconnects')
  await until(async () => (await fetch(`${direct.A}/readyz`)).status === 200 && (await fetch(`${direct.B}/readyz`)).status === 200, 'both instances to reconnect to the broker')
  await until(async () => (await fetch(`${lb}/readyz`)).status === 200, 'the balancer to take the instances back')
  check(true, 'both instances reconnect to the broker and the balancer takes them back')
  const viaLB = await apiAt(lb, cookie)('POST', `/api/v1/communities/${cid}/cards`, { number: '0C0C0001', resident_id: owner.id })
  check(viaLB.status === 201, `a card issued after the broker restart (${viaLB.status})`)
  await until(() => door.swipe('0C0C0001'), 'the door station to open for 0C0C0001')
  check(true, 'the nudge reaches the reconnected door station and it opens for the new card')
  const presence = async () => {
    const out = {}
    for (const kind of ['door', 'indoor']) {
      const r = await mgr.call('GET', `/api/v1/communities/${cid}/devices?kind=${kind}&size=50`)
      for (const d of r.body.items || []) if (d.serial) out[d.serial] = d.status
    }
    return out
  }
  await until(async () => (await presence())['SIM-DOOR-A'] === 'online', 'the device list to show the door station 在线')
  check(true, '设备列表 after the broker restart shows the reconnected door station 在线')
  // The monitor went away while the broker was down: its last will died
  // with the broker. Each instance asked every device for its status once
  // it was subscribed again, and after the grace window shows 离线 those it
  // has not heard since its session was lost.
  const afterGrace = await until(async () => {
    const p = await presence()
    return p['SIM-MONITOR-B'] === 'offline' ? p : null
  }, 'the device list to show the monitor switched off during the outage 离线', 60000)
  check(afterGrace['SIM-MONITOR-B'] === 'offline' && afterGrace['SIM-DOOR-A'] === 'online',
    `设备列表 after the grace window: the monitor switched off during the outage ${afterGrace['SIM-MONITOR-B']}, the door station ${afterGrace['SIM-DOOR-A']}`)
  const resynced = ['A', 'B'].filter((name) => /msg="presence resync: devices not heard since the broker session was lost are 离线"/.test(instances[name].log()))
  check(resynced.length === 2, `both instances checked presence again after their sessions were lost (${resynced.join(', ')})`)

  check(pageErrors.length === 0, `no script errors or CSP violations in the console (${pageErrors.join('; ')})`)
} catch (err) {
  failed = true
  console.error(err)
  for (const [name, p] of Object.entries(instances)) console.error(`---- instance ${name} log (tail):\n${p.log().slice(-6000)}`)
} finally {
  await cleanup()
}
const seconds = ((Date.now() - started) / 1000).toFixed(1)
if (failed) {
  console.error(`two instances: FAILED after ${seconds} s`)
  process.exit(1)
}
console.log(`two instances behind HAProxy: ${checkCount()} checks passed in ${seconds} s wall time`)
