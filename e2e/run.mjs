// End-to-end test of the real linli binary in Debian's Chromium.
//
// It builds ./cmd/linli, starts it on a free port with a fresh SQLite data
// directory, and clicks through the console as people would: the operator
// signs in with the initial password, is made to change it, adds a community
// and its property manager; the manager signs in with 123456, is made to change
// it, builds area 1 / building 1 / unit 1, batch-adds 6 floors × 4 rooms and
// sees the 24 rooms with their labels. Every page is saved as a screenshot in
// e2e/artifacts/, and at the end every page of the console is visited at
// 1366×768, 1440×900 and 1920×1080 (tour-*.png), its tables measured and its
// accessibility checked with axe-core (nothing serious or critical allowed).
import { spawn, execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { here, root, check, launch, watch } from './lib.mjs'
import { checkA11y, checkTables, checkToasts, SIZES } from './layout.mjs'

const artifacts = join(here, 'artifacts')
const work = mkdtempSync(join(tmpdir(), 'linli-e2e-'))
const ADMIN_INITIAL = 'Admin-Initial-1'
const ADMIN_PW = 'Operator-Pass-2026'
const MANAGER_PW = 'Manager-Pass-2026'
const COMMUNITY = '测试小区1'

rmSync(artifacts, { recursive: true, force: true })
mkdirSync(artifacts, { recursive: true })

// ---- the real binary ----
const bin = join(work, 'linli')
execFileSync('go', ['build', '-o', bin, './cmd/linli'], { cwd: root, stdio: 'inherit' })
const server = spawn(bin, ['serve'], {
  env: { ...process.env, LINLI_HTTP_ADDR: '127.0.0.1:0', LINLI_MQTT_ADDR: '127.0.0.1:0', LINLI_SIP_ADDR: '127.0.0.1:0', LINLI_DATA_DIR: join(work, 'data'), LINLI_ADMIN_PASSWORD: ADMIN_INITIAL },
  stdio: ['ignore', 'pipe', 'inherit'],
})
let serverLog = ''
const base = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`server did not start:\n${serverLog}`)), 30000)
  server.stdout.on('data', (chunk) => {
    serverLog += chunk
    const m = serverLog.match(/msg="linli listening" http=(http:\/\/[0-9.:]+)/)
    if (m) { clearTimeout(timer); resolve(m[1]) }
  })
  server.on('exit', (code) => reject(new Error(`server exited ${code}:\n${serverLog}`)))
})
const mqttAddr = serverLog.match(/msg="MQTT broker listening" mqtt=([0-9.:]+)/)[1]
const sipAddr = serverLog.match(/msg="SIP server listening" sip=([0-9.:]+)/)[1]
console.log(`linli at ${base}, MQTT at ${mqttAddr}, SIP at ${sipAddr}`)

const browser = await launch()
const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' })
const page = await context.newPage()
page.setDefaultTimeout(15000)
const pageErrors = []
watch(page, pageErrors)

const tid = (id) => page.getByTestId(id)
let shotNo = 0
async function shot(name) {
  await page.waitForTimeout(300) // let transitions settle
  shotNo++
  const file = join(artifacts, `${String(shotNo).padStart(2, '0')}-${name}.png`)
  await page.screenshot({ path: file })
  console.log(`   screenshot ${file}`)
}
// message waits for the next toast and returns its text; it is removed
// afterwards unless keep is set (to take a screenshot of it).
async function message({ keep = false } = {}) {
  const el = page.locator('.el-message').last()
  await el.waitFor({ state: 'visible' })
  const text = (await el.innerText()).trim()
  if (!keep) await clearMessages()
  return text
}
async function clearMessages() {
  await page.evaluate(() => document.querySelectorAll('.el-message').forEach((e) => e.remove()))
}
async function fillNumber(id, v) {
  const input = tid(id).locator('input')
  await input.fill(String(v))
  await input.blur()
}
async function login(account, password, { remember = false } = {}) {
  await page.goto(`${base}/login`)
  await tid('login-account').fill(account)
  await tid('login-password').fill(password)
  if (remember) await tid('login-remember').click()
  await tid('login-submit').click()
}
// sessionCookieDays says how many days the session cookie lasts (0 for a
// browser-session cookie).
async function sessionCookieDays() {
  const c = (await context.cookies(base)).find((c) => c.name === 'linli_session')
  if (!c || c.expires <= 0) return 0
  return (c.expires - Date.now() / 1000) / 86400
}
async function changeInitialPassword(oldPw, newPw) {
  await page.waitForURL(/\/change-password/)
  await tid('change-password-notice').waitFor()
  await shot('first-login-change-password')
  // Nothing else works before the change: the API says so.
  const status = await page.evaluate(async () => (await fetch('/api/v1/communities')).status)
  check(status === 403, 'before changing the initial password the API answers 403')
  await tid('change-password-old').fill(oldPw)
  await tid('change-password-new').fill(newPw)
  await tid('change-password-confirm').fill(newPw)
  await tid('change-password-submit').click()
  await page.waitForURL((u) => !u.pathname.startsWith('/change-password'))
}
async function logout() {
  await tid('logout').click()
  await page.waitForURL(/\/login/)
}

// a11y fails on axe-core's serious and critical findings on the page or in
// one part of it (a dialog).
// Findings are gathered and checked at the end, so that one run shows them all.
const a11yFindings = []
const tableFindings = []
async function a11y(what, scope) {
  const found = await checkA11y(page, scope)
  if (found.length) a11yFindings.push(`${what}:\n  ${found.join('\n  ')}`)
  else console.log(`ok - axe finds nothing serious or critical in ${what}`)
}
async function tables(what, opts) {
  const found = await checkTables(page, opts)
  if (found.length) tableFindings.push(`${what}:\n  ${found.join('\n  ')}`)
  else console.log(`ok - the tables of ${what} fit or visibly scroll`)
}
// tour visits pages at each screen size: a screenshot each, the tables
// measured each time, axe at 1440×900.
async function tour(role, paths) {
  for (const path of paths) {
    for (const size of SIZES) {
      await page.setViewportSize(size)
      await page.goto(`${base}${path}`)
      await page.locator('.page-card').first().waitFor()
      await page.waitForLoadState('networkidle')
      await page.locator('.el-loading-mask').first().waitFor({ state: 'hidden' }).catch(() => {})
      const name = `tour-${role}-${path.slice(1).replace(/\//g, '-')}-${size.width}x${size.height}`
      await tables(`${path} at ${size.width}×${size.height}`, { oneLine: ['residents-table', 'cards-table'] })
      await page.waitForTimeout(300)
      await page.screenshot({ path: join(artifacts, `${name}.png`) })
      if (size.width === 1440) await a11y(`${path} (${role})`)
    }
  }
  await page.setViewportSize({ width: 1440, height: 900 })
}

// choose picks an option of an Element Plus select.
async function choose(id, text) {
  await tid(id).click()
  await page.locator('.el-select-dropdown:visible .el-select-dropdown__item', { hasText: text }).first().click()
}
async function api(path) {
  return page.evaluate(async (p) => (await fetch(p)).json(), path)
}
// A JPEG made by the browser itself, for face and application photos.
async function photo() {
  return page.screenshot({ type: 'jpeg', quality: 80, clip: { x: 0, y: 0, width: 300, height: 400 } })
}

async function residentsFlow() {
  const me = await api('/api/v1/me')
  const cid = me.community_ids[0]
  await page.goto(`${base}/residents`)
  await tid('residents-add').click()
  await tid('resident-form-dialog').waitFor()
  await choose('resident-form-area', '1区')
  await choose('resident-form-building', '1栋')
  await choose('resident-form-unit', '1单元')
  await choose('resident-form-room', '0101')
  await tid('resident-form-name').fill('张三')
  await tid('resident-form-phone').fill('13800138000')
  await tid('resident-form-role').click()
  await page.getByTestId('resident-form-role-业主').click()
  await tid('resident-form-id-number').fill('11010519491231002X')
  // 户籍城市 stops at the city.
  await tid('resident-form-hometown').locator('input').first().fill('深圳')
  await page.locator('.el-cascader__suggestion-item').filter({ hasText: /^\s*广东省 \/ 深圳市\s*$/ }).first().click()
  await tid('resident-form-dialog').locator('.el-dialog__title').click()
  await a11y('添加业主', '[data-testid="resident-form-dialog"]')
  await shot('manager-add-resident')
  await tid('resident-form-submit').click()
  await message()

  await tid('residents-q').fill('张三')
  await tid('residents-search').click()
  const row = page.locator('.el-table__row', { hasText: '张三' }).first()
  await row.waitFor()
  const rowText = await row.innerText()
  check(rowText.includes(`【${COMMUNITY}】-1区-1栋-1单元-0101`) && rowText.includes('110105********002X'),
    'the filtered list shows the resident with the room label and a masked ID number')
  await shot('manager-residents-filtered')

  // Face permission with an expiry, after recording consent.
  await row.getByTestId('resident-face').click()
  await tid('resident-face-dialog').waitFor()
  await tid('resident-face-consent').click()
  await tid('resident-face-file').setInputFiles({ name: 'face.jpg', mimeType: 'image/jpeg', buffer: await photo() })
  await tid('resident-face-validity-range').click()
  const range = tid('resident-face-range').locator('input')
  await range.nth(0).click()
  const dayTable = page.locator('.el-picker-panel:visible .el-date-table').first()
  await dayTable.locator('th').first().waitFor()
  const weekdays = (await dayTable.locator('th').allInnerTexts()).map((t) => t.trim())
  check(weekdays.join('') === '一二三四五六日', `calendars start on Monday (${weekdays.join(' ')})`)
  await shot('manager-calendar-monday-first')
  await range.nth(0).fill('2026-01-01 00:00:00')
  await range.nth(0).press('Enter')
  await range.nth(1).fill('2027-12-31 23:59:59')
  await range.nth(1).press('Enter')
  await shot('manager-face-permission')
  await tid('resident-face-submit').click()
  await message()
  const list = await api(`/api/v1/communities/${cid}/residents?q=${encodeURIComponent('张三')}`)
  const face = list.items[0].face
  check(list.items[0].hometown_name === '广东省/深圳市', `户籍城市 may stop at the city (${list.items[0].hometown_name})`)
  check(face.has_photo && face.enabled && String(face.valid_to).startsWith('2027-12-31'), `the face permission is stored with its expiry (${face.valid_to})`)

  // 导出模板, filled by the test through LibreOffice, then 导入业主.
  const [download] = await Promise.all([page.waitForEvent('download'), tid('residents-export-template').click()])
  const template = join(work, 'template.xlsx')
  await download.saveAs(template)
  check(readFileSync(template).subarray(0, 2).toString() === 'PK', `导出模板 downloads a workbook (${download.suggestedFilename()})`)
  const tree = await api(`/api/v1/communities/${cid}/tree`)
  const unitId = tree[0].buildings[0].units[0].id
  const csv = `1区-1栋-1单元,,\n${unitId},,\n房号,姓名,手机号码\n101,张三,13800138000\n0102,李四,13900000002\n201,王五,NULL\n0304,赵六,13900000004\n`
  writeFileSync(join(work, 'filled.csv'), csv)
  execFileSync('libreoffice', ['--headless', '--norestore', `-env:UserInstallation=file://${join(work, 'lo')}`,
    '--infilter=CSV:44,34,76,1', '--convert-to', 'xlsx', '--outdir', work, join(work, 'filled.csv')], { stdio: 'ignore' })
  await tid('residents-import-file').setInputFiles(join(work, 'filled.xlsx'))
  const imported = await message({ keep: true })
  check((await checkToasts(page)).length === 0, `the import toast covers no panel title (${await checkToasts(page)})`)
  check(imported.includes('新增 3') && imported.includes('未变 1'), `the filled template imports (${imported})`)
  await tid('residents-q').fill('')
  await tid('residents-search').click()
  await page.getByTestId('pager-total').last().filter({ hasText: '4' }).waitFor()
  await shot('manager-residents-imported')
  await clearMessages()

  // A Latin name and long labels stay on one line; what is cut shows on hover.
  const rooms = await api(`/api/v1/communities/${cid}/rooms?unit_id=${unitId}&size=100`)
  const r0502 = rooms.items.find((r) => r.room_no === '0502')
  const status = await page.evaluate(async (body) => (await fetch(`/api/v1/communities/${body.cid}/residents`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ room_id: body.room, name: 'shuguotan', role: '业主', phone: '18588209921', hometown_code: '440306' }),
  })).status, { cid, room: r0502.id })
  check(status === 201, 'a resident with a Latin name is added')
  await page.goto(`${base}/residents`)
  await page.locator('.el-table__row', { hasText: 'shuguotan' }).first().waitFor()
  await tables('业主列表', { oneLine: ['residents-table'] })
  await shot('manager-residents-one-line')
}

// roomNoticeFlow: in the 房间通知 room picker a name opens, only the
// checkbox ticks, and the dialog counts the chosen rooms.
async function roomNoticeFlow() {
  const me = await api('/api/v1/me')
  const cid = me.community_ids[0]
  const tree = await api(`/api/v1/communities/${cid}/tree`)
  const unitId = tree[0].buildings[0].units[0].id
  await page.goto(`${base}/room-notices`)
  await tid('room-notices-send').click()
  await tid('room-notice-dialog').waitFor()
  const unitName = tid(`room-notice-node-unit-${unitId}`)
  await unitName.click()
  const unitRow = page.locator('.el-tree-node', { has: unitName }).first()
  const room0101 = unitRow.locator('.el-tree-node__content', { hasText: '0101' }).first()
  await room0101.waitFor()
  check(!(await unitRow.locator('> .el-tree-node__content .el-checkbox').first().evaluate((e) => e.classList.contains('is-checked'))),
    'clicking 1单元 opens it and ticks nothing')
  check((await tid('room-notice-selected').innerText()).includes('尚未选择房间'), 'the dialog says no room is chosen yet')
  await room0101.locator('.el-checkbox').click()
  let said = await tid('room-notice-selected').innerText()
  check(said.includes('已选 1 户'), `ticking 0101 chooses one room (${said})`)
  await unitRow.locator('> .el-tree-node__content .el-checkbox').first().click()
  said = await tid('room-notice-selected').innerText()
  check(said.includes('已选 25 户'), `ticking the unit chooses its 25 rooms (${said})`)
  await a11y('房间通知 dialog', '[data-testid="room-notice-dialog"]')
  await tid('room-notice-form-title').fill('电梯检修')
  await tid('room-notice-form-content').fill('1单元电梯周三上午检修。')
  await shot('manager-room-notice')
  await tid('room-notice-form-submit').click()
  await message()
  await tid('room-notices-table').locator('.el-table__row', { hasText: '电梯检修' }).waitFor()
}

async function applicationFlow() {
  const me = await api('/api/v1/me')
  const cid = me.community_ids[0]
  const { url } = await api(`/api/v1/communities/${cid}/application-link`)
  const jpeg = await photo()
  // The applicant's phone.
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'zh-CN' })
  const h5 = await phone.newPage()
  watch(h5, pageErrors, 'h5: ')
  await h5.goto(url)
  await h5.getByTestId('h5-community').filter({ hasText: COMMUNITY }).waitFor()
  await h5.getByTestId('h5-area').selectOption({ label: '1区' })
  await h5.getByTestId('h5-building').selectOption({ label: '1栋' })
  await h5.getByTestId('h5-unit').selectOption({ label: '1单元' })
  await h5.getByTestId('h5-room').locator('option', { hasText: '0103' }).waitFor({ state: 'attached' })
  await h5.getByTestId('h5-room').selectOption({ label: '0103' })
  await h5.getByTestId('h5-name').fill('测试家属')
  await h5.getByTestId('h5-phone').fill('13168035102')
  await h5.getByTestId('h5-contact-phone').fill('13168035105')
  await h5.getByTestId('h5-role').selectOption({ label: '家属' })
  await h5.getByTestId('h5-photos').setInputFiles({ name: 'id.jpg', mimeType: 'image/jpeg', buffer: jpeg })
  await h5.getByTestId('h5-consent').check()
  shotNo++
  await h5.screenshot({ path: join(artifacts, `${String(shotNo).padStart(2, '0')}-h5-application-form.png`), fullPage: true })
  await h5.getByTestId('h5-submit').click()
  await h5.getByTestId('h5-done').waitFor()
  shotNo++
  await h5.screenshot({ path: join(artifacts, `${String(shotNo).padStart(2, '0')}-h5-application-sent.png`) })
  check(true, 'the application is submitted on the phone-sized H5 page')
  await phone.close()

  await page.goto(`${base}/applications`)
  const row = page.locator('.el-table__row', { hasText: '测试家属' }).first()
  await row.waitFor()
  await shot('manager-applications')
  await row.getByTestId('application-detail').click()
  await tid('application-detail-dialog').waitFor()
  await tid('application-detail-photo-1').waitFor()
  await shot('manager-application-detail')
  await tid('application-detail-approve').click()
  await message()
  await page.goto(`${base}/residents`)
  await tid('residents-q').fill('测试家属')
  await tid('residents-search').click()
  const resident = page.locator('.el-table__row', { hasText: '测试家属' }).first()
  await resident.waitFor()
  check((await resident.innerText()).includes(`【${COMMUNITY}】-1区-1栋-1单元-0103`), 'the approved applicant is a resident of 0103')
  await shot('manager-resident-from-application')
}

// startSim starts `linli sim` for one slot and returns its control address
// and process.
async function startSim(cid, password, slot, serial, orientation = 'landscape', extra = []) {
  const proc = spawn(bin, ['sim', '-server', base, '-mqtt', mqttAddr, '-sip', sipAddr, '-community', String(cid), '-password', password,
    '-slot', slot, '-serial', serial, '-orientation', orientation, '-control', '127.0.0.1:0', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  proc.stderr.on('data', (c) => { out += c })
  const control = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`simulator ${serial} did not start:\n${out}`)), 20000)
    proc.stdout.on('data', (c) => {
      const m = String(c).match(/sim control at (http:\/\/[0-9.:]+)/)
      if (m) { clearTimeout(timer); resolve(m[1]) }
    })
  })
  const swipe = async (card) => (await (await fetch(`${control}/swipe?card=${card}`, { method: 'POST' })).json()).opened
  const status = async () => (await (await fetch(`${control}/status`)).json())[0]
  const post = async (path) => (await fetch(`${control}${path}`, { method: 'POST' })).json()
  return { proc, control, swipe, status, post }
}

async function deviceRowSays(serial, text) {
  for (let i = 0; i < 50; i++) {
    await page.goto(`${base}/devices`)
    const row = page.locator('.el-table__row', { hasText: serial }).first()
    await row.waitFor()
    if ((await row.getByTestId('device-status').innerText()).includes(text)) return true
    await page.waitForTimeout(300)
  }
  return false
}

// within polls cond every 100 ms for up to ms and says how long it took.
async function within(ms, cond) {
  const start = Date.now()
  while (Date.now() - start < ms) {
    if (await cond()) return Date.now() - start
    await page.waitForTimeout(100)
  }
  return -1
}

// accessFlow binds two simulated devices (a landscape door station of unit 1
// and a portrait wall station), issues a card in the console and checks that both open for
// it within 2 seconds and not after 停用; then upgrades the door station's
// firmware from the console.
async function accessFlow() {
  const me = await api('/api/v1/me')
  const cid = me.community_ids[0]
  const community = await api(`/api/v1/communities/${cid}`)
  const tree = await api(`/api/v1/communities/${cid}/tree`)
  const unitId = tree[0].buildings[0].units[0].id
  const door = await startSim(cid, community.community_password, `door:${unitId}:1`, 'SIM-E2E')
  const wall = await startSim(cid, community.community_password, 'wall:1', 'SIM-E2E-WALL', 'portrait')
  try {
    check(await deviceRowSays('SIM-E2E', '在线'), '设备列表 shows the simulated door station 在线')
    check(await deviceRowSays('SIM-E2E-WALL', '在线'), '设备列表 shows the simulated wall station 在线')
    await tables('设备列表 at 1440×900')
    await shot('manager-devices-online')

    await page.goto(`${base}/cards`)
    await tid('cards-issue').click()
    await tid('card-form-dialog').waitFor()
    await choose('card-form-area', '1区')
    await choose('card-form-building', '1栋')
    await choose('card-form-unit', '1单元')
    await choose('card-form-room', '0101')
    await tid('card-form-number').fill('1a2b3c4d')
    await tid('card-form-units-table').locator('.el-table__row').first().waitFor()
    // The room's 业主 is chosen for the card once the room's residents have loaded.
    await tid('card-form-resident').filter({ hasText: '（业主）' }).waitFor()
    await shot('manager-issue-card')
    check(!(await door.swipe('1A2B3C4D')), 'before issuing, the door does not open for the card')
    await tid('card-form-submit').click()
    await message()
    const tookDoor = await within(5000, () => door.swipe('1A2B3C4D'))
    check(tookDoor >= 0 && tookDoor <= 2000, `the door station opens for the new card ${tookDoor} ms after 发卡`)
    const tookWall = await within(5000, () => wall.swipe('1A2B3C4D'))
    check(tookWall >= 0 && tookWall <= 2000, `the wall station opens for it too (${tookWall} ms)`)
    await page.locator('.el-table__row', { hasText: '1A2B3C4D' }).first().waitFor()
    await shot('manager-cards')

    await page.locator('.el-table__row', { hasText: '1A2B3C4D' }).first().getByTestId('card-disable').click()
    await page.locator('.el-message-box', { hasText: '停用该卡后, 该卡将不能使用!' }).waitFor()
    await shot('manager-disable-card-confirm')
    await page.locator('.e2e-confirm-ok').click()
    await message()
    const closed = await within(5000, async () => !(await door.swipe('1A2B3C4D')) && !(await wall.swipe('1A2B3C4D')))
    check(closed >= 0, `after 停用 the card opens neither door (${closed} ms)`)

    // ④ 恢复白卡 from the toolbar: the number typed in, found wherever it is.
    await page.goto(`${base}/cards`)
    await tid('cards-blank').click()
    await tid('card-blank-dialog').waitFor()
    await tid('card-blank-number').fill('1a2b3c4d')
    await tid('card-blank-find').click()
    const found = await tid('card-blank-found').innerText()
    check(found.includes('1A2B3C4D') && found.includes(`【${COMMUNITY}】-1区-1栋-1单元-0101`) && found.includes('停用'),
      '恢复白卡 finds the card by its number, with its room and state')
    await a11y('恢复白卡 dialog', '[data-testid="card-blank-dialog"]')
    await shot('manager-card-blank')
    await tid('card-blank-submit').click()
    check((await message()).includes('已恢复为白卡'), '恢复白卡 returns the card to blank')
    await page.locator('.el-table__row', { hasText: '1A2B3C4D' }).waitFor({ state: 'detached' })
    const blanks = await api(`/api/v1/communities/${cid}/cards?status=blank&number=1A2B3C4D`)
    check(blanks.total === 1, 'the card is 白卡 now and leaves the list of cards in use')
    // Looked up again, it is known as blank.
    await tid('cards-blank').click()
    await tid('card-blank-number').fill('1A2B3C4D')
    await tid('card-blank-find').click()
    await tid('card-blank-dialog').locator('.el-form-item__error', { hasText: '已经是白卡' }).waitFor()
    check(true, '恢复白卡 says when a card is blank already')
    await tid('card-blank-cancel').click()

    await recordsFlow(door)
    await sipCallFlow(cid, community.community_password, unitId, door)
    await noticeFlow(door)
    await adFlow(door, wall)
    await firmwareFlow(door)
  } finally {
    door.proc.kill('SIGTERM')
    wall.proc.kill('SIGTERM')
  }
  check(await deviceRowSays('SIM-E2E', '离线'), '设备列表 shows the door station 离线 after the simulator stops')
  check(await deviceRowSays('SIM-E2E-WALL', '离线'), '设备列表 shows the wall station 离线 after the simulator stops')
  await shot('manager-devices-offline')
}

// recordsFlow: the door station's card openings (reported with snapshots
// when the card opened it) and a call show in 开锁记录 and 呼叫记录; the
// manager opens a photo.
async function recordsFlow(door) {
  const call = await (await fetch(`${door.control}/call?target=0502`, { method: 'POST' })).json()
  check(call.status === 'sent', `the door station reports a call to 0502 (${call.status})`)
  await page.goto(`${base}/records/unlocks`)
  const table = tid('records-table')
  const row = table.locator('.el-table__row', { hasText: '【测试小区1】-1区-1栋-1单元-门口机1' }).first()
  await row.waitFor()
  check(true, '开锁记录 shows the door station as 门禁信息')
  check((await row.getByTestId('record-unlock-type').innerText()).includes('刷卡'), '开锁记录 names the unlock type 刷卡')
  await shot('manager-unlock-records')
  await row.locator('[data-testid^="record-snapshot-"]').click()
  await tid('record-snapshot-dialog').waitFor()
  const img = tid('record-snapshot-image')
  await img.waitFor()
  await page.waitForFunction(() => {
    const el = document.querySelector('[data-testid="record-snapshot-image"]')
    return el && el.complete && el.naturalWidth > 0
  })
  check(true, '抓拍照片 opens the snapshot')
  await shot('manager-unlock-snapshot')
  await tid('record-snapshot-close').click()
  await page.goto(`${base}/records/calls`)
  await tid('records-table').locator('.el-table__row', { hasText: '0502' }).first().waitFor()
  check(true, '呼叫记录 lists the call to 0502')
  await shot('manager-call-records')
}

// sipCallFlow: a simulated indoor monitor of room 0502 registers over SIP;
// 设备列表 shows both devices 已注册; the door station calls 0502 through the
// server, the monitor answers after a second, they talk, the door station
// hangs up, and 呼叫记录 shows 接听方 室内分机, the talk time and 已接听.
async function sipCallFlow(cid, password, unitId, door) {
  const rooms = await api(`/api/v1/communities/${cid}/rooms?unit_id=${unitId}&floor=5&size=100`)
  const room = rooms.items.find((r) => r.label.endsWith('-0502'))
  const monitor = await startSim(cid, password, `indoor:${room.id}`, 'SIM-E2E-MON', 'landscape', ['-answer', 'after:1'])
  try {
    const registered = async (sim) => (await sim.status()).sip?.registration?.state === 'registered'
    check(await within(10000, async () => (await registered(door)) && (await registered(monitor))) >= 0, 'the door station and the indoor monitor register over SIP')
    await page.goto(`${base}/devices`)
    const doorRow = page.locator('.el-table__row', { hasText: 'SIM-E2E' }).first()
    await doorRow.waitFor()
    const sipCell = await doorRow.locator('[data-testid^="device-sip-"]').first().innerText()
    check(sipCell.includes('已注册'), `设备列表 shows the door station's SIP state (${sipCell.trim()})`)
    await shot('manager-devices-sip')

    const placed = await door.post('/call?to=0502')
    check(placed.id && placed.state === 'calling', `the door station calls 0502 over SIP (${placed.id})`)
    const answered = await within(10000, async () => (await door.status()).sip.calls.some((c) => c.id === placed.id && c.state === 'answered'))
    check(answered >= 0, `the indoor monitor answers (${answered} ms)`)
    await page.waitForTimeout(2500)
    const ended = await door.post('/hangup')
    check(ended.state === 'ended', `the door station hangs up (${ended.rtp_sent} RTP packets sent, ${ended.rtp_received} received)`)
    check(ended.rtp_received > 50, "the monitor's audio reached the door station")

    await page.goto(`${base}/records/calls`)
    const row = tid('records-table').locator('.el-table__row', { hasText: '室内分机' }).first()
    await row.waitFor()
    const talk = await row.getByTestId('record-talk-time').innerText()
    const result = await row.getByTestId('record-result').innerText()
    check(/[1-9]秒/.test(talk), `呼叫记录 shows the talk time (${talk.trim()})`)
    check(result.includes('已接听'), `呼叫记录 shows the result (${result.trim()})`)
    await shot('manager-call-records-sip')
  } finally {
    monitor.proc.kill('SIGTERM')
  }
}

// noticeFlow: a 小区通知 sent in the console reaches the door station, which
// shows it during its display days.
async function noticeFlow(door) {
  await page.goto(`${base}/notices`)
  await tid('notices-send').click()
  await tid('notice-dialog').waitFor()
  await tid('notice-form-title').fill('停水通知')
  await tid('notice-form-content').fill('7 月 24 日 9:00–12:00 小区停水，请提前储水。')
  await shot('manager-send-notice')
  await tid('notice-form-submit').click()
  await message()
  await tid('notices-table').locator('.el-table__row', { hasText: '停水通知' }).waitFor()
  await shot('manager-notices')
  const took = await within(5000, async () => (await door.status()).notices.some((n) => n.title === '停水通知' && n.showing))
  check(took >= 0, `the door station shows the notice ${took} ms after 发送`)
}

// adFlow: a landscape ad uploaded in 门口机内容管理 (too large, fitted to
// the screen) reaches the landscape door station and not the portrait wall
// station.
async function adFlow(door, wall) {
  const picture = join(work, 'ad-1920x1080.png')
  // A 1920×1080 poster drawn by the browser itself.
  const dataUrl = await page.evaluate(() => {
    const c = document.createElement('canvas')
    c.width = 1920
    c.height = 1080
    const g = c.getContext('2d')
    const grad = g.createLinearGradient(0, 0, 1920, 1080)
    grad.addColorStop(0, '#1d6fb8')
    grad.addColorStop(1, '#f2b705')
    g.fillStyle = grad
    g.fillRect(0, 0, 1920, 1080)
    g.fillStyle = '#fff'
    g.font = 'bold 120px sans-serif'
    g.fillText('邻里 · 社区活动周', 380, 580)
    return c.toDataURL('image/png')
  })
  writeFileSync(picture, Buffer.from(dataUrl.split(',')[1], 'base64'))
  await page.goto(`${base}/ads`)
  await tid('ads-landscape').waitFor()
  await shot('manager-ads-empty')
  await tid('ad-landscape-1-replace').click()
  await tid('ad-upload-dialog').waitFor()
  await tid('ad-upload-file').locator('input[type=file]').setInputFiles(picture)
  await tid('ad-upload-warning').waitFor()
  await shot('manager-ad-upload-fit')
  await tid('ad-upload-submit').click()
  await message()
  await tid('ad-landscape-1-image').waitFor()
  await shot('manager-ads')
  const took = await within(8000, async () => (await door.status()).ads.some((a) => a.key === 'ad:landscape:1' && a.downloaded && a.width === 1280))
  check(took >= 0, `the landscape door station downloads the ad, fitted to 1280 px (${took} ms)`)
  check(!(await wall.status()).ads.length, 'the portrait wall station gets no landscape ad')
}

// firmwareFlow: the operator uploads firmware 1.1.0 for the simulator's
// model in 固件管理; the manager upgrades the door station from 设备列表
// after the warning, and sees 升级成功.
async function firmwareFlow(door) {
  const image = join(work, 'linli-sim-1.1.0.bin')
  writeFileSync(image, Buffer.alloc(700 * 1024, 7))
  await logout()
  await login('admin', ADMIN_PW)
  await page.waitForURL((u) => !u.pathname.startsWith('/login'))
  await page.goto(`${base}/firmware`)
  await tid('firmware-upload').click()
  await tid('firmware-dialog').waitFor()
  await tid('firmware-form-model').fill('LINLI-SIM')
  await tid('firmware-form-version').fill('1.1.0')
  await tid('firmware-form-notes').fill('修复门禁卡读取偶发失败')
  await tid('firmware-form-file').locator('input[type=file]').setInputFiles(image)
  await shot('operator-firmware-upload')
  await tid('firmware-form-submit').click()
  await message()
  await tid('firmware-table').locator('.el-table__row', { hasText: '1.1.0' }).waitFor()
  await shot('operator-firmware-list')
  await logout()
  await login('wuye01', MANAGER_PW + '-2')
  await page.waitForURL((u) => !u.pathname.startsWith('/login'))

  await page.goto(`${base}/devices`)
  const row = page.locator('.el-table__row', { hasText: 'SIM-E2E' }).filter({ hasNotText: 'WALL' }).first()
  await row.waitFor()
  await row.locator('.el-table-column--selection .el-checkbox').click()
  await tid('devices-upgrade').click()
  await tid('devices-upgrade-dialog').waitFor()
  const warning = await tid('devices-upgrade-warning').innerText()
  check(warning.includes('升级该设备可能存在风险，如果正常使用中请不要随便升级'), 'the upgrade dialog warns before starting')
  await choose('devices-upgrade-firmware', '1.1.0')
  await shot('manager-upgrade-dialog')
  await tid('devices-upgrade-confirm').click()
  check((await message()).includes('已向 1 台设备下发升级'), 'the upgrade is sent to the door station')
  const { device_id: id } = await door.status()
  const cell = tid(`device-upgrade-${id}`)
  await cell.filter({ hasText: '升级成功' }).waitFor({ timeout: 20000 })
  await shot('manager-upgrade-succeeded')
  check((await door.status()).firmware === '1.1.0', 'the door station runs firmware 1.1.0')
}

let failed = false
try {
  // ---- operator ----
  await page.goto(`${base}/`)
  await page.waitForURL(/\/login/)
  await tid('login-title').waitFor()
  await shot('login')
  await login('admin', 'not-the-password')
  check((await message()).includes('账号或密码错误'), 'a wrong password is refused with 账号或密码错误')
  await login('admin', ADMIN_INITIAL)
  await changeInitialPassword(ADMIN_INITIAL, ADMIN_PW)
  await page.goto(`${base}/communities`)
  await tid('community-add').waitFor()
  await shot('operator-communities-empty')

  await tid('community-add').click()
  await tid('community-form-name').fill(COMMUNITY)
  await tid('community-form-region').locator('input').first().fill('宝安')
  await page.locator('.el-cascader__suggestion-item', { hasText: '深圳市' }).first().click()
  await tid('community-form-address').fill('宝安大道 1 号')
  await shot('operator-add-community')
  await tid('community-form-submit').click()
  await message()
  const row = page.locator('.el-table__row', { hasText: COMMUNITY }).first()
  await row.waitFor()
  check((await row.innerText()).includes('广东省/深圳市/宝安区'), 'the community list shows 小区所在城市 广东省/深圳市/宝安区')
  await shot('operator-community-list')

  await tid('community-accounts').first().click()
  await tid('community-accounts-dialog').waitFor()
  await tid('accounts-add').click()
  await tid('account-form-account').fill('wuye01')
  await tid('account-form-name').fill('张经理')
  await tid('account-form-phone').fill('13800138000')
  await shot('operator-add-manager')
  await tid('account-form-submit').click()
  await message()
  await tid('community-accounts-dialog').locator('.el-table__row', { hasText: 'wuye01' }).first().waitFor()
  await shot('operator-manager-created')
  await page.keyboard.press('Escape')
  await logout()

  // ---- property manager ----
  await login('wuye01', '123456', { remember: true })
  await page.waitForURL(/\/change-password/)
  check((await sessionCookieDays()) > 29, `自动登录 gives a 30-day cookie (${(await sessionCookieDays()).toFixed(1)} days)`)
  await changeInitialPassword('123456', MANAGER_PW)
  const days = await sessionCookieDays()
  check(days > 29, `自动登录 survives the forced password change (${days.toFixed(1)} days)`)
  await page.goto(`${base}/housing`)
  await tid('tree-add-area').waitFor()
  await shot('manager-housing-empty')

  await tid('tree-add-area').click()
  await fillNumber('area-form-number', 1)
  check((await tid('area-form-name').inputValue()) === '1区', '区域名称 is filled in as 1区')
  await tid('area-form-submit').click()
  await message()
  await tid('tree-area-1').waitFor()

  await tid('tree-area-1').hover()
  await tid('tree-area-1').getByTestId('node-add-building').click()
  await fillNumber('building-form-number', 1)
  check((await tid('building-form-name').inputValue()) === '1栋', '楼栋名称 is filled in as 1栋')
  await tid('building-form-submit').click()
  await message()
  await tid('tree-building-1-1').waitFor()

  await tid('tree-building-1-1').hover()
  await tid('tree-building-1-1').getByTestId('node-add-unit').click()
  await fillNumber('unit-form-number', 1)
  await fillNumber('unit-form-device-count', 2)
  check((await tid('unit-form-name').inputValue()) === '1单元', '单元名称 is filled in as 1单元')
  await shot('manager-add-unit')
  await tid('unit-form-submit').click()
  await message()
  await tid('tree-unit-1-1-1').waitFor()

  await tid('tree-unit-1-1-1').click()
  await tid('rooms-batch').click()
  await tid('batch-dialog').waitFor()
  await fillNumber('batch-form-floors', 6)
  await fillNumber('batch-form-rooms', 4)
  await shot('manager-batch-rooms')
  await tid('batch-form-submit').click()
  await message()
  const roomCount = tid('rooms-count')
  await roomCount.filter({ hasText: '24' }).waitFor()
  const total = await roomCount.innerText()
  check(total.includes('共 6 层 24 户'), `the unit shows 24 rooms on 6 floors (${total.trim()})`)
  const label = await tid('rooms-unit-label').innerText()
  check(label.includes(`【${COMMUNITY}】-1区-1栋-1单元`), `the page shows the label ${label.trim()}`)
  const firstRoom = await tid('room-0101').getAttribute('title')
  check(firstRoom === `【${COMMUNITY}】-1区-1栋-1单元-0101`, `room 0101 is labelled ${firstRoom} on hover`)
  const shown = await page.locator('[data-testid^="room-0"]').evaluateAll((els) => els.filter((e) => {
    const r = e.getBoundingClientRect()
    return r.width > 0 && r.bottom <= window.innerHeight
  }).length)
  check(shown === 24, `all 24 rooms just added are in sight, floor by floor (${shown})`)
  check(await tid('room-0604').evaluate((e) => e.classList.contains('fresh')), 'the rooms just added are highlighted')
  await shot('manager-24-rooms')

  // One more room, 0701: it shows at once, highlighted, on its own floor.
  await tid('rooms-add').click()
  await fillNumber('room-form-floor', 7)
  await fillNumber('room-form-number', 1)
  await tid('room-form-submit').click()
  await message()
  await tid('room-0701').waitFor()
  check(await tid('room-0701').isVisible(), 'room 0701 shows as soon as it is added')
  check(await tid('room-0701').evaluate((e) => e.classList.contains('fresh')), 'room 0701 is highlighted')
  check(!(await tid('room-0101').evaluate((e) => e.classList.contains('fresh'))), 'the older rooms are not highlighted')
  check((await tid('rooms-count').innerText()).includes('共 7 层 25 户'), 'the unit now has 25 rooms on 7 floors')
  await shot('manager-room-0701-added')

  // The same batch again: every room exists, so it is refused and adds nothing.
  await tid('rooms-batch').click()
  await fillNumber('batch-form-floors', 6)
  await fillNumber('batch-form-rooms', 4)
  await tid('batch-form-submit').click()
  check((await message({ keep: true })).includes('已存在'), 'a batch of rooms that all exist is refused and names them')
  // Trying again does not pile a second toast over the dialog.
  await tid('batch-form-submit').click()
  await page.waitForTimeout(400)
  const toasts = await checkToasts(page)
  check(toasts.length === 0, `toasts stay in the header band, off the dialog and the panels (${toasts.join('; ')})`)
  await shot('manager-batch-collision')
  await clearMessages()
  await tid('batch-form-cancel').click()

  // The manager sees only their own community.
  await page.goto(`${base}/communities`)
  await page.locator('.el-table__row', { hasText: COMMUNITY }).first().waitFor()
  check((await page.locator('.el-table__body-wrapper .el-table__row').count()) === 1, 'the manager sees exactly one community')
  await shot('manager-communities')

  // 个人信息中心: change the password again, then sign in with it.
  await page.goto(`${base}/profile`)
  await tid('profile-info').waitFor()
  await shot('manager-profile')
  await tid('profile-change-password').click()
  await tid('profile-password-old').fill(MANAGER_PW)
  await tid('profile-password-new').fill(MANAGER_PW + '-2')
  await tid('profile-password-confirm').fill(MANAGER_PW + '-2')
  await shot('manager-profile-change-password')
  await tid('profile-password-submit').click()
  await message()
  await logout()
  await login('wuye01', MANAGER_PW)
  check((await message()).includes('账号或密码错误'), 'the old password no longer works')
  await login('wuye01', MANAGER_PW + '-2')
  await page.waitForURL((u) => !u.pathname.startsWith('/login'))
  check(true, 'the manager signs in with the new password')

  await residentsFlow()
  await roomNoticeFlow()
  await applicationFlow()
  await accessFlow()

  // Every page at three sizes: screenshots, tables, axe.
  await tour('manager', ['/communities', '/housing', '/residents', '/applications', '/cards', '/passes', '/devices', '/cameras', '/notices',
    '/room-notices', '/ads', '/records/calls', '/records/unlocks', '/profile'])
  await logout()
  await login('admin', ADMIN_PW)
  await page.waitForURL((u) => !u.pathname.startsWith('/login'))
  await tour('operator', ['/communities', '/accounts', '/firmware', '/profile'])
  await logout()
  for (const size of SIZES) {
    await page.setViewportSize(size)
    await page.goto(`${base}/login`)
    await tid('login-title').waitFor()
    await page.screenshot({ path: join(artifacts, `tour-login-${size.width}x${size.height}.png`) })
  }
  await a11y('/login')
  await page.setViewportSize({ width: 1440, height: 900 })
  check(tableFindings.length === 0, `every table fits or visibly scrolls, headers and tags readable${tableFindings.length ? ':\n' + tableFindings.join('\n') : ''}`)
  check(a11yFindings.length === 0, `axe finds nothing serious or critical on any page${a11yFindings.length ? ':\n' + a11yFindings.join('\n') : ''}`)
  check(pageErrors.length === 0, `no script errors or CSP violations in the pages (${pageErrors.join('; ')})`)
} catch (err) {
  failed = true
  console.error(err)
  await shot('failure').catch(() => {})
  console.error(`server log:\n${serverLog}`)
} finally {
  await browser.close()
  server.kill('SIGTERM')
  rmSync(work, { recursive: true, force: true })
}
if (failed) process.exit(1)
console.log(`end-to-end passed; screenshots in ${artifacts}`)
