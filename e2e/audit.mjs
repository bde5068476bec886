// End-to-end test of 操作日志, 登录设备 and the manual's 小区信息列表 columns in
// Debian's Chromium with the real linli binary: the operator's changes and a
// failed sign-in appear in 操作日志 with filters and 导出; 个人信息中心 lists two
// browsers and 退出 ends the other one; 停用 ends a staff member's session at
// once and their sign-in is answered 账号已停用; 小区信息列表 shows 管理机数量,
// 围墙机数量 and a masked 小区密码 with 显示. Screenshots go to e2e/shots/.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { here, root, check, startProcess as start, firstSignIn, launch, watch } from './lib.mjs'
import { checkA11y } from './layout.mjs'

const shots = join(here, 'shots')
const work = mkdtempSync(join(tmpdir(), 'linli-e2e-audit-'))
const ADMIN_INITIAL = 'Admin-Initial-1'
const ADMIN_PW = 'Operator-Pass-2026'
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0'

mkdirSync(shots, { recursive: true })

// api calls the console API from page (with its session cookie) and returns
// [status, body].
function api(page, method, path, body) {
  return page.evaluate(async ([method, path, body]) => {
    const r = await fetch(path, {
      method, headers: body ? { 'Content-Type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    })
    const text = await r.text()
    let json = null
    try { json = JSON.parse(text) } catch { /* not JSON */ }
    return [r.status, json]
  }, [method, path, body])
}

// waitFor polls fn until it returns true or 20 s pass.
async function waitFor(page, fn) {
  for (const stop = Date.now() + 20000; Date.now() < stop; await page.waitForTimeout(200)) {
    if (await fn()) return true
  }
  return false
}

const bin = join(work, 'linli')
execFileSync('go', ['build', '-o', bin, './cmd/linli'], { cwd: root, stdio: 'inherit' })
const server = start(bin, ['serve'], {
  LINLI_HTTP_ADDR: '127.0.0.1:0', LINLI_MQTT_ADDR: 'off', LINLI_SIP_ADDR: 'off',
  LINLI_DATA_DIR: join(work, 'data'), LINLI_ADMIN_PASSWORD: ADMIN_INITIAL,
}, /msg="linli listening" http=(http:\/\/[0-9.:]+)/, 'linli')
let browser
let failed = false
try {
  const base = (await server.found)[1]
  console.log(`linli at ${base}`)
  browser = await launch()
  const newContext = (extra = {}) => browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN', acceptDownloads: true, ...extra })
  const context = await newContext()
  const page = await context.newPage()
  page.setDefaultTimeout(20000)
  const pageErrors = []
  watch(page, pageErrors)
  const tid = (id) => page.getByTestId(id)
  const a11yFindings = []
  async function a11y(what, scope) {
    const found = await checkA11y(page, scope)
    if (found.length) a11yFindings.push(`${what}:\n  ${found.join('\n  ')}`)
  }

  // The operator signs in and changes the initial password.
  await firstSignIn(page, base, 'admin', ADMIN_INITIAL, ADMIN_PW)
  const [, community] = await api(page, 'POST', '/api/v1/communities', {
    name: '审计花园', region_code: '440306', address: '南山区2号', community_password: 'Gate2468',
    management_station_count: 2, wall_station_count: 3,
  })
  check(community.id > 0, 'a community')
  const [created] = await api(page, 'POST', '/api/v1/accounts', {
    account: 'e2emgr', name: '测试经理', phone: '13800001111', community_ids: [community.id],
  })
  check(created === 201, 'a staff account')

  // 小区信息列表: the manual's columns, 小区密码 masked until 显示.
  await page.goto(`${base}/communities`)
  await tid('communities-table').waitFor()
  const headers = await page.locator('[data-testid="communities-table"] th').allInnerTexts()
  check(['管理机数量', '围墙机数量', '小区密码', '小区所在城市'].every((h) => headers.some((t) => t.includes(h))),
    `小区信息列表 has the manual's columns (${headers.join(', ')})`)
  check((await tid(`community-management-${community.id}`).innerText()).trim() === '2', '管理机数量 2')
  check((await tid(`community-wall-${community.id}`).innerText()).trim() === '3', '围墙机数量 3')
  const pw = tid(`community-password-${community.id}`)
  check((await pw.innerText()).trim() === '******', '小区密码 is masked')
  await tid(`community-password-toggle-${community.id}`).click()
  check((await pw.innerText()).trim() === 'Gate2468', '显示 shows 小区密码')
  await tid(`community-password-toggle-${community.id}`).click()
  check((await pw.innerText()).trim() === '******', '隐藏 masks it again')
  await page.screenshot({ path: join(shots, 'audit-communities.png') })

  // A second browser (Firefox on Linux, by its User-Agent) signs in as the operator.
  const firefox = await newContext({ userAgent: FIREFOX })
  const other = await firefox.newPage()
  await other.goto(`${base}/login`)
  check((await api(other, 'POST', '/api/v1/session', { account: 'admin', password: ADMIN_PW }))[0] === 200, 'a second browser signs in')

  // 个人信息中心 → 登录设备: both browsers, this one marked; 退出 ends the other.
  await page.goto(`${base}/profile`)
  await tid('sessions-table').waitFor()
  const ffRow = page.locator('[data-testid="sessions-table"] .el-table__row', { hasText: 'Firefox 127 · Linux' })
  await ffRow.waitFor()
  check(await page.locator('[data-testid="sessions-table"] .el-table__row').count() === 2, '登录设备 lists two browsers')
  check(await tid('session-current').count() === 1, 'this browser is marked 本浏览器')
  check((await ffRow.innerText()).includes('127.0.0.1'), 'the other browser shows its address')
  await page.screenshot({ path: join(shots, 'audit-sessions.png') })
  await a11y('个人信息中心')
  await ffRow.getByRole('button', { name: '退出' }).click()
  await page.locator('.e2e-confirm-ok').click()
  await ffRow.waitFor({ state: 'detached' })
  check((await api(other, 'GET', '/api/v1/me'))[0] === 401, '退出 ends the other browser\'s session at once')
  check((await api(page, 'GET', '/api/v1/me'))[0] === 200, 'this browser stays signed in')

  // A failed sign-in from the other browser, with the account name tried.
  check((await api(other, 'POST', '/api/v1/session', { account: 'nobody-here', password: 'guess-123' }))[0] === 401, 'a failed sign-in')

  // The staff member signs in in a third browser; 停用 ends it at once.
  const staffCtx = await newContext()
  const staff = await staffCtx.newPage()
  await staff.goto(`${base}/login`)
  check((await api(staff, 'POST', '/api/v1/session', { account: 'e2emgr', password: '123456' }))[0] === 200, 'the staff member signs in')
  await page.goto(`${base}/accounts`)
  const staffRow = page.locator('[data-testid="accounts-table"] .el-table__row', { hasText: 'e2emgr' })
  await staffRow.waitFor()
  await staffRow.getByTestId('account-disable').click()
  await page.locator('.e2e-confirm-ok').click()
  await staffRow.getByTestId('account-disabled').waitFor()
  check(true, 'the account list shows 已停用')
  check((await api(staff, 'GET', '/api/v1/me'))[0] === 401, '停用 ends the staff member\'s session at once')
  const [status, problem] = await api(staff, 'POST', '/api/v1/session', { account: 'e2emgr', password: '123456' })
  check(status === 401 && problem.detail.includes('账号已停用'), `their sign-in is answered 账号已停用 (${problem?.detail})`)

  // 操作日志: the changes, the failure, filters and 导出.
  await page.goto(`${base}/audit-log`)
  await tid('audit-table').waitFor()
  const rows = page.locator('[data-testid="audit-table"] .el-table__row')
  await rows.first().waitFor()
  const all = await page.locator('[data-testid="audit-table"]').innerText()
  check(all.includes('添加小区') && all.includes('停用或启用账号') && all.includes('退出某个登录设备'), '操作日志 shows the operator\'s changes')
  check(all.includes('127.0.0.1'), 'with the address they came from')
  await tid('audit-category').click()
  await page.getByTestId('audit-category-signin_failed').click()
  await tid('audit-search').click()
  check(await waitFor(page, async () => {
    const text = await page.locator('[data-testid="audit-table"]').innerText()
    return text.includes('nobody-here') && !text.includes('添加小区')
  }), '类别 登录失败 shows the failed sign-in with the account name tried')
  check((await page.locator('[data-testid="audit-table"]').innerText()).includes('账号或密码错误'), 'and its reason')
  // Away from 查询, whose hover colour is not what is checked.
  await page.mouse.move(0, 0)
  await page.evaluate(() => document.activeElement?.blur())
  await page.screenshot({ path: join(shots, 'audit-log.png') })
  await a11y('操作日志')

  await page.goto(`${base}/audit-log`)
  await tid('audit-table').waitFor()
  await tid('audit-person').fill('admin')
  await tid('audit-q').fill('停用')
  await tid('audit-search').click()
  check(await waitFor(page, async () => {
    const n = await rows.count()
    const text = await page.locator('[data-testid="audit-table"]').innerText()
    return n === 1 && text.includes('停用或启用账号')
  }), '操作人 and 操作 filters narrow the log to the 停用')

  const [download] = await Promise.all([page.waitForEvent('download'), tid('audit-export').click()])
  const file = join(work, 'audit.xlsx')
  await download.saveAs(file)
  check(download.suggestedFilename().endsWith('.xlsx') && statSync(file).size > 1000, `导出 saves a workbook (${download.suggestedFilename()})`)

  check(a11yFindings.length === 0, `axe finds nothing serious or critical ${a11yFindings.join('\n')}`)
  check(pageErrors.length === 0, `no script errors or CSP violations on the page ${pageErrors.join('; ')}`)
} catch (e) {
  failed = true
  console.error(e)
} finally {
  await browser?.close()
  server.child.kill('SIGTERM')
  rmSync(work, { recursive: true, force: true })
}
if (failed) process.exit(1)
