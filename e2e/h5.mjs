// The residents' H5 against the real /app/v1, in Chromium at 390×844.
//
//   node e2e/h5.mjs                      builds ./cmd/linli, starts it (fresh
//                                        SQLite) and a simulated door station
//   node e2e/h5.mjs --url http://127.0.0.1:8080 --log server.log \
//        --admin-password '…'            walks a running server instead; the
//                                        sign-in codes are read from its log
//
// It seeds through the console API what the pages need (a community, its
// property manager, 1区1栋1单元 with 24 rooms, 张三 业主 of 0502 with the
// phone 13800138000, 李四 家属, a notice), signs in on the phone with the
// code linli logs when no SMS gateway is configured, and walks every screen:
// 开门 (the simulated door opens: its /status shows last_open, and the
// property manager's 开锁记录 at 1366×768 shows 张三 and APP远程), 访客通行
// (create, the public share page, 撤销; a 2-use pass whose QR code the door
// station accepts twice and refuses the third time), 家人 (invite a new phone,
// who joins at once and signs in to see 0502 with the invited role; remove),
// 人脸 (consent, upload, withdraw), 通知 (read), 通话记录, 免打扰 (left on and
// active), 我的房屋 and its sessions, then an expired session back to sign-in.
// Any failed check ends the walk with exit status 1, after the server, the
// simulator and Chromium are stopped. Screenshots go to e2e/artifacts/h5-real/.
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { here, check, checkCount, startServer, launch, phone, layout, codeFromLog, flatShot, watch } from './lib.mjs'

const arg = (k) => { const i = process.argv.indexOf(k); return i > 0 ? process.argv[i + 1] : undefined }
const ADMIN_INITIAL = 'Admin-Initial-1'
const ADMIN_PW = arg('--admin-password') || process.env.LINLI_ADMIN_PASSWORD || 'Operator-Pass-2026'
const MANAGER_PW = 'Manager-Pass-2026'
const PHONE = '13800138000'
const FAMILY_PHONE = '13900000002'
const INVITED_PHONE = '13512345678'
const stamp = Date.now().toString(36).slice(-4)
const COMMUNITY = arg('--url') ? `H5小区${stamp}` : '测试小区1'

const artifacts = join(here, 'artifacts', 'h5-real')
rmSync(artifacts, { recursive: true, force: true })
mkdirSync(artifacts, { recursive: true })
const work = mkdtempSync(join(tmpdir(), 'linli-h5real-'))

let srv
if (arg('--url')) {
  const file = arg('--log')
  if (!file) throw new Error('--log <server log file> is needed to read the sign-in codes')
  srv = { base: arg('--url').replace(/\/$/, ''), log: () => readFileSync(file, 'utf8'), stop: () => {} }
} else {
  srv = await startServer(work, { bin: process.env.LINLI_BIN, env: { LINLI_ADMIN_PASSWORD: ADMIN_INITIAL } })
}
const base = srv.base
console.log(`linli at ${base}`)

// ---- the console API, as a signed-in account (cookie session) ----
function consoleClient() {
  let cookie = ''
  const call = async (method, path, body, ok = [200, 201, 204]) => {
    const res = await fetch(base + path, {
      method, headers: { ...(body ? { 'Content-Type': 'application/json' } : {}), ...(cookie ? { Cookie: cookie } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    })
    const set = res.headers.getSetCookie ? res.headers.getSetCookie() : []
    for (const c of set) if (c.startsWith('linli_session=')) cookie = c.split(';')[0]
    const text = await res.text()
    const out = text ? JSON.parse(text) : null
    if (!ok.includes(res.status)) throw new Error(`${method} ${path}: ${res.status} ${text}`)
    return out
  }
  return {
    call,
    async login(account, passwords, next) {
      for (const pw of passwords) {
        const res = await fetch(base + '/api/v1/session', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ account, password: pw }) })
        if (res.status !== 200) continue
        cookie = (res.headers.getSetCookie().find((c) => c.startsWith('linli_session=')) || '').split(';')[0]
        const me = await res.json()
        if (me.must_change_password) {
          await call('PUT', '/api/v1/me/password', { old_password: pw, new_password: next })
          return this.login(account, [next])
        }
        return me
      }
      throw new Error(`cannot sign in as ${account}`)
    },
  }
}

// ---- the residents' API, as the app would call it (for setting the scene) ----
async function appCall(token, method, path, body) {
  const res = await fetch(base + '/app/v1' + path, { method, headers: { Authorization: 'Bearer ' + token, ...(body ? { 'Content-Type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : null }
}

// chinaDate is the date (YYYY-MM-DD) in China at ms.
const chinaDate = (ms) => new Date(ms + 8 * 3600000).toISOString().slice(0, 10)

async function seed() {
  const admin = consoleClient()
  await admin.login('admin', arg('--url') ? [ADMIN_PW, ADMIN_INITIAL] : [ADMIN_INITIAL], ADMIN_PW)
  const community = await admin.call('POST', '/api/v1/communities', { name: COMMUNITY, region_code: '440306', address: '宝安大道 1 号', wall_station_count: 1 })
  const cid = community.id
  const account = `h5wy${stamp}`
  await admin.call('POST', '/api/v1/accounts', { account, name: '王经理', phone: '13700137000', role: 'property_admin', community_ids: [cid] })
  const mgr = consoleClient()
  await mgr.login(account, ['123456'], MANAGER_PW)
  const area = await mgr.call('POST', `/api/v1/communities/${cid}/areas`, { number: 1 })
  const building = await mgr.call('POST', `/api/v1/communities/${cid}/buildings`, { area_id: area.id, number: 1 })
  const unit = await mgr.call('POST', `/api/v1/communities/${cid}/units`, { building_id: building.id, number: 1, device_count: 1 })
  await mgr.call('POST', `/api/v1/communities/${cid}/units/${unit.id}/rooms/batch`, { floors: 6, rooms_per_floor: 4 })
  const rooms = (await mgr.call('GET', `/api/v1/communities/${cid}/rooms?unit_id=${unit.id}&size=100`)).items
  const room = rooms.find((r) => r.label.endsWith('-0502'))
  await mgr.call('POST', `/api/v1/communities/${cid}/residents`, { room_id: room.id, name: '张三', role: '业主', phone: PHONE })
  await mgr.call('POST', `/api/v1/communities/${cid}/residents`, { room_id: room.id, name: '李四', role: '家属', phone: FAMILY_PHONE })
  const now = Date.now()
  await mgr.call('POST', `/api/v1/communities/${cid}/notices`, { title: '停水通知', content: '周三 9:00–12:00 小区停水，请提前储水。', show_from: chinaDate(now), show_to: chinaDate(now + 3 * 86400000) })
  return { cid, community, unitId: unit.id, room, account }
}

// startDoor starts `linli sim` as the door station of the unit, so that
// 开门 reaches a device that is online.
async function startDoor(cid, password, unitId) {
  if (!srv.bin || !srv.mqtt) return null
  const proc = spawn(srv.bin, ['sim', '-server', base, '-mqtt', srv.mqtt, '-sip', srv.sip, '-community', String(cid), '-password', password,
    '-slot', `door:${unitId}:1`, '-serial', 'SIM-H5', '-orientation', 'landscape', '-control', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  proc.stderr.on('data', (c) => { out += c })
  const control = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`simulator did not start:\n${out}`)), 30000)
    proc.stdout.on('data', (c) => {
      const m = String(c).match(/sim control at (http:\/\/[0-9.:]+)/)
      if (m) { clearTimeout(timer); resolve(m[1]) }
    })
  })
  return { proc, control }
}

let browser = null
let door = null
let failed = false
const layoutFindings = []
let shotNo = 0
try {
  browser = await launch()
  const scene = await seed()
  check(true, `seeded ${COMMUNITY}: 0502 with 张三 (业主) and 李四 (家属)`)
  door = await startDoor(scene.cid, scene.community.community_password, scene.unitId)

  const { context, page, problems } = await phone(browser, base)
  const tid = (id) => page.getByTestId(id)
  async function shot(name) {
    await page.waitForTimeout(300)
    const found = await layout(page)
    if (found.length) layoutFindings.push(`${name}: ${found.join('; ')}`)
    else console.log(`ok - ${name}: fits 390 px`)
    await flatShot(page, join(artifacts, `${String(++shotNo).padStart(2, '0')}-${name}.png`))
  }
  // go opens a screen and waits for it, or says what it shows instead.
  const go = async (hash, ready) => {
    await page.goto(`${base}/h5/${hash}`)
    await page.locator(`[data-testid="${ready}"], [data-testid="h5-error"], [data-testid="h5-login-form"]`).first().waitFor()
    if (!(await tid(ready).count())) {
      const said = (await tid('h5-error').count()) ? await tid('h5-error').first().innerText() : 'the sign-in screen'
      throw new Error(`${hash} shows ${said.trim()} instead of ${ready}`)
    }
  }
  async function signIn(p = page, phoneNo = PHONE) {
    const t = (id) => p.getByTestId(id)
    await t('h5-login-phone').fill(phoneNo)
    const before = srv.log().length
    await t('h5-login-send').click()
    await t('h5-login-send').filter({ hasText: /秒后重新获取/ }).waitFor()
    const code = await codeFromLog(srv.log, phoneNo, before)
    await t('h5-login-code').fill(code)
    await t('h5-login-submit').click()
    await p.waitForURL((u) => !u.hash.startsWith('#/login'))
  }
  // simStatus is the door station's own account of itself (GET /status).
  const simStatus = async () => (await (await fetch(`${door.control}/status`)).json())[0]
  const simScan = async (code) => (await fetch(`${door.control}/qr`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code }) })).json()

  // ---- 登录 ----
  await page.goto(`${base}/h5/`)
  await tid('h5-login-form').waitFor()
  await shot('login')
  await signIn()
  const token = await page.evaluate(() => localStorage.getItem('linli.h5.token'))
  check(!!token, 'signed in with the code from the server log')

  // ---- 通知 ----
  await go('#/notices', 'h5-notice')
  const notice = tid('h5-notice').filter({ hasText: '停水通知' })
  await notice.getByTestId('h5-notice-open').click()
  await notice.getByTestId('h5-notice-content').waitFor()
  await page.waitForTimeout(500)
  const read = await appCall(token, 'GET', '/notices')
  check(read.body.items.find((n) => n.title === '停水通知').read, 'opening a notice marks it read')
  await shot('notices')

  // ---- 我的房屋 ----
  await go('#/me', 'h5-room')
  const roomText = await tid('h5-room').first().innerText()
  check(roomText.includes(`【${COMMUNITY}】-1区-1栋-1单元-0502`) && roomText.includes('业主'), `我的房屋 shows 0502 as 业主 (${roomText.split('\n')[0]})`)
  await tid('h5-session').first().waitFor()
  check((await tid('h5-session').first().innerText()).includes('H5'), 'the session list names this browser')
  await shot('me')

  // ---- 开门 ----
  await go('#/doors', 'h5-doors')
  await shot('doors')
  const unitDoor = tid('h5-door').filter({ hasText: '门口机' }).first()
  if (door) {
    for (let i = 0; i < 50 && !(await unitDoor.innerText()).includes('在线'); i++) {
      await page.waitForTimeout(300)
      await page.reload()
      await tid('h5-doors').waitFor()
    }
    check((await unitDoor.innerText()).includes('在线'), 'the simulated door station shows 在线')
    await unitDoor.getByTestId('h5-door-open').click()
    await unitDoor.getByTestId('h5-door-open').filter({ hasText: '已开门' }).waitFor({ timeout: 20000 })
    check(true, 'one tap opens the simulated door: 已开门')
    await shot('doors-opened')
    const me = (await appCall(token, 'GET', '/me')).body
    let lastOpen
    for (let i = 0; i < 50 && !lastOpen; i++) {
      lastOpen = (await simStatus()).last_open
      if (!lastOpen) await page.waitForTimeout(200)
    }
    check(lastOpen && lastOpen.type === 'app' && Date.now() - Date.parse(lastOpen.at) < 60000,
      `the door station's /status shows the opening as last_open (${JSON.stringify(lastOpen)})`)
    const mine = me.rooms.find((r) => r.label.endsWith('-0502'))
    check(lastOpen.resident_id === mine.resident_id, `last_open names the resident who opened (resident ${lastOpen.resident_id})`)

    // The property manager sees it in 开锁记录, at 1366×768.
    const desk = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' })
    const cp = await desk.newPage()
    cp.setDefaultTimeout(15000)
    watch(cp, problems, 'console ')
    await cp.goto(`${base}/login`)
    await cp.getByTestId('login-account').fill(scene.account)
    await cp.getByTestId('login-password').fill(MANAGER_PW)
    await cp.getByTestId('login-submit').click()
    await cp.waitForURL((u) => !u.pathname.startsWith('/login'))
    const appRow = cp.getByTestId('records-table').locator('.el-table__row')
      .filter({ has: cp.getByTestId('record-unlock-type').filter({ hasText: 'APP远程' }) }).first()
    for (let i = 0; i < 20; i++) {
      await cp.goto(`${base}/records/unlocks?cid=${scene.cid}`)
      await cp.getByTestId('records-table').waitFor()
      await cp.waitForLoadState('networkidle')
      if (await appRow.count()) break
      await cp.waitForTimeout(500)
    }
    check((await appRow.count()) === 1, '开锁记录 in the console lists the opening as APP远程')
    const who = (await appRow.getByTestId('record-resident').innerText()).trim()
    check(who.includes('张三'), `开锁记录 names 张三 as 开锁业主 (${who})`)
    check((await appRow.innerText()).includes('1区-1栋-1单元-门口机'), '开锁记录 names the unit door station')
    await cp.waitForTimeout(300)
    await cp.screenshot({ path: join(artifacts, `${String(++shotNo).padStart(2, '0')}-console-unlocks-1366.png`) })
    await desk.close()
  }

  // ---- 访客通行 ----
  await go('#/passes/new', 'h5-pass-form')
  await tid('h5-pass-name').fill('王小明')
  await tid('h5-pass-note').fill('周末来吃饭')
  await tid('h5-pass-uses').locator('button', { hasText: '2 次' }).click()
  await tid('h5-pass-submit').click()
  await tid('h5-pass-detail').waitFor()
  const pin = (await tid('h5-pass-pin').innerText()).trim()
  check(/^\d{6}$/.test(pin), `the new pass shows a 6-digit PIN (${pin})`)
  await page.waitForFunction(() => { const i = document.querySelector('[data-testid="h5-pass-qr"]'); return i && i.complete && i.naturalWidth > 0 })
  check(true, 'its QR image loads')
  const link = await tid('h5-pass-link').inputValue()
  check(/\/h5\/pass\/[\w-]+$/.test(link), `the share link is ${link}`)
  await shot('pass-detail')
  const visitor = await phone(browser, base)
  await visitor.page.goto(link)
  await visitor.page.getByTestId('h5-share-card').waitFor()
  const share = await visitor.page.innerText('body')
  check(share.includes('王小明') && share.includes(COMMUNITY) && share.includes(pin), 'the public share page shows visitor, community and PIN')
  await visitor.page.waitForFunction(() => { const i = document.querySelector('[data-testid="h5-share-qr"]'); return i && i.complete && i.naturalWidth > 0 })
  check(true, 'the share page shows the QR code')
  const vf = await layout(visitor.page)
  if (vf.length) layoutFindings.push('share page: ' + vf.join('; '))
  await visitor.page.screenshot({ path: join(artifacts, `${String(++shotNo).padStart(2, '0')}-share-page.png`), fullPage: true })
  await tid('h5-pass-revoke').click()
  await tid('h5-confirm-ok').click()
  await tid('h5-pass-status').filter({ hasText: '已撤销' }).waitFor()
  check(true, '撤销 revokes the pass')
  await visitor.page.reload()
  await visitor.page.getByTestId('h5-share-status').filter({ hasText: '已撤销' }).waitFor()
  check(!(await visitor.page.getByTestId('h5-share-qr').count()), 'the share page of a revoked pass shows 已撤销 and no QR')
  problems.push(...visitor.problems)
  await visitor.context.close()

  // A 2-use pass opens the simulated door station twice, by its QR code, and not a third time.
  if (door) {
    await go('#/passes/new', 'h5-pass-form')
    await tid('h5-pass-name').fill('赵阿姨')
    await tid('h5-pass-uses').locator('button', { hasText: '2 次' }).click()
    await tid('h5-pass-submit').click()
    await tid('h5-pass-detail').waitFor()
    await page.waitForURL(/#\/passes\/\d+/)
    const passId = Number(page.url().match(/#\/passes\/(\d+)/)[1])
    const pass = (await appCall(token, 'GET', `/passes/${passId}`)).body
    check(pass.max_uses === 2 && /^LINLI-PASS:/.test(pass.qr), `the pass made with 2 次 allows 2 uses and has its QR text (${pass.max_uses})`)
    let first
    for (let i = 0; i < 50; i++) {
      first = await simScan(pass.qr)
      if (first.opened) break
      await page.waitForTimeout(200)
    }
    check(first.opened && first.pass_id === passId, `the door station opens for the pass's QR code (${JSON.stringify({ ...first, event: undefined })})`)
    const second = await simScan(pass.qr)
    check(second.opened, `and opens a second time (${JSON.stringify({ ...second, event: undefined })})`)
    let third = await simScan(pass.qr)
    for (let i = 0; i < 10 && third.opened; i++) { await page.waitForTimeout(500); third = await simScan(pass.qr) }
    check(!third.opened, `the third scan is refused (${third.reason})`)
    // 次数已用完 while the door still holds the entry; once the server's count
    // has removed the pass from the whitelist, the code is unknown (无效).
    check(/次数已用完|无效/.test(third.reason || ''), `with the reason the door station gives (${third.reason})`)
    let used
    for (let i = 0; i < 25; i++) {
      used = (await appCall(token, 'GET', `/passes/${passId}`)).body
      if (used.uses === 2) break
      await page.waitForTimeout(200)
    }
    check(used.uses === 2, `the server counted both uses (${used.uses}/${used.max_uses}, ${used.status})`)
    await page.reload()
    await tid('h5-pass-detail').waitFor()
    await shot('pass-used-up')
  }
  await go('#/passes', 'h5-pass')
  await shot('passes')

  // ---- 家人 ----
  await go('#/family', 'h5-member')
  check((await tid('h5-member').filter({ hasText: '李四' }).count()) === 1, '家人 lists 李四')
  await tid('h5-invite-open').click()
  await tid('h5-invite-phone').fill(INVITED_PHONE)
  await tid('h5-invite-name').fill('张小妹')
  const roleOptions = await tid('h5-invite-role').locator('option').allInnerTexts()
  const invitedRole = roleOptions.includes('租户') ? '租户' : roleOptions[0]
  await tid('h5-invite-role').selectOption(invitedRole)
  await tid('h5-invite-until').fill('2027-03-31')
  await tid('h5-invite-submit').click()
  await tid('h5-toast').filter({ hasText: '张小妹 已加入本房间' }).waitFor()
  await tid('h5-invitation').filter({ hasText: '张小妹' }).waitFor()
  check(true, 'an invitation is sent and listed')
  await tid('h5-member').filter({ hasText: '张小妹' }).waitFor()
  check((await tid('h5-invitation').filter({ hasText: '张小妹' }).innerText()).includes('已加入'), `张小妹 joins 0502 at once as ${invitedRole} (the community does not ask for approval)`)
  await shot('family')
  {
    const invited = await phone(browser, base)
    await invited.page.goto(`${base}/h5/`)
    await invited.page.getByTestId('h5-login-form').waitFor()
    await signIn(invited.page, INVITED_PHONE)
    check(!!(await invited.page.evaluate(() => localStorage.getItem('linli.h5.token'))), `the invited phone ${INVITED_PHONE} signs in on the H5 with its code`)
    await invited.page.goto(`${base}/h5/#/me`)
    await invited.page.getByTestId('h5-room').first().waitFor()
    const rooms = await invited.page.getByTestId('h5-room').allInnerTexts()
    const r0502 = rooms.find((t) => t.includes(`【${COMMUNITY}】-1区-1栋-1单元-0502`)) || ''
    check(rooms.length === 1 && r0502.includes(invitedRole), `her 我的房屋 shows 0502 as ${invitedRole} (${r0502.replace(/\s+/g, ' ')})`)
    await invited.page.waitForTimeout(300)
    const f = await layout(invited.page)
    if (f.length) layoutFindings.push('invited 我的房屋: ' + f.join('; '))
    await flatShot(invited.page, join(artifacts, `${String(++shotNo).padStart(2, '0')}-invited-me.png`))
    problems.push(...invited.problems)
    await invited.context.close()
  }
  const pending = tid('h5-invitation').filter({ hasText: '张小妹' }).getByTestId('h5-invitation-withdraw')
  if (await pending.count()) {
    await pending.click()
    await tid('h5-confirm-ok').click()
    await tid('h5-invitation').filter({ hasText: '张小妹' }).filter({ hasText: '已撤回' }).waitFor()
    check(true, 'the pending invitation is withdrawn')
  }
  await tid('h5-member').filter({ hasText: '李四' }).getByTestId('h5-member-remove').click()
  await tid('h5-confirm-ok').click()
  await tid('h5-member').filter({ hasText: '李四' }).waitFor({ state: 'detached' })
  check(true, '李四 is removed from 0502')

  // ---- 人脸 ----
  await go('#/face', 'h5-face-form')
  check((await tid('h5-face-consent-text').innerText()).trim().length > 10, 'the consent text comes from GET /face')
  await shot('face-consent')
  const jpeg = await page.screenshot({ type: 'jpeg', quality: 85, clip: { x: 0, y: 0, width: 360, height: 480 } })
  await tid('h5-face-file').setInputFiles({ name: 'me.jpg', mimeType: 'image/jpeg', buffer: jpeg })
  await tid('h5-face-consent').check()
  await tid('h5-face-submit').click()
  await Promise.race([tid('h5-face-current').waitFor(), tid('h5-form-error').filter({ hasText: /./ }).waitFor()])
  if (await tid('h5-face-current').count()) {
    check(true, 'the face photo is uploaded with consent and shown back')
    await shot('face-uploaded')
    await tid('h5-face-withdraw').click()
    await tid('h5-confirm-ok').click()
    await tid('h5-face-form').waitFor()
    check(true, '撤回同意 deletes the photo')
  } else {
    // A screenshot is no face: the server may refuse it, in Chinese.
    const why = await tid('h5-form-error').innerText()
    check(/[\u4e00-\u9fa5]/.test(why), `the upload is refused with a Chinese reason (${why})`)
    await shot('face-refused')
  }

  // ---- 通话记录 ----
  if (door) await fetch(`${door.control}/call?target=0502`, { method: 'POST' }).catch(() => {})
  await go('#/calls', 'h5-view')
  await page.locator('[data-testid="h5-call"], [data-testid="h5-empty"]').first().waitFor()
  check(true, `通话记录 shows ${await tid('h5-call').count()} calls or its empty state`)
  await shot('calls')

  // ---- 免打扰 ----
  await go('#/dnd', 'h5-dnd-on')
  await tid('h5-dnd-on').click()
  await tid('h5-dnd-active').filter({ hasText: '生效中' }).waitFor()
  await tid('h5-dnd-schedule-enabled').click()
  await tid('h5-dnd-add').click()
  await tid('h5-dnd-save').click()
  await tid('h5-toast').filter({ hasText: '已保存' }).waitFor()
  const dnd = (await appCall(token, 'GET', '/dnd')).body
  check(dnd.on && dnd.schedule_enabled && dnd.schedule.length === 1, '免打扰 and its weekly period are saved')
  await shot('dnd')
  await page.reload()
  await tid('h5-dnd-active').filter({ hasText: '生效中' }).waitFor()
  const dndNow = (await appCall(token, 'GET', '/dnd')).body
  check(dndNow.on === true && dndNow.active === true, `免打扰 stays on: GET /app/v1/dnd says active (${JSON.stringify({ on: dndNow.on, active: dndNow.active })})`)

  // ---- an expired session goes back to sign-in ----
  const out = await appCall(token, 'DELETE', '/sessions')
  check(out.status === 204, 'every session of the phone is signed out through the API')
  await page.goto(`${base}/h5/#/doors`)
  await page.waitForURL(/#\/login/)
  await tid('h5-login-expired').waitFor()
  check(!(await page.evaluate(() => localStorage.getItem('linli.h5.token'))), 'a 401 clears the token and shows sign-in')
  await shot('login-expired')
  check(page.url().includes('next=' + encodeURIComponent('#/doors')), 'signing in again will return to 开门')

  check(layoutFindings.length === 0, `every screen fits 390 px${layoutFindings.length ? ':\n  ' + layoutFindings.join('\n  ') : ''}`)
  check(problems.length === 0, `no script errors or CSP violations (${problems.join('; ')})`)
  await context.close()
} catch (err) {
  failed = true
  console.error(err)
  if (!arg('--url')) console.error(`server log:\n${srv.log().slice(-5000)}`)
} finally {
  if (door) door.proc.kill('SIGTERM')
  if (browser) await browser.close().catch((e) => console.error('closing Chromium:', e.message))
  srv.stop()
  rmSync(work, { recursive: true, force: true })
}
if (failed) process.exit(1)
console.log(`H5 walk against the real API passed (${checkCount()} checks); screenshots in ${artifacts}`)
