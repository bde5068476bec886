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
// 开门 (the simulated door opens), 访客通行 (create, the public share page,
// 撤销), 家人 (invite, withdraw, remove), 人脸 (consent, upload, withdraw),
// 通知 (read), 通话记录, 免打扰, 我的房屋 and its sessions, then an expired
// session back to sign-in. Screenshots go to e2e/artifacts/h5-real/.
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { here, check, checkCount, startServer, launch, phone, layout, codeFromLog, flatShot } from './h5lib.mjs'

const arg = (k) => { const i = process.argv.indexOf(k); return i > 0 ? process.argv[i + 1] : undefined }
const ADMIN_INITIAL = 'Admin-Initial-1'
const ADMIN_PW = arg('--admin-password') || process.env.LINLI_ADMIN_PASSWORD || 'Operator-Pass-2026'
const MANAGER_PW = 'Manager-Pass-2026'
const PHONE = '13800138000'
const FAMILY_PHONE = '13900000002'
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
  return { cid, community, unitId: unit.id, room }
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

const browser = await launch()
let door = null
let failed = false
const layoutFindings = []
let shotNo = 0
try {
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
  async function signIn() {
    await tid('h5-login-phone').fill(PHONE)
    const before = srv.log().length
    await tid('h5-login-send').click()
    await tid('h5-login-send').filter({ hasText: /秒后重新获取/ }).waitFor()
    const code = await codeFromLog(srv.log, PHONE, before)
    await tid('h5-login-code').fill(code)
    await tid('h5-login-submit').click()
    await page.waitForURL((u) => !u.hash.startsWith('#/login'))
  }

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
  await go('#/passes', 'h5-pass')
  await shot('passes')

  // ---- 家人 ----
  await go('#/family', 'h5-member')
  check((await tid('h5-member').filter({ hasText: '李四' }).count()) === 1, '家人 lists 李四')
  await tid('h5-invite-open').click()
  await tid('h5-invite-phone').fill('13512345678')
  await tid('h5-invite-name').fill('张小妹')
  await tid('h5-invite-until').fill('2027-03-31')
  await tid('h5-invite-submit').click()
  await tid('h5-invitation').filter({ hasText: '张小妹' }).waitFor()
  check(true, 'an invitation is sent and listed')
  await shot('family')
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
  await browser.close()
  srv.stop()
  rmSync(work, { recursive: true, force: true })
}
if (failed) process.exit(1)
console.log(`H5 walk against the real API passed (${checkCount()} checks); screenshots in ${artifacts}`)
