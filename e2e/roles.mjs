// End-to-end test of staff roles (角色权限) in Debian's Chromium with the real
// linli binary: the operator creates a community and its first 物业管理员;
// the admin creates a 保安 account in 员工与角色; the 保安 does not see
// 业主列表 in the menu and, opening /residents by its address, gets the
// 无权限 page naming 业主·查看 and the admin to ask. The admin then makes a
// role with 业主·查看 in the role editor and gives it to the 保安, whose menu
// shows 业主列表 after a reload. Screenshots go to e2e/shots/.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { here, root, check, startProcess as start, launch, firstSignIn, watch } from './lib.mjs'
import { checkA11y } from './layout.mjs'

const shots = join(here, 'shots')
const work = mkdtempSync(join(tmpdir(), 'linli-e2e-roles-'))
const ADMIN_INITIAL = 'Admin-Initial-1'
const OPERATOR_PW = 'Operator-Pass-2026'
const MANAGER_PW = 'Manager-Pass-2026'
const GUARD_PW = 'Guard-Pass-2026'

mkdirSync(shots, { recursive: true })

const bin = join(work, 'linli')
execFileSync('go', ['build', '-o', bin, './cmd/linli'], { cwd: root, stdio: 'inherit' })
const server = start(bin, ['serve'], {
  LINLI_HTTP_ADDR: '127.0.0.1:0', LINLI_MQTT_ADDR: '127.0.0.1:0', LINLI_SIP_ADDR: 'off',
  LINLI_DATA_DIR: join(work, 'data'), LINLI_ADMIN_PASSWORD: ADMIN_INITIAL,
}, /msg="linli listening" http=(http:\/\/[0-9.:]+)/, 'linli')
const child = server.child
const listening = server.found.then((m) => m[1])

let browser
let failed = false
try {
  const base = await listening
  console.log(`linli at ${base}`)
  browser = await launch()
  const pageErrors = []

  // newPerson opens a browser of its own and signs account in, changing
  // the initial password to pw.
  async function newPerson(account, initial, pw) {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' })
    const page = await context.newPage()
    watch(page, pageErrors, `${account}: `)
    await firstSignIn(page, base, account, initial, pw)
    const call = (method, path, body) => page.evaluate(async ([m, p, b]) => {
      const r = await fetch(p, { method: m, headers: b ? { 'Content-Type': 'application/json' } : {}, body: b ? JSON.stringify(b) : undefined })
      return { status: r.status, body: await r.json().catch(() => null) }
    }, [method, path, body])
    return { page, tid: (id) => page.getByTestId(id), call }
  }

  // The operator creates the community and its first 物业管理员.
  const op = await newPerson('admin', ADMIN_INITIAL, OPERATOR_PW)
  const community = await op.call('POST', '/api/v1/communities', { name: '阳光花园', region_code: '110101', address: '东城区1号' })
  check(community.status === 201, 'the operator creates a community')
  const cid = community.body.id
  const mgr = await op.call('POST', '/api/v1/accounts', { account: 'mgra', name: '王经理', phone: '13800000000', community_ids: [cid] })
  check(mgr.status === 201, 'the operator creates its first 物业管理员')

  // The admin creates a 保安 account in 员工与角色.
  const admin = await newPerson('mgra', '123456', MANAGER_PW)
  await admin.tid('menu-staff').click()
  await admin.tid('staff-table').waitFor()
  await admin.tid('staff-add').click()
  await admin.tid('staff-dialog').waitFor()
  await admin.tid('staff-account').fill('guarda')
  await admin.tid('staff-name').fill('李保安')
  await admin.tid('staff-phone').fill('13700001111')
  await admin.tid('staff-role').click()
  await admin.tid('staff-role-guard').click()
  await admin.tid('staff-save').click()
  await admin.tid('staff-dialog').waitFor({ state: 'hidden' })
  const row = admin.tid('staff-table').locator('tr', { hasText: 'guarda' })
  await row.waitFor()
  check((await row.innerText()).includes('李保安'), 'the new 保安 is in the staff list')
  await admin.page.screenshot({ path: join(shots, 'roles-staff.png') })
  const staffA11y = await checkA11y(admin.page)

  // The 保安 signs in: no 业主列表 in the menu.
  const guard = await newPerson('guarda', '123456', GUARD_PW)
  await guard.tid('side-menu').waitFor()
  await guard.tid('menu-records/calls').waitFor()
  const menu = await guard.tid('side-menu').innerText()
  check(!menu.includes('业主列表'), 'the 保安 does not see 业主列表 in the menu')
  check(menu.includes('呼叫记录') && menu.includes('门口呼叫'), 'the 保安 sees 呼叫记录 and 门口呼叫')
  check(!menu.includes('员工与角色'), 'the 保安 does not see 员工与角色')
  check((await guard.tid('topbar-role').innerText()).includes('保安'), 'the top bar names the role 保安')

  // …and opening 业主列表 by its address shows the 无权限 page.
  await guard.page.goto(`${base}/residents?cid=${cid}`)
  await guard.tid('forbidden').waitFor()
  const need = await guard.tid('forbidden-perm').innerText()
  check(need.includes('无权限：需要「业主·查看」权限'), `the 无权限 page names the missing permission: ${need}`)
  await guard.tid('forbidden-admins').waitFor()
  check((await guard.tid('forbidden-admins').innerText()).includes('王经理'), 'the 无权限 page names the 物业管理员 to ask')
  await guard.page.screenshot({ path: join(shots, 'roles-forbidden.png') })
  const forbiddenA11y = await checkA11y(guard.page)
  const refused = await guard.call('GET', `/api/v1/communities/${cid}/residents`)
  check(refused.status === 403 && refused.body?.detail === '无权限：需要「业主·查看」权限', 'the API refuses the 保安 with the same words')

  // The admin makes a role with 业主·查看 and gives it to the 保安. Ticking it
  // ticks 房屋·查看 (the room filters need it); unticking 房屋·查看 unticks
  // what needs it, and ticking 业主·查看 again brings it back.
  await admin.page.getByRole('tab', { name: '角色权限' }).click()
  await admin.tid('role-add').click()
  await admin.tid('role-dialog').waitFor()
  await admin.tid('role-name').fill('值班保安')
  const ticked = (p) => admin.tid(`role-perm-${p}`).locator('input').isChecked()
  for (const p of ['residents.view', 'records.view']) await admin.tid(`role-perm-${p}`).click()
  check(await ticked('housing.view'), 'ticking 业主·查看 ticks 房屋·查看 with it')
  await admin.tid('role-perm-housing.view').click()
  check(!(await ticked('residents.view')) && !(await ticked('records.view')), 'unticking 房屋·查看 unticks 业主·查看 and 呼叫/开锁记录·查看, which need it')
  for (const p of ['residents.view', 'records.view']) await admin.tid(`role-perm-${p}`).click()
  check(await ticked('housing.view') && await ticked('residents.view'), 'ticking them again brings 房屋·查看 back')
  check((await admin.tid('role-perm-residents.edit').getAttribute('title'))?.includes('业主·查看、房屋·查看'), '业主·编辑 says what it needs')
  await admin.tid('role-save').click()
  await admin.tid('role-dialog').waitFor({ state: 'hidden' })
  await admin.tid('roles-table').locator('tr', { hasText: '值班保安' }).waitFor()
  await admin.page.getByRole('tab', { name: '员工账号' }).click()
  await admin.tid('staff-role-of-guarda').click()
  await admin.page.locator('.el-select-dropdown:visible .el-select-dropdown__item', { hasText: '值班保安' }).first().click()
  await admin.page.getByText('的角色已改为“值班保安”').waitFor()

  await guard.page.goto(`${base}/residents?cid=${cid}`)
  await guard.tid('residents-search').waitFor()
  const menu2 = await guard.tid('side-menu').innerText()
  check(menu2.includes('业主列表') && !menu2.includes('门口呼叫'), 'with the new role the menu shows 业主列表 and no longer 门口呼叫')
  check(await guard.tid('residents-add').count() === 0, 'the 添加 button is hidden without 业主·编辑')
  // The room filters work, and nothing is refused.
  await guard.page.waitForLoadState('networkidle')
  const errorsShown = await guard.page.locator('.el-message--error').allInnerTexts()
  check(errorsShown.length === 0, `no error messages on 业主列表 with the new role: ${errorsShown.join('; ')}`)
  const tree = await guard.call('GET', `/api/v1/communities/${cid}/tree`)
  check(tree.status === 200, `the role reads the housing tree for its filters: ${tree.status}`)

  check(staffA11y.length === 0, `axe finds nothing serious or critical on 员工与角色 ${staffA11y.join('\n')}`)
  check(forbiddenA11y.length === 0, `axe finds nothing serious or critical on the 无权限 page ${forbiddenA11y.join('\n')}`)
  check(pageErrors.length === 0, `no script errors or CSP violations on the pages ${pageErrors.join('; ')}`)
} catch (e) {
  failed = true
  console.error(e)
} finally {
  await browser?.close()
  child.kill('SIGTERM')
  rmSync(work, { recursive: true, force: true })
}
if (failed) process.exit(1)
