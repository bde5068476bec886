// Answering the door in a browser (docs/webcall.md), against the real linli
// binary, a simulated door station (`linli sim`, real SIP, H.264 and G.711)
// and Chromium with a fake camera and microphone:
//
//   node e2e/doorcall.mjs           builds ./cmd/linli (LINLI_BIN=path reuses one)
//
// 1. 门口呼叫 in the console: a 物业管理员 opens the page, the door station
//    dials 9900, the page rings and decodes the door's video before 接听;
//    after 接听 the video keeps coming, the door's audio arrives and the door
//    station counts the browser's audio; 开门 opens the simulated door and
//    the 开锁记录 shows 通话中开锁 with the manager's name; after 挂断 the
//    呼叫记录 names the manager with the talk time.
// 2. The residents' H5 at 390×844: two residents of 0502 have the site open,
//    the door calls 0502, both ring; the second answers and the first stops
//    ringing with 已在其他设备接听.
// 3. 监视 from the H5 (two phones) and the console: each decodes frames, and
//    the door station has one monitoring call for all of them; 对讲 in the
//    console reaches the door station.
// 4. The console against a staged socket: a refused microphone, two calls
//    at once, answered elsewhere, a dropped socket and the reconnection.
//
// Screenshots go to e2e/shots/doorcall-*.png. Any failed check ends the run
// with exit status 1, after the server, the simulator and Chromium stop.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { here, check, checkCount, startServer, launch, phone, layout, watch } from './lib.mjs'
import { ADMIN_INITIAL, MANAGER, OWNER_PHONE, FAMILY_PHONE, DEADLINE_MS, MEDIA_FLAGS, until, appToken, seed, startDoor, RECORD_PEERS, media } from './calllib.mjs'
import { checkA11y } from './layout.mjs'

const shots = join(here, 'shots')
mkdirSync(shots, { recursive: true })
const work = mkdtempSync(join(tmpdir(), 'linli-doorcall-'))
const started = Date.now()

const srv = await startServer(work, { bin: process.env.LINLI_BIN, env: { LINLI_ADMIN_PASSWORD: ADMIN_INITIAL } })
const base = srv.base
console.log(`linli at ${base}`)

let shotNo = 0
async function shot(page, name) {
  await page.waitForTimeout(300)
  await page.screenshot({ path: join(shots, `doorcall-${String(++shotNo).padStart(2, '0')}-${name}.png`) })
}

let browser = null
let door = null
let failed = false
const pages = [] // for a look at what they showed when a check failed
try {
  browser = await launch(MEDIA_FLAGS)
  const scene = await seed(srv)
  door = await startDoor(srv, scene.cid, scene.community.community_password, scene.unitId)
  const doorLabel = (await door.status()).label
  check(true, `seeded 测试小区1 (0502: 张三 业主, 李四 家属, APP呼叫), 物业管理员 ${MANAGER.name}, door station ${doorLabel} registered`)

  // ---- 1. 门口呼叫 in the console ----
  const staff = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' })
  await staff.grantPermissions(['microphone', 'camera'], { origin: base })
  await staff.addInitScript(RECORD_PEERS)
  const page = await staff.newPage()
  pages.push(page)
  page.setDefaultTimeout(DEADLINE_MS)
  const problems = []
  watch(page, problems)
  const tid = (id) => page.getByTestId(id)
  await page.goto(`${base}/login`)
  await tid('login-account').fill(MANAGER.account)
  await tid('login-password').fill(MANAGER.password)
  await tid('login-submit').click()
  await page.waitForURL((u) => !u.pathname.startsWith('/login'))
  await tid('menu-door-calls').click()
  await page.waitForURL(/\/door-calls/)
  await tid('doorcalls-presence').filter({ hasText: '已就绪，可接听门口呼叫' }).waitFor()
  check(true, '门口呼叫 (menu 门口呼叫) gets a ticket, opens the socket and says 已就绪，可接听门口呼叫')
  check(await tid('doorcalls-sound-hint').isVisible(), 'before a click the page says 点击页面任意处以启用铃声')
  await page.locator('.filters').click({ position: { x: 5, y: 5 } })
  await tid('doorcalls-sound-hint').waitFor({ state: 'detached' })
  check(true, 'a click enables the ring and the hint goes away')
  await tid('doorcalls-watch-start').first().waitFor()
  await shot(page, 'console-ready')

  const consoleCall = door.dial('9900')
  await tid('doorcalls-queue-item').first().waitFor()
  check((await tid('doorcalls-from').innerText()).trim() === doorLabel, `the door's call to 9900 rings the page: ${doorLabel}`)
  check((await tid('doorcalls-queue-state').first().innerText()).includes('振铃中'), 'the queue shows it 振铃中')
  const early = await until(async () => { const m = await media(page); return m.framesDecoded > 0 && m }, 'video frames before 接听')
  check(early.framesDecoded > 0, `video is decoded before 接听 (early media): ${early.framesDecoded} frames`)
  check(early.audioSent === 0, 'no microphone before 接听')
  await shot(page, 'console-ringing')
  const a11y = (await checkA11y(page)).map((f) => '门口呼叫 (ringing): ' + f)

  await tid('doorcalls-accept').click()
  await tid('doorcalls-open').waitFor()
  const f0 = (await media(page)).framesDecoded
  const talking = await until(async () => { const m = await media(page); return m.framesDecoded > f0 + 10 && m.audioReceived > 0 && m }, 'video and audio after 接听')
  check(true, `after 接听 the frames keep coming (${f0} → ${talking.framesDecoded}) and the door's audio arrives (${talking.audioReceived} packets)`)
  const heard = await until(async () => {
    const c = ((await door.status()).sip?.calls || []).find((x) => x.direction === 'out' && x.state === 'answered')
    return c && c.rtp_received > 0 && c
  }, 'the door station to receive the browser\'s audio')
  check(true, `the door station counts ${heard.rtp_received} audio packets from the browser`)
  await tid('doorcalls-state').filter({ hasText: /通话中 (?!00:00)\d\d:\d\d/ }).waitFor()
  check(true, `the call timer runs (${await tid('doorcalls-state').innerText()})`)
  await shot(page, 'console-answered')

  await tid('doorcalls-open').click()
  const opened = await until(async () => ((await door.status()).unlocks || []).find((u) => u.type === 'call'), 'the door to open')
  check(opened.call_id === heard.id, `开门 opens the simulated door during the call (via ${opened.via})`)
  await page.locator('.el-message--success').filter({ hasText: '门已打开' }).waitFor()
  check(true, 'the page says 门已打开')
  await tid('doorcalls-hangup').click()
  await tid('doorcalls-outcome').filter({ hasText: '已挂断' }).waitFor()
  check(true, '挂断 ends the call; 最近结果 shows 已挂断')
  await consoleCall

  const unlock = await until(async () => (await scene.mgr('GET', `/api/v1/communities/${scene.cid}/records/unlocks?size=50`)).items.find((r) => r.unlock_type_name === '通话中开锁'), 'the 通话中开锁 record')
  check(JSON.stringify(unlock).includes(MANAGER.name), `开锁记录: 通话中开锁 by ${MANAGER.name} (${JSON.stringify(unlock).slice(0, 200)})`)
  const record = await until(async () => (await scene.mgr('GET', `/api/v1/communities/${scene.cid}/records/calls?size=50`)).items.find((r) => r.answered_at && r.ended_at && !r.monitor), 'the call record')
  check((record.answerer || '').includes(MANAGER.name) && record.talk_seconds > 0, `呼叫记录: answered by ${record.answerer}, ${record.talk_seconds} s`)
  await tid('menu-records/unlocks').click()
  await page.locator('.el-table__row').filter({ hasText: '通话中开锁' }).first().waitFor()
  check((await page.locator('.el-table__row').filter({ hasText: '通话中开锁' }).first().innerText()).includes(MANAGER.name), 'the 开锁记录 page lists 通话中开锁 with the manager\'s name')
  await shot(page, 'console-unlock-records')
  await tid('menu-records/calls').click()
  await page.waitForURL(/\/records\/calls/)
  const row = page.locator('.el-table__row').filter({ hasText: '9900' }).filter({ hasText: MANAGER.name }).first()
  await row.waitFor()
  check(/[1-9]\d*秒/.test(await row.innerText()), `the 呼叫记录 page names the manager with the talk time (${(await row.innerText()).replace(/\s+/g, ' ')})`)
  await shot(page, 'console-call-records')

  // ---- 2. the residents' H5: a call to 0502 rings both phones ----
  async function resident(phoneNo) {
    const p = await phone(browser, base)
    await p.context.grantPermissions(['microphone', 'camera'], { origin: base })
    await p.context.addInitScript(RECORD_PEERS)
    p.page.setDefaultTimeout(DEADLINE_MS)
    pages.push(p.page)
    const token = await appToken(srv, phoneNo)
    await p.page.goto(`${base}/h5/#/login`)
    await p.page.evaluate((t) => localStorage.setItem('linli.h5.token', t), token)
    await p.page.goto(`${base}/h5/#/doors`)
    await p.page.locator('body[data-calls="ready"]').waitFor({ state: 'attached' })
    return p
  }
  const owner = await resident(OWNER_PHONE)
  const family = await resident(FAMILY_PHONE)
  check(true, 'two residents of 0502 have the H5 open and reachable')
  const roomCall = door.dial('0502')
  await owner.page.getByTestId('h5-incoming').waitFor()
  await family.page.getByTestId('h5-incoming').waitFor()
  check((await owner.page.getByTestId('h5-incoming-from').innerText()).trim() === doorLabel, 'the call to 0502 rings both phones with the caller')
  const phoneEarly = await until(async () => { const m = await media(owner.page); return m.framesDecoded > 0 && m }, 'video on the phone before 接听')
  check(true, `the phone decodes the door's video before 接听 (${phoneEarly.framesDecoded} frames)`)
  const fit = await layout(owner.page)
  check(fit.length === 0, `the call screen fits 390 px${fit.length ? ': ' + fit.join('; ') : ''}`)
  await shot(owner.page, 'h5-ringing')
  await family.page.getByTestId('h5-incoming-accept').click()
  await family.page.getByTestId('h5-incoming-state').filter({ hasText: '通话中' }).waitFor()
  await owner.page.getByTestId('h5-incoming-state').filter({ hasText: '已在其他设备接听' }).waitFor()
  check(true, 'the second phone answers; the first stops ringing: 已在其他设备接听')
  await shot(owner.page, 'h5-answered-elsewhere')
  await owner.page.getByTestId('h5-incoming').waitFor({ state: 'detached' })
  await shot(family.page, 'h5-answered')
  await family.page.getByTestId('h5-incoming-hangup').click()
  await family.page.getByTestId('h5-incoming').waitFor({ state: 'detached' })
  await roomCall
  await until(async () => !((await door.status()).sip?.calls || []).some((c) => c.state !== 'ended'), 'the door station to be idle')

  // ---- 3. 监视: two phones and the console share one upstream ----
  async function watchFrom(p) {
    await p.page.goto(`${base}/h5/#/monitor`)
    await p.page.getByTestId('h5-station').first().waitFor()
    await p.page.getByTestId('h5-station').filter({ hasText: doorLabel }).getByTestId('h5-monitor-start').click()
    await p.page.getByTestId('h5-monitor-viewer').waitFor()
    return until(async () => { const m = await media(p.page); return m.framesDecoded > 0 && m }, '监视 frames on the phone')
  }
  const w1 = await watchFrom(owner)
  check(true, `监视 on the H5 decodes the door's video (${w1.framesDecoded} frames)`)
  const left = Number((await owner.page.getByTestId('h5-monitor-left').innerText()).match(/\d+/)[0])
  check(left > 0 && left <= 60, `剩余 ${left} 秒`)
  await shot(owner.page, 'h5-monitor')
  const w2 = await watchFrom(family)
  check(true, `a second phone watches too (${w2.framesDecoded} frames)`)
  await page.goto(`${base}/door-calls`)
  await tid('doorcalls-presence').filter({ hasText: '已就绪' }).waitFor()
  await tid('doorcalls-watch-start').first().waitFor()
  await page.locator('.el-table__row').filter({ hasText: doorLabel }).getByTestId('doorcalls-watch-start').click()
  await tid('doorcalls-watch').waitFor()
  await until(async () => (await media(page)).framesDecoded > 0, '监视 frames in the console')
  check(true, 'and the console (监视 panel)')
  await shot(page, 'console-monitor')
  a11y.push(...(await checkA11y(page)).map((f) => '门口呼叫 (监视): ' + f))
  check(a11y.length === 0, `axe finds nothing serious or critical on 门口呼叫${a11y.length ? ':\n  ' + a11y.join('\n  ') : ''}`)
  const incoming = ((await door.status()).sip?.calls || []).filter((c) => c.direction === 'in' && c.state !== 'ended')
  check(incoming.length === 1, `three viewers, one upstream: the door station has ${incoming.length} monitoring call`)
  const monitorCall = () => door.status().then((st) => (st.sip?.calls || []).find((c) => c.id === incoming[0].id))
  const quiet = (await monitorCall()).rtp_received
  await tid('doorcalls-watch-talk').click()
  await tid('doorcalls-watch-talk').filter({ hasText: '结束对讲' }).waitFor()
  const talked = await until(async () => { const c = await monitorCall(); return c.rtp_received > quiet + 10 && c }, 'the console\'s voice at the door station (对讲)')
  check(true, `对讲 in the console's 监视: the door station hears it (${quiet} → ${talked.rtp_received} audio packets)`)
  await tid('doorcalls-watch-talk').click()
  await tid('doorcalls-watch-talk').filter({ hasText: /^\s*对讲\s*$/ }).waitFor()
  await owner.page.getByTestId('h5-monitor-end').click()
  await owner.page.getByTestId('h5-monitor-viewer').waitFor({ state: 'hidden' })
  await family.page.getByTestId('h5-monitor-end').click()
  await tid('doorcalls-watch-end').click()
  await tid('doorcalls-watch').waitFor({ state: 'detached' })
  await until(async () => !((await door.status()).sip?.calls || []).some((c) => c.state !== 'ended'), 'the monitoring call to end when the last viewer leaves')
  check(true, 'when the last viewer leaves, the monitoring call ends')

  // ---- 4. the console against a staged socket: what the door station cannot easily stage ----
  // A refused microphone, two calls at once, answered elsewhere, and the
  // socket dropping (the page gets a new ticket and comes back).
  {
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' })
    await ctx.addInitScript(() => {
      navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('denied', 'NotAllowedError'))
    })
    await ctx.addCookies(await staff.cookies(base))
    const sockets = []
    const received = []
    await ctx.routeWebSocket(/\/webcall\/ws/, (ws) => {
      sockets.push(ws)
      ws.onMessage((m) => received.push(JSON.parse(String(m))))
      ws.send(JSON.stringify({ type: 'ready', name: MANAGER.name }))
    })
    const sp = await ctx.newPage()
    pages.push(sp)
    sp.setDefaultTimeout(DEADLINE_MS)
    const st = (id) => sp.getByTestId(id)
    const sent = (type, call) => until(() => received.find((m) => m.type === type && m.call === call), `the page to send ${type} for ${call}`)
    const send = (m) => sockets[sockets.length - 1].send(JSON.stringify(m))
    await sp.goto(`${base}/door-calls`)
    await st('doorcalls-presence').filter({ hasText: '已就绪' }).waitFor()
    send({ type: 'ring', call: 'c1', from: '【测试小区1】-1区-1栋-1单元-门口机1', device_id: 1, started_at: new Date().toISOString() })
    send({ type: 'ring', call: 'c2', from: '【测试小区1】-围墙机1', device_id: 2, started_at: new Date().toISOString() })
    await sent('offer', 'c1')
    await sent('offer', 'c2')
    await until(async () => (await st('doorcalls-queue-item').count()) === 2, 'two calls in the queue')
    check(true, 'two calls ring at once: both in the queue, an offer for each')
    await st('doorcalls-queue-item').filter({ hasText: '围墙机1' }).locator('button').click()
    await st('doorcalls-from').filter({ hasText: '围墙机1' }).waitFor()
    await st('doorcalls-accept').click()
    await sent('accept', 'c2')
    await st('doorcalls-mic-refused').waitFor()
    check(true, 'the microphone refused: 接听 goes through anyway and says 未获得麦克风权限，只能听到对方的声音')
    send({ type: 'accepted', call: 'c2' })
    await st('doorcalls-open').waitFor()
    send({ type: 'ended', call: 'c1', reason: '已在其他设备接听' })
    await st('doorcalls-outcome').filter({ hasText: '已在其他设备接听' }).waitFor()
    check((await st('doorcalls-queue-item').count()) === 1, 'the other call answered elsewhere leaves the queue: 最近结果 says 已在其他设备接听')
    await shot(sp, 'console-staged')
    sockets[sockets.length - 1].close()
    await st('doorcalls-outcome').filter({ hasText: '连接中断' }).waitFor()
    await until(async () => sockets.length === 2, 'a new socket after the drop')
    await st('doorcalls-presence').filter({ hasText: '已就绪' }).waitFor()
    check(true, 'the socket drops: the call ends with 连接中断, and the page reconnects with a new ticket')
    await ctx.close()
  }

  check(problems.length === 0, `no script errors or CSP violations in the console (${problems.join('; ')})`)
  check(owner.problems.length === 0 && family.problems.length === 0, `no script errors or CSP violations on the phones (${[...owner.problems, ...family.problems].join('; ')})`)
} catch (err) {
  failed = true
  console.error(err)
  for (const p of pages) {
    const text = await p.evaluate(() => document.body.innerText).catch(() => '')
    console.error(`--- ${p.url()} shows:\n${text.slice(0, 1500)}`)
  }
  if (door) console.error('simulator:\n' + door.log().slice(-3000))
  console.error('server:\n' + srv.log().slice(-3000))
} finally {
  if (browser) await browser.close()
  if (door) door.proc.kill('SIGTERM')
  srv.stop()
  rmSync(work, { recursive: true, force: true })
}
if (failed) process.exit(1)
console.log(`door calls in the browser passed (${checkCount()} checks, ${Math.round((Date.now() - started) / 1000)} s); screenshots in ${shots}`)
