// The residents' H5 in Chromium at 390×844 against a fake of the /app/v1
// contract (h5fake.mjs, answered by route interception) in front of the real
// linli binary, which serves /h5/ with its CSP, gzip and caching. Every
// screen: its flows, no sideways scroll, tap targets, a screenshot in
// e2e/artifacts/h5-fake/. Also measures what the first page transfers, and
// how long the sign-in screen takes on a slow 3G connection.
//
//   node e2e/h5e2e.mjs            (builds ./cmd/linli; LINLI_BIN=path to reuse one)
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createFake, PHONE, CODE } from './h5fake.mjs'
import { checkA11y } from './layout.mjs'
import { here, check, checkCount, startServer, launch, phone, layout, flatShot } from './lib.mjs'

const artifacts = join(here, 'artifacts', 'h5-fake')
rmSync(artifacts, { recursive: true, force: true })
mkdirSync(artifacts, { recursive: true })
const work = mkdtempSync(join(tmpdir(), 'linli-h5-'))
const srv = await startServer(work, { bin: process.env.LINLI_BIN })
console.log(`linli at ${srv.base}`)
const base = srv.base
const browser = await launch()
let failed = false
const layoutFindings = []
let shotNo = 0

try {
  // ---- what the first page costs ----
  {
    const { context, page } = await phone(browser, base)
    const cdp = await context.newCDPSession(page)
    await cdp.send('Network.enable')
    const sizes = new Map()
    cdp.on('Network.responseReceived', (e) => sizes.set(e.requestId, { url: e.response.url, enc: e.response.headers['content-encoding'] || e.response.headers['Content-Encoding'] || '' }))
    cdp.on('Network.loadingFinished', (e) => { const s = sizes.get(e.requestId); if (s) s.bytes = e.encodedDataLength })
    await page.goto(`${base}/h5/`)
    await page.getByTestId('h5-login-form').waitFor()
    await page.waitForLoadState('networkidle')
    let total = 0
    const lines = []
    for (const s of sizes.values()) {
      if (!s.url.includes('/h5/')) continue
      total += s.bytes || 0
      lines.push(`${new URL(s.url).pathname.replace(/v-[0-9a-f]+\//, '')} ${s.bytes} B ${s.enc}`)
    }
    console.log('   first page: ' + lines.join(', '))
    check(total > 0 && total < 100 * 1024, `the sign-in page transfers ${total} bytes in all (HTML+CSS+JS, gzipped), under 100 KB`)
    check(lines.every((l) => !/\.(js|css) /.test(l) || l.endsWith('gzip')), 'its scripts and styles come gzipped')

    // Again, from cache: the versioned assets are not fetched again.
    sizes.clear()
    await page.reload()
    await page.getByTestId('h5-login-form').waitFor()
    await page.waitForLoadState('networkidle')
    const again = [...sizes.values()].filter((s) => s.url.includes('/h5/assets/'))
    check(again.every((s) => !s.bytes || s.bytes < 400), `on reload the assets come from the cache (${again.map((s) => s.bytes).join(', ') || 'none fetched'})`)

    // Slow 3G: 400 ms round trips, 400 kbit/s down.
    const slow = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, locale: 'zh-CN' })
    const sp = await slow.newPage()
    const scdp = await slow.newCDPSession(sp)
    await scdp.send('Network.enable')
    await scdp.send('Network.emulateNetworkConditions', { offline: false, latency: 400, downloadThroughput: 400 * 1024 / 8, uploadThroughput: 400 * 1024 / 8 })
    const t = Date.now()
    await sp.goto(`${base}/h5/`)
    await sp.getByTestId('h5-login-submit').waitFor()
    const took = Date.now() - t
    check(took < 6000, `on slow 3G (400 ms, 400 kbit/s) the sign-in screen is ready in ${took} ms`)
    await slow.close()
    await context.close()
  }

  const fake = createFake()
  const { context, page, problems } = await phone(browser, base)
  await fake.install(context)
  const tid = (id) => page.getByTestId(id)

  async function shot(name, { full = true, page: pg = page } = {}) {
    await pg.waitForTimeout(250)
    const found = await layout(pg)
    if (found.length) layoutFindings.push(`${name}: ${found.join('; ')}`)
    else console.log(`ok - ${name}: no sideways scroll, nothing sticks out, tap targets large enough`)
    shotNo++
    await flatShot(pg, join(artifacts, `${String(shotNo).padStart(2, '0')}-${name}.png`), full)
  }
  const go = async (hash, ready) => {
    await page.goto(`${base}/h5/${hash}`)
    await tid(ready).first().waitFor()
  }

  // ---- 登录 ----
  await page.goto(`${base}/h5/`)
  await page.waitForURL(/#\/login/)
  await tid('h5-login-form').waitFor()
  await shot('login')
  await tid('h5-login-send').click()
  check((await tid('h5-form-error').innerText()).includes('请输入 11 位手机号'), 'getting a code without a phone says 请输入 11 位手机号')
  await tid('h5-login-phone').fill('13900000000')
  await tid('h5-login-send').click()
  await tid('h5-form-error').filter({ hasText: '不是已登记的业主' }).waitFor()
  check(true, "an unknown phone shows the server's Chinese detail")
  await tid('h5-login-phone').fill(PHONE)
  await tid('h5-login-send').click()
  await tid('h5-login-send').filter({ hasText: /\d+ 秒后重新获取/ }).waitFor()
  check(await tid('h5-login-send').isDisabled(), '获取验证码 counts down 60 seconds and cannot be tapped meanwhile')
  check(/^(59|60) 秒后重新获取$/.test((await tid('h5-login-send').innerText()).trim()), `the countdown starts at 60 (${await tid('h5-login-send').innerText()})`)
  await tid('h5-login-code').fill('000000')
  await tid('h5-login-submit').click()
  await tid('h5-form-error').filter({ hasText: '验证码错误' }).waitFor()
  await shot('login-wrong-code')
  await tid('h5-login-code').fill(CODE)
  await tid('h5-login-submit').click()
  await page.waitForURL(/#\/doors/)
  check((await page.evaluate(() => localStorage.getItem('linli.h5.token'))).length > 10, 'the token is kept in localStorage')
  const mine = [...fake.state.sessions.values()].find((x) => x.id >= 2)
  check(mine && mine.device_name.startsWith('H5'), `the session is named for the device (${mine && mine.device_name})`)

  // ---- 开门 ----
  await tid('h5-door').first().waitFor()
  check((await tid('h5-door').count()) === 4, 'four doors, grouped by community')
  await shot('doors')
  const door1 = tid('h5-door').filter({ hasText: '1区1栋1单元门口机' })
  check((await door1.innerText()).includes('在线'), 'a door shows 在线')
  await door1.getByTestId('h5-door-open').click()
  await door1.getByTestId('h5-door-open').filter({ hasText: '开门中…' }).waitFor()
  check(true, 'one tap shows 开门中…')
  await door1.getByTestId('h5-door-open').filter({ hasText: '已开门' }).waitFor()
  check(fake.state.opened.includes(1), 'the door is opened and the button says 已开门')
  const offline = tid('h5-door').filter({ hasText: '1区2栋1单元门口机' })
  check((await offline.innerText()).includes('离线'), 'an offline door shows 离线')
  await offline.getByTestId('h5-door-open').click()
  await offline.getByTestId('h5-door-result').filter({ hasText: '设备离线，无法开门' }).waitFor()
  check(true, 'an offline door answers 设备离线，无法开门')
  await shot('doors-results')

  // ---- 访客通行 ----
  await tid('h5-tab-passes').click()
  await tid('h5-pass').first().waitFor()
  check((await tid('h5-pass').filter({ hasText: '王阿姨' }).innerText()).includes('有效') && (await tid('h5-pass').filter({ hasText: '快递员' }).innerText()).includes('已用完'), 'the pass list shows each status')
  await shot('passes')
  await tid('h5-pass-new').click()
  await tid('h5-pass-form').waitFor()
  const from = await tid('h5-pass-from').inputValue()
  const to = await tid('h5-pass-to').inputValue()
  check(Math.abs(Date.parse(to) - Date.parse(from) - 86400000) < 120000, `the window defaults to now..+1 day (${from} – ${to})`)
  await tid('h5-pass-submit').click()
  check((await tid('h5-form-error').innerText()).includes('请填写访客姓名'), 'a pass without a name is refused in Chinese')
  await tid('h5-pass-name').fill('王小明')
  await tid('h5-pass-note').fill('周末来吃饭')
  const far = new Date(Date.now() + 9 * 86400000)
  const pad = (n) => String(n).padStart(2, '0')
  await tid('h5-pass-to').fill(`${far.getFullYear()}-${pad(far.getMonth() + 1)}-${pad(far.getDate())}T10:00`)
  await tid('h5-pass-submit').click()
  check((await tid('h5-form-error').innerText()).includes('最长 7 天'), 'more than 7 days is refused')
  await tid('h5-pass-to').fill(to)
  await tid('h5-pass-uses').locator('button', { hasText: '5 次' }).click()
  await shot('pass-create')
  await tid('h5-pass-submit').click()
  await tid('h5-pass-detail').waitFor()
  const created = fake.state.passes[0]
  check(created.visitor_name === '王小明' && created.max_uses === 5 && created.note === '周末来吃饭', 'the pass is created with name, note and 5 uses')
  check((await tid('h5-pass-pin').innerText()).trim() === created.pin, 'the new pass shows its PIN')
  await page.waitForFunction(() => { const i = document.querySelector('[data-testid="h5-pass-qr"]'); return i && i.complete && i.naturalWidth > 0 })
  check(true, 'the QR image loads')
  await tid('h5-pass-copy').click()
  await tid('h5-toast').filter({ hasText: '链接已复制' }).waitFor()
  const copied = await page.evaluate(() => navigator.clipboard.readText())
  check(copied === `${base}/h5/pass/${created.share_token}`, `复制链接 copies the share link (${copied})`)
  await shot('pass-detail')
  // The share page, as the visitor sees it.
  const visitor = await phone(browser, base)
  await fake.install(visitor.context)
  await visitor.page.goto(copied)
  await visitor.page.getByTestId('h5-share-card').waitFor()
  const shareText = await visitor.page.innerText('body')
  check(shareText.includes('王小明') && shareText.includes('测试小区1') && shareText.includes(created.pin) && shareText.includes('已用 0/5 次'),
    'the share page shows visitor, community, PIN and uses')
  await visitor.page.waitForFunction(() => { const i = document.querySelector('[data-testid="h5-share-qr"]'); return i && i.complete && i.naturalWidth > 0 })
  check(true, 'the share page shows the QR image from /app/v1/pass-shares/<token>/qr.png')
  {
    const found = await layout(visitor.page)
    if (found.length) layoutFindings.push(`share page: ${found.join('; ')}`)
    await visitor.page.screenshot({ path: join(artifacts, `${String(++shotNo).padStart(2, '0')}-share-page.png`), fullPage: true })
  }
  await visitor.page.goto(`${base}/h5/pass/no-such-token`)
  await visitor.page.getByTestId('h5-share-error').filter({ hasText: '通行证不存在' }).waitFor()
  check(true, 'an unknown share link says 通行证不存在')
  await visitor.page.screenshot({ path: join(artifacts, `${String(++shotNo).padStart(2, '0')}-share-unknown.png`) })
  // 撤销 with confirm.
  await tid('h5-pass-revoke').click()
  await tid('h5-confirm').waitFor()
  await shot('pass-revoke-confirm', { full: false })
  await tid('h5-confirm-cancel').click()
  check(!created.revoked, '取消 keeps the pass')
  await tid('h5-pass-revoke').click()
  await tid('h5-confirm-ok').click()
  await tid('h5-pass-status').filter({ hasText: '已撤销' }).waitFor()
  check(created.revoked && !(await tid('h5-pass-pin').count()), '撤销 revokes the pass; the PIN is no longer shown')
  await visitor.page.goto(copied)
  await visitor.page.getByTestId('h5-share-status').filter({ hasText: '已撤销' }).waitFor()
  check(!(await visitor.page.getByTestId('h5-share-qr').count()) && !(await visitor.page.getByTestId('h5-share-pin').count()), 'the share page of a revoked pass shows 已撤销 without QR or PIN')
  await visitor.page.screenshot({ path: join(artifacts, `${String(++shotNo).padStart(2, '0')}-share-revoked.png`), fullPage: true })
  await visitor.context.close()
  // 快递码 preset.
  await go('#/passes/new', 'h5-pass-form')
  await tid('h5-pass-kind').locator('button', { hasText: '快递码' }).click()
  await tid('h5-pass-door').locator('option', { hasText: '东门围墙机' }).waitFor({ state: 'attached' })
  check((await tid('h5-pass-door').locator('option').count()) === 4, '快递码 offers only the doors of the room\'s community')
  await tid('h5-pass-door').selectOption({ label: '东门围墙机' })
  check(await tid('h5-pass-from').isHidden(), '快递码 hides the window and uses')
  await shot('pass-delivery')
  await tid('h5-pass-submit').click()
  await tid('h5-pass-detail').waitFor()
  check(fake.state.passes[0].kind === 'delivery' && fake.state.passes[0].visitor_name === '快递员', '快递码 is created with the preset')

  // ---- 通知 ----
  await tid('h5-tab-notices').click()
  await tid('h5-notice').first().waitFor()
  await page.locator('#badge-notices:not([hidden])').waitFor()
  check((await page.locator('#badge-notices').innerText()) === '2', 'the tab bar counts 2 unread notices')
  await shot('notices')
  await tid('h5-notice').first().getByTestId('h5-notice-open').click()
  await tid('h5-notice-content').first().waitFor()
  await page.locator('#badge-notices', { hasText: '1' }).waitFor()
  check(fake.state.notices[0].read, 'tapping a notice opens it and marks it read')
  await shot('notice-open')

  // ---- 我的 ----
  await tid('h5-tab-me').click()
  await tid('h5-room').first().waitFor()
  const room2 = await tid('h5-room').nth(1).innerText()
  check(room2.includes('租户') && room2.includes('有效期至 2027-06-30') && room2.includes('✗ 人脸开门'), 'rooms show role, permissions and access_until')
  await tid('h5-session').first().waitFor()
  check((await tid('h5-session').count()) === 2, 'both signed-in devices are listed')
  await shot('me')
  await tid('h5-session').filter({ hasText: 'iPhone 15' }).getByTestId('h5-session-remove').click()
  await tid('h5-confirm-ok').click()
  await tid('h5-toast').filter({ hasText: '已退出该设备' }).waitFor()
  check(!fake.state.sessions.has('other-device-token'), '退出此设备 signs the other phone out')

  // ---- 家人 ----
  await tid('h5-menu-family').click()
  await tid('h5-member').first().waitFor()
  check((await tid('h5-family-room').count()) === 1, 'only the room where I am 业主 is shown')
  check((await tid('h5-member').filter({ hasText: '张三' }).getByTestId('h5-member-remove').count()) === 0, 'I cannot remove myself')
  await shot('family')
  await tid('h5-invite-open').click()
  await tid('h5-invite-phone').fill(PHONE)
  await tid('h5-invite-name').fill('自己')
  await tid('h5-invite-submit').click()
  await tid('h5-form-error').filter({ hasText: '该手机号已是本房间的住户' }).first().waitFor()
  check(true, 'inviting someone already in the room shows the 409 detail')
  await tid('h5-invite-phone').fill('13512345678')
  await tid('h5-invite-name').fill('张小妹')
  await tid('h5-invite-role').selectOption('租户')
  await tid('h5-invite-until').fill('2027-03-31')
  await shot('family-invite')
  await tid('h5-invite-submit').click()
  await tid('h5-invitation').filter({ hasText: '张小妹' }).waitFor()
  const inv = fake.state.invitations[502][0]
  check(inv.name === '张小妹' && inv.role === '租户' && inv.access_until === '2027-03-31', 'the invitation is sent with role and 有效期至')
  await tid('h5-invitation').filter({ hasText: '赵六' }).getByTestId('h5-invitation-withdraw').click()
  await tid('h5-confirm-ok').click()
  await tid('h5-invitation').filter({ hasText: '赵六' }).filter({ hasText: '已撤回' }).waitFor()
  check(true, 'a pending invitation is withdrawn')
  await tid('h5-member').filter({ hasText: '李四' }).getByTestId('h5-member-remove').click()
  await tid('h5-confirm').waitFor()
  await tid('h5-confirm-ok').click()
  await tid('h5-member').filter({ hasText: '李四' }).waitFor({ state: 'detached' })
  check(!fake.state.members[502].some((x) => x.name === '李四'), 'a member is removed after confirming')
  await shot('family-after')

  // ---- 人脸 ----
  await go('#/face', 'h5-face-form')
  check((await tid('h5-face-consent-text').innerText()).includes('刷脸开门'), 'the consent text from GET /face is shown')
  check(await tid('h5-face-submit').isDisabled(), '同意并上传 waits for the checkbox and a photo')
  check((await tid('h5-face-file').getAttribute('capture')) === 'user', 'the file input opens the front camera')
  await shot('face-consent')
  const jpeg = await page.screenshot({ type: 'jpeg', quality: 80, clip: { x: 0, y: 0, width: 300, height: 400 } })
  await tid('h5-face-file').setInputFiles({ name: 'me.jpg', mimeType: 'image/jpeg', buffer: jpeg })
  check(await tid('h5-face-submit').isDisabled(), 'a photo alone is not enough')
  await tid('h5-face-consent').check()
  await tid('h5-face-submit').click()
  await tid('h5-face-current').waitFor()
  await page.waitForFunction(() => { const i = document.querySelector('[data-testid="h5-face-photo"]'); return i && i.complete && i.naturalWidth > 0 })
  check(fake.state.face.has_photo, 'the photo is uploaded with consent_version and shown back (through a blob URL)')
  await shot('face-uploaded')
  await tid('h5-face-withdraw').click()
  await tid('h5-confirm-ok').click()
  await tid('h5-face-form').waitFor()
  check(!fake.state.face.has_photo, '撤回同意 deletes the photo')

  // ---- 通话记录 ----
  await page.locator('#badge-me:not([hidden])').waitFor()
  check((await page.locator('#badge-me').innerText()) === '3', 'the 我的 tab counts 3 unseen missed calls')
  await go('#/calls', 'h5-call')
  check((await tid('h5-call').count()) === 20, 'the first 20 calls are listed')
  check((await tid('h5-calls-missed').innerText()).includes('3 个未接来电'), 'the unseen missed calls are announced')
  await page.locator('#badge-me[hidden]').waitFor({ state: 'attached' })
  check(fake.state.seenCalled === 1, 'opening the list marks the missed calls seen')
  await tid('h5-call').first().getByTestId('h5-call-snapshot').click()
  await page.waitForFunction(() => { const i = document.querySelector('[data-testid="h5-call-snapshot-img"]'); return i && i.complete && i.naturalWidth > 0 })
  check(true, 'the snapshot is fetched with the token and shown')
  await shot('calls')
  await tid('h5-calls-more').click()
  await tid('h5-call').nth(24).waitFor()
  check(await tid('h5-calls-more').isHidden(), '加载更多 loads the rest and then hides')
  check((await tid('h5-call').filter({ hasText: '未接听' }).count()) === 9, 'answered and missed calls are told apart')

  // ---- 免打扰 ----
  await go('#/dnd', 'h5-dnd-on')
  await shot('dnd')
  await tid('h5-dnd-on').click()
  await tid('h5-dnd-active').filter({ hasText: '生效中' }).waitFor()
  check(fake.state.dnd.on, 'the switch turns 免打扰 on at once')
  await tid('h5-dnd-schedule-enabled').click()
  await tid('h5-dnd-add').click()
  const period = tid('h5-dnd-period').first()
  await period.getByRole('button', { name: '星期六' }).click()
  await period.getByRole('button', { name: '星期日' }).click()
  await period.getByTestId('h5-dnd-start').fill('22:30')
  await period.getByTestId('h5-dnd-end').fill('06:30')
  await tid('h5-dnd-save').click()
  await tid('h5-toast').filter({ hasText: '已保存' }).waitFor()
  const sch = fake.state.dnd
  check(sch.schedule_enabled && sch.schedule.length === 1 && sch.schedule[0].weekdays.join() === '1,2,3,4,5' && sch.schedule[0].start === '22:30' && sch.schedule[0].end === '06:30',
    `the weekly schedule is saved (${JSON.stringify(sch.schedule)})`)
  for (let i = 0; i < 6; i++) await tid('h5-dnd-add').click()
  check(await tid('h5-dnd-add').isHidden(), 'no more than 7 periods')
  await shot('dnd-schedule')

  // ---- an expired session goes back to sign-in ----
  fake.expireAll()
  await go('#/passes', 'h5-login-form')
  await page.waitForURL(/#\/login\?next=/)
  check(await tid('h5-login-expired').isVisible(), 'a 401 clears the token and shows 登录已失效，请重新登录')
  check(!(await page.evaluate(() => localStorage.getItem('linli.h5.token'))), 'the token is gone')
  await shot('login-expired')
  await tid('h5-login-code').fill(CODE)
  await tid('h5-login-submit').click()
  await page.waitForURL(/#\/passes$/)
  check(true, 'signing in again returns to the screen that was open')

  // ---- 退出所有设备 ----
  await go('#/me', 'h5-signout-all')
  await tid('h5-signout-all').click()
  await tid('h5-confirm-ok').click()
  await page.waitForURL(/#\/login$/)
  check(fake.state.sessions.size === 0, '退出所有设备 signs every device out and returns to sign-in')

  // ---- loading, empty and error states ----
  fake.state.sessions.set('t-empty', { id: 99, device_name: 'x', created_at: new Date().toISOString() })
  await page.evaluate(() => localStorage.setItem('linli.h5.token', 't-empty'))
  fake.state.doors = []
  await go('#/doors', 'h5-empty')
  check((await tid('h5-empty').innerText()).includes('暂无可开的门'), 'no doors: an empty state in Chinese')
  await shot('doors-empty')
  await context.route((u) => new URL(u).pathname === '/app/v1/notices', (r) => r.fulfill({ status: 503, contentType: 'application/problem+json', body: JSON.stringify({ status: 503, title: 'Service Unavailable', detail: '服务维护中，请稍后再试' }) }))
  await go('#/notices', 'h5-error')
  check((await tid('h5-error').innerText()).includes('服务维护中'), 'a failing list shows the detail and 重试')
  await shot('notices-error')
  await context.unroute((u) => new URL(u).pathname === '/app/v1/notices')


  // ---- 门口呼叫 and 监视 over a staged call socket (docs/webcall.md) ----
  {
    const c = await phone(browser, base)
    await fake.install(c.context)
    const calls = await fake.installCalls(c.context)
    const p = c.page
    const t = (id) => p.getByTestId(id)
    fake.state.sessions.set('t-calls', { id: 97, device_name: 'calls', created_at: new Date().toISOString() })
    fake.state.doors = createFake().state.doors
    await p.goto(`${base}/h5/#/login`)
    await p.evaluate(() => localStorage.setItem('linli.h5.token', 't-calls'))
    await p.goto(`${base}/h5/#/doors`)
    await t('h5-door').first().waitFor()
    await t('h5-doors-monitor').waitFor()
    for (let i = 0; i < 100 && !calls.sockets.length; i++) await p.waitForTimeout(100)
    check(calls.sockets.length === 1, 'a signed-in page opens one call socket with a ticket')
    const FROM = '【测试小区1】-1区-1栋-1单元-门口机1'
    let seen = calls.received.length
    calls.send({ type: 'ring', call: 'c1', from: FROM, device_id: 11, started_at: new Date().toISOString() })
    await t('h5-incoming').waitFor()
    check((await t('h5-incoming-from').innerText()) === FROM, 'a ring shows the full-screen call with the caller')
    const offer = await calls.next('offer', seen)
    check(offer.call === 'c1' && /m=video[^]*a=recvonly/.test(offer.sdp) && /m=audio[^]*a=sendrecv/.test(offer.sdp), 'the page offers at once: video recvonly, audio sendrecv (early media, no microphone yet)')
    check(/a=rtpmap:\d+ H264\/90000/.test(offer.sdp) && /a=candidate:/.test(offer.sdp), 'the offer has H.264 and its ICE candidates (no trickle)')
    check(await t('h5-incoming-sound-hint').isVisible(), 'before the first touch the call says 轻触屏幕任意处以启用铃声')
    check((await t('h5-incoming-state').innerText()) === '振铃中' && !(await t('h5-incoming-open').isVisible()), 'ringing: 接听 and 挂断, no 开门 yet')
    await shot('incoming', { page: p })
    await t('h5-incoming-from').tap()
    await t('h5-incoming-sound-hint').waitFor({ state: 'hidden' })
    check(true, 'a touch enables the ring and the hint goes away')
    calls.send({ type: 'ended', call: 'c1', reason: '已在其他设备接听' })
    await t('h5-incoming-state').filter({ hasText: '已在其他设备接听' }).waitFor()
    check(true, 'answered elsewhere: the call says 已在其他设备接听')
    await t('h5-incoming').waitFor({ state: 'detached' })
    check(true, 'and closes')

    seen = calls.received.length
    calls.send({ type: 'ring', call: 'c2', from: FROM, device_id: 11, started_at: new Date().toISOString() })
    await calls.next('offer', seen)
    calls.send({ type: 'ring', call: 'c3', from: '【测试小区1】-围墙机1', device_id: 12, started_at: new Date().toISOString() })
    await t('h5-incoming-more').filter({ hasText: '另有 1 个呼叫' }).waitFor()
    check(true, 'a second call while one rings: 另有 1 个呼叫等待接听')
    seen = calls.received.length
    await t('h5-incoming-accept').click()
    const acc = await calls.next('accept', seen)
    check(acc.call === 'c2', '接听 sends accept for the call on screen (the microphone is asked for only now)')
    check(await t('h5-incoming-mic').isVisible(), 'no microphone: 未获得麦克风权限，只能听到对方的声音, answered anyway')
    calls.send({ type: 'accepted', call: 'c2' })
    await t('h5-incoming-state').filter({ hasText: /通话中 00:0\d/ }).waitFor()
    check(await t('h5-incoming-open').isVisible(), 'accepted: 通话中 with a timer, and 开门')
    await shot('incoming-answered', { page: p })
    seen = calls.received.length
    await t('h5-incoming-open').click()
    check((await calls.next('open', seen)).call === 'c2', '开门 sends open')
    calls.send({ type: 'opened', call: 'c2' })
    await p.getByTestId('h5-toast').filter({ hasText: '门已打开' }).waitFor()
    check(true, 'opened: 门已打开')
    seen = calls.received.length
    await t('h5-incoming-hangup').click()
    check((await calls.next('hangup', seen)).call === 'c2', '挂断 sends hangup')
    calls.send({ type: 'ended', call: 'c2', reason: '已挂断' })
    await t('h5-incoming-from').filter({ hasText: '围墙机1' }).waitFor()
    check(true, 'the waiting call takes the screen after the first ends')
    calls.send({ type: 'ended', call: 'c3', reason: '对方已挂断' })
    await t('h5-incoming').waitFor({ state: 'detached' })

    // 监视
    await t('h5-doors-monitor').click()
    await t('h5-station').first().waitFor()
    check((await t('h5-station').count()) === 3, '#/monitor lists the stations I may watch')
    check(await t('h5-monitor-start').nth(2).isDisabled(), 'an offline station cannot be watched')
    seen = calls.received.length
    await t('h5-monitor-start').first().click()
    const w = await calls.next('watch', seen)
    check(w.device_id === 11, '监视 sends watch with the device id')
    calls.send({ type: 'error', message: '设备不在线' })
    await p.getByTestId('h5-toast').filter({ hasText: '设备不在线' }).waitFor()
    check(true, 'a refused watch shows the server\'s reason')
    seen = calls.received.length
    await t('h5-monitor-start').first().click()
    await calls.next('watch', seen)
    calls.send({ type: 'watching', call: 'm1', device_id: 11, from: FROM, expires_at: new Date(Date.now() + 30000).toISOString() })
    await t('h5-monitor-viewer').waitFor()
    check((await calls.next('offer', seen)).call === 'm1', 'watching: the page offers for the session')
    const left = Number((await t('h5-monitor-left').innerText()).match(/\d+/)[0])
    check(left > 20 && left <= 30, `剩余 ${left} 秒 as the server said`)
    await shot('monitor', { page: p })
    seen = calls.received.length
    await t('h5-monitor-extend').click()
    check((await calls.next('extend', seen)).call === 'm1', '延长 sends extend')
    await t('h5-monitor-left').filter({ hasText: /剩余 (5\d|60) 秒/ }).waitFor()
    check(true, 'and the time left is 60 s again')
    calls.send({ type: 'watching', call: 'm1', device_id: 11, from: FROM, expires_at: new Date(Date.now() + 45000).toISOString() })
    await t('h5-monitor-left').filter({ hasText: /剩余 4\d 秒/ }).waitFor()
    check(true, 'a new watching for the session sets the deadline the server says')
    seen = calls.received.length
    await t('h5-monitor-open').click()
    check((await calls.next('open', seen)).call === 'm1', '开门 during 监视 sends open')
    seen = calls.received.length
    await t('h5-monitor-end').click()
    check((await calls.next('hangup', seen)).call === 'm1', '结束 sends hangup')
    calls.send({ type: 'ended', call: 'm1', reason: '监视已结束' })
    await t('h5-monitor-viewer').waitFor({ state: 'hidden' })
    await c.context.route((u) => new URL(u).pathname === '/app/v1/webcall/ticket', (r) => r.fulfill({ status: 403, contentType: 'application/problem+json', body: JSON.stringify({ status: 403, title: 'Forbidden', detail: '您的房间没有开通 APP呼叫，请联系物业开通' }) }))
    await p.reload()
    await t('h5-monitor-connecting').filter({ hasText: '没有开通 APP呼叫' }).waitFor()
    check(true, 'a refused ticket (no APP呼叫): #/monitor says why')
    check(c.problems.length === 0, `no script errors in the call screens (${c.problems.join('; ')})`)
    await c.context.close()
  }

  // ---- axe-core on every screen ----
  {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'zh-CN' })
    await fake.install(ctx)
    const staged = await fake.installCalls(ctx)
    const p = await ctx.newPage()
    const findings = []
    await p.goto(`${base}/h5/#/login`)
    await p.getByTestId('h5-login-form').waitFor()
    findings.push(...(await checkA11y(p)).map((f) => '登录: ' + f))
    fake.state.sessions.set('t-a11y', { id: 98, device_name: 'axe', created_at: new Date().toISOString() })
    await p.evaluate(() => localStorage.setItem('linli.h5.token', 't-a11y'))
    fake.state.doors = createFake().state.doors
    const pid = fake.state.passes[0].id
    for (const [hash, ready] of [['#/doors', 'h5-door'], ['#/passes', 'h5-pass'], ['#/passes/new', 'h5-pass-form'], [`#/passes/${pid}`, 'h5-pass-detail'],
      ['#/notices', 'h5-notice'], ['#/me', 'h5-session'], ['#/family', 'h5-member'], ['#/face', 'h5-face-form'], ['#/calls', 'h5-call'], ['#/dnd', 'h5-dnd-on']]) {
      await p.goto(`${base}/h5/${hash}`)
      await p.getByTestId(ready).first().waitFor()
      findings.push(...(await checkA11y(p)).map((f) => `${hash}: ${f}`))
    }
    await p.goto(`${base}/h5/#/monitor`)
    await p.getByTestId('h5-station').first().waitFor()
    for (let i = 0; i < 100 && !staged.sockets.length; i++) await p.waitForTimeout(100)
    await p.getByTestId('h5-monitor-start').first().click()
    await staged.next('watch')
    staged.send({ type: 'watching', call: 'm9', device_id: 11, from: '【测试小区1】-1区-1栋-1单元-门口机1', expires_at: new Date(Date.now() + 60000).toISOString() })
    await p.getByTestId('h5-monitor-viewer').waitFor()
    findings.push(...(await checkA11y(p)).map((f) => `#/monitor: ${f}`))
    staged.send({ type: 'ring', call: 'c9', from: '【测试小区1】-1区-1栋-1单元-门口机1', device_id: 11, started_at: new Date().toISOString() })
    await p.getByTestId('h5-incoming').waitFor()
    findings.push(...(await checkA11y(p)).map((f) => `门口呼叫: ${f}`))
    await p.goto(`${base}/h5/pass/${fake.state.passes[1].share_token}`)
    await p.getByTestId('h5-share-card').waitFor()
    findings.push(...(await checkA11y(p)).map((f) => '/h5/pass: ' + f))
    check(findings.length === 0, `axe finds nothing serious or critical on any screen${findings.length ? ':\n  ' + findings.join('\n  ') : ''}`)
    await ctx.close()
  }

  check(layoutFindings.length === 0, `every screen fits 390 px without sideways scroll${layoutFindings.length ? ':\n  ' + layoutFindings.join('\n  ') : ''}`)
  check(problems.length === 0, `no script errors or CSP violations (${problems.join('; ')})`)
  await context.close()
} catch (err) {
  failed = true
  console.error(err)
} finally {
  await browser.close()
  srv.stop()
  rmSync(work, { recursive: true, force: true })
}
if (failed) process.exit(1)
console.log(`H5 walk against the fake API passed (${checkCount()} checks); screenshots in ${artifacts}`)
