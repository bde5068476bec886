// End-to-end test of 登录验证 (two-factor sign-in) in Debian's Chromium with
// the real linli binary. The operator creates a community and its property
// manager (with a phone); the manager binds an authenticator in 个人信息中心
// — the test reads the secret from the page and computes the codes itself
// (RFC 6238) — and sees the 10 recovery codes. A new browser is then asked
// for a code after the right password, enters the authenticator's code and
// is remembered; a third signs in with a recovery code, a fourth with an
// SMS code taken from the server's log. The operator resets the manager's
// 登录验证 from the account list and then requires it for the community.
// Screenshots go to e2e/shots/.
import { execFileSync } from 'node:child_process'
import { createHmac } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { here, root, check, startProcess as start, launch, watch } from './lib.mjs'
import { checkA11y } from './layout.mjs'

const shots = join(here, 'shots')
const work = mkdtempSync(join(tmpdir(), 'linli-e2e-twofactor-'))
const ADMIN_INITIAL = 'Admin-Initial-1'
const OPERATOR_PW = 'Operator-Pass-2026'
const MGR = { account: 'zhaomgr', name: '赵经理', phone: '13822223333', pw: 'Zhao-Desk-2026x' }

mkdirSync(shots, { recursive: true })

// base32 decodes an RFC 4648 base32 string (no padding needed).
function base32(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = 0
  let value = 0
  const out = []
  for (const ch of s.replace(/=+$/, '').toUpperCase()) {
    const i = alphabet.indexOf(ch)
    if (i < 0) throw new Error(`not base32: ${ch}`)
    value = (value << 5) | i
    bits += 5
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff)
      bits -= 8
    }
  }
  return Buffer.from(out)
}

// totp is the RFC 6238 code of secret (base32) at unix time t: HMAC-SHA1
// over the 8-byte big-endian count of 30-second steps, dynamic truncation,
// 6 digits.
function totp(secret, t = Date.now() / 1000) {
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(Math.floor(t / 30)))
  const mac = createHmac('sha1', base32(secret)).update(counter).digest()
  const off = mac[mac.length - 1] & 0x0f
  const n = (mac.readUInt32BE(off) & 0x7fffffff) % 1_000_000
  return String(n).padStart(6, '0')
}

// RFC 6238 appendix B: the SHA-1 vector, secret "12345678901234567890" in
// base32, at t=59 (94287082 in 8 digits there, the last 6 here).
check(totp('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 59) === '287082', 'the test computes RFC 6238 codes (test vector at t=59)')

const bin = join(work, 'linli')
execFileSync('go', ['build', '-o', bin, './cmd/linli'], { cwd: root, stdio: 'inherit' })
const server = start(bin, ['serve'], {
  LINLI_HTTP_ADDR: '127.0.0.1:0', LINLI_MQTT_ADDR: 'off', LINLI_SIP_ADDR: 'off',
  LINLI_DATA_DIR: join(work, 'data'), LINLI_ADMIN_PASSWORD: ADMIN_INITIAL,
}, /msg="linli listening" http=(http:\/\/[0-9.:]+)/, 'linli')
const child = server.child
const listening = server.found.then((m) => m[1])
const serverLog = server.log

let browser
let failed = false
try {
  const base = await listening
  console.log(`linli at ${base}`)
  browser = await launch()
  const pageErrors = []
  const a11yFindings = []
  async function a11y(page, what, scope) {
    const found = await checkA11y(page, scope)
    if (found.length) a11yFindings.push(`${what}:\n  ${found.join('\n  ')}`)
  }

  // browserOf opens a browser context of its own (its own cookies, so a
  // new device to the server) on the login page.
  async function browserOf(who) {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' })
    const page = await context.newPage()
    page.setDefaultTimeout(20000)
    watch(page, pageErrors, `${who}: `)
    const tid = (id) => page.getByTestId(id)
    const call = (method, path, body) => page.evaluate(async ([m, p, b]) => {
      const r = await fetch(p, { method: m, headers: b ? { 'Content-Type': 'application/json' } : {}, body: b ? JSON.stringify(b) : undefined })
      return { status: r.status, body: await r.json().catch(() => null) }
    }, [method, path, body])
    await page.goto(`${base}/login`)
    return { page, tid, call }
  }
  async function password(b, account, pw) {
    await b.tid('login-account').fill(account)
    await b.tid('login-password').fill(pw)
    await b.tid('login-submit').click()
  }
  async function changeInitial(b, initial, pw) {
    await b.page.waitForURL(/\/change-password/)
    await b.tid('change-password-old').fill(initial)
    await b.tid('change-password-new').fill(pw)
    await b.tid('change-password-confirm').fill(pw)
    await b.tid('change-password-submit').click()
    await b.page.waitForURL((u) => !u.pathname.startsWith('/change-password'))
  }
  const signedIn = (b) => b.page.waitForURL((u) => !u.pathname.startsWith('/login'))

  // The operator creates the community and its property manager.
  const op = await browserOf('admin')
  await password(op, 'admin', ADMIN_INITIAL)
  await changeInitial(op, ADMIN_INITIAL, OPERATOR_PW)
  const community = await op.call('POST', '/api/v1/communities', { name: '验证花园', region_code: '440306', address: '宝安区8号' })
  check(community.status === 201, 'the operator creates a community')
  const cid = community.body.id
  const created = await op.call('POST', '/api/v1/accounts', {
    account: MGR.account, name: MGR.name, phone: MGR.phone, role: 'property_admin', community_ids: [cid],
  })
  check(created.status === 201, 'the operator creates its property manager with a phone')

  // The manager signs in (nothing asked yet), sets a password and binds an
  // authenticator in 个人信息中心.
  const desk = await browserOf('desk')
  await password(desk, MGR.account, '123456')
  await changeInitial(desk, '123456', MGR.pw)
  await desk.page.goto(`${base}/profile`)
  await desk.tid('twofactor-card').waitFor()
  await desk.tid('twofactor-totp-status').waitFor()
  check((await desk.tid('twofactor-totp-status').innerText()).includes('未绑定'), '个人信息中心 says no authenticator is bound')
  await desk.tid('twofactor-enrol').click()
  await desk.tid('totp-dialog').waitFor()
  await desk.tid('totp-qr').waitFor()
  const secret = (await desk.tid('totp-secret').innerText()).trim()
  check(/^[A-Z2-7]{16,}$/.test(secret), `the dialog shows the secret (${secret.length} characters) beside the QR code`)
  const qrSrc = await desk.tid('totp-qr').getAttribute('src')
  check(qrSrc.startsWith('data:image/png;base64,'), 'the QR code is a PNG image')
  await desk.tid('totp-dialog').locator('.el-loading-mask').waitFor({ state: 'detached' })
  await desk.page.screenshot({ path: join(shots, 'twofactor-enrol.png') })
  await a11y(desk.page, 'the 绑定身份验证器 dialog', '[data-testid="totp-dialog"]')
  await desk.tid('totp-code').fill('000000')
  await desk.tid('totp-confirm').click()
  const enrolError = desk.tid('totp-dialog').locator('.el-form-item__error')
  await enrolError.waitFor()
  check((await enrolError.innerText()).includes('验证码'), `a wrong code is refused on the form: ${await enrolError.innerText()}`)
  await desk.tid('totp-code').fill(totp(secret))
  await enrolError.waitFor({ state: 'detached' })
  check(true, 'the error goes when the code is typed again')
  await desk.tid('totp-confirm').click()
  await desk.tid('recovery-codes').waitFor()
  const codes = (await desk.tid('recovery-codes').locator('li').allInnerTexts()).map((c) => c.trim())
  check(codes.length === 10 && codes.every((c) => /^[2-9A-Z]{5}-[2-9A-Z]{5}$/.test(c)), `10 recovery codes are shown (${codes[0]} …)`)
  check((await desk.tid('recovery-warning').innerText()).includes('只显示这一次'), 'with a warning that they are shown once')
  await desk.page.screenshot({ path: join(shots, 'twofactor-recovery-codes.png') })
  await a11y(desk.page, 'the recovery codes', '[data-testid="totp-dialog"]')
  await desk.tid('totp-done').click()
  await desk.tid('totp-dialog').waitFor({ state: 'hidden' })
  await desk.page.waitForFunction(() => document.querySelector('[data-testid="twofactor-totp-status"]')?.textContent.includes('已绑定'))
  check((await desk.tid('twofactor-totp-status').innerText()).includes('10'), '个人信息中心 shows the authenticator bound with 10 recovery codes left')
  check(await desk.tid('twofactor-login-check').locator('input').isChecked(), '新设备登录验证 is on')
  await desk.page.screenshot({ path: join(shots, 'twofactor-profile.png'), fullPage: true })
  await a11y(desk.page, 'the 登录验证 card', '[data-testid="twofactor-card"]')

  // A new browser: after the right password it is asked for a code. The
  // code of the current step was spent at enrolment; the next one is taken.
  const laptop = await browserOf('laptop')
  await password(laptop, MGR.account, MGR.pw)
  await laptop.tid('login-verify-step').waitFor()
  check(laptop.page.url().includes('/login'), 'the new browser stays on the login page at the second step')
  check((await laptop.call('GET', '/api/v1/me')).status === 401, 'and is not signed in yet')
  for (const m of ['totp', 'sms', 'recovery']) await laptop.tid(`login-method-${m}`).waitFor()
  check(await laptop.tid('login-method-totp').locator('input').isChecked(), '身份验证器 is chosen first')
  await laptop.tid('login-method-sms').click()
  check((await laptop.tid('login-verify-hint').innerText()).includes('138****3333'), 'the masked phone is shown for 短信验证码')
  await laptop.tid('login-method-totp').click()
  await laptop.page.screenshot({ path: join(shots, 'twofactor-login-step.png') })
  await a11y(laptop.page, 'the 登录验证 step')
  await laptop.tid('login-code').fill('000000')
  await laptop.tid('login-verify').click()
  const codeError = laptop.tid('login-verify-step').locator('.el-form-item__error')
  await codeError.waitFor()
  check((await codeError.innerText()).includes('验证码错误'), 'a wrong code is refused on the form')
  await laptop.tid('login-code').fill(totp(secret, Date.now() / 1000 + 30))
  await laptop.tid('login-trust').click()
  await laptop.tid('login-verify').click()
  await signedIn(laptop)
  await laptop.tid('side-menu').waitFor()
  check((await laptop.call('GET', '/api/v1/me')).body?.account === MGR.account, 'the authenticator code of the next step signs the new browser in')
  const st = await laptop.call('GET', '/api/v1/me/two-factor')
  check(st.body?.trusted_devices === 1, '记住此设备 remembers the browser')
  check((await laptop.call('DELETE', '/api/v1/session')).status === 204, 'the remembered browser signs out')
  const again = await laptop.call('POST', '/api/v1/session', { account: MGR.account, password: MGR.pw })
  check(again.status === 200 && !again.body?.verify, 'and signs in again without a code')

  // A third browser signs in with a recovery code.
  const phone = await browserOf('phone')
  await password(phone, MGR.account, MGR.pw)
  await phone.tid('login-verify-step').waitFor()
  await phone.tid('login-method-recovery').click()
  await phone.tid('login-code').fill(codes[0])
  await phone.tid('login-verify').click()
  await signedIn(phone)
  check((await phone.call('GET', '/api/v1/me')).body?.account === MGR.account, 'a recovery code signs the third browser in')
  check((await phone.call('GET', '/api/v1/me/two-factor')).body?.backup_codes_left === 9, 'the recovery code is spent')

  // A fourth browser with a code sent by SMS (the server logs it without
  // an SMS gateway).
  const kiosk = await browserOf('kiosk')
  await password(kiosk, MGR.account, MGR.pw)
  await kiosk.tid('login-verify-step').waitFor()
  await kiosk.tid('login-method-sms').click()
  await kiosk.tid('login-send-code').click()
  await kiosk.tid('login-code-sent').waitFor()
  check((await kiosk.tid('login-code-sent').innerText()).includes('138****3333'), `the page shows the server's answer: ${await kiosk.tid('login-code-sent').innerText()}`)
  check((await kiosk.tid('login-send-code').innerText()).includes('秒后重发'), 'the send button counts down')
  let smsCode
  for (const stop = Date.now() + 30000; !smsCode && Date.now() < stop; await new Promise((r) => setTimeout(r, 100))) {
    smsCode = [...serverLog().matchAll(/phone=138\*\*\*\*3333 code=(\d{6})/g)].pop()?.[1]
  }
  check(smsCode, 'the SMS code goes to the bound phone')
  await kiosk.page.screenshot({ path: join(shots, 'twofactor-login-sms.png') })
  await kiosk.tid('login-code').fill(smsCode)
  await kiosk.tid('login-verify').click()
  await signedIn(kiosk)
  check((await kiosk.call('GET', '/api/v1/me')).body?.account === MGR.account, 'the SMS code signs the fourth browser in')

  // The operator resets the manager's 登录验证 from the account list.
  await op.page.goto(`${base}/accounts`)
  const row = op.tid('accounts-table').locator('tr', { hasText: MGR.account })
  await row.waitFor()
  await row.getByTestId('account-reset-two-factor').click()
  await op.page.locator('.e2e-confirm-ok').click()
  await op.page.getByText('登录验证已重置').waitFor()
  const fresh = await browserOf('after reset')
  await password(fresh, MGR.account, MGR.pw)
  await signedIn(fresh)
  check(true, 'after 重置登录验证 a new browser signs in with the password alone')
  const reset = await desk.call('GET', '/api/v1/me/two-factor')
  check(reset.body && !reset.body.totp && reset.body.trusted_devices === 0, 'the authenticator and the remembered browsers are gone')

  // The manager turns 新设备登录验证 on again in 个人信息中心 with the
  // current password.
  await desk.page.goto(`${base}/profile`)
  await desk.tid('twofactor-card').waitFor()
  await desk.page.waitForFunction(() => document.querySelector('[data-testid="twofactor-totp-status"]')?.textContent.includes('未绑定'))
  await desk.tid('twofactor-login-check').click()
  await desk.tid('twofactor-password-dialog').waitFor()
  await desk.tid('twofactor-password').fill('not-my-password')
  await desk.tid('twofactor-password-submit').click()
  const pwError = desk.tid('twofactor-password-dialog').locator('.el-form-item__error')
  await pwError.waitFor()
  check((await pwError.innerText()).includes('密码'), `a wrong password is refused on the form: ${await pwError.innerText()}`)
  // The pointer rests on the submit button, as it does after the click;
  // once the button has left its loading state and its colour transition
  // has ended, axe measures the colours the user sees under the pointer.
  await desk.tid('twofactor-password-submit').hover()
  await desk.page.waitForFunction(() => {
    const b = document.querySelector('[data-testid="twofactor-password-submit"]')
    return b && !b.classList.contains('is-loading') && b.getAnimations({ subtree: true }).length === 0
  })
  await desk.page.screenshot({ path: join(shots, 'twofactor-password.png') })
  await a11y(desk.page, 'the password dialog', '[data-testid="twofactor-password-dialog"]')
  await desk.tid('twofactor-password').fill(MGR.pw)
  await desk.tid('twofactor-password-submit').click()
  await desk.tid('twofactor-password-dialog').waitFor({ state: 'hidden' })
  await desk.page.waitForFunction(() => document.querySelector('[data-testid="twofactor-login-check"]')?.classList.contains('is-checked'))
  check((await desk.call('GET', '/api/v1/me/two-factor')).body?.login_check === true, '新设备登录验证 is turned on with the password')

  // The operator requires 登录验证 for the community in 编辑小区.
  await op.page.goto(`${base}/communities`)
  const crow = op.tid('communities-table').locator('tr', { hasText: '验证花园' })
  await crow.waitFor()
  await crow.getByTestId('community-edit').click()
  await op.tid('community-dialog').waitFor()
  await op.tid('community-form-require-two-factor').click()
  await op.page.waitForFunction(() => document.querySelector('[data-testid="community-form-require-two-factor"]')?.classList.contains('is-checked'))
  await op.page.waitForTimeout(300) // the switch's transition
  await op.page.screenshot({ path: join(shots, 'twofactor-community.png') })
  await a11y(op.page, 'the 编辑小区 dialog', '[data-testid="community-dialog"]')
  await op.tid('community-form-submit').click()
  await op.tid('community-dialog').waitFor({ state: 'hidden' })
  check((await op.call('GET', `/api/v1/communities/${cid}`)).body?.require_two_factor === true, '要求登录验证 is saved')
  await desk.page.goto(`${base}/profile`)
  await desk.tid('twofactor-required').waitFor()
  check(await desk.tid('twofactor-login-check').locator('input').isDisabled(), "个人信息中心 shows 小区要求 and the switch can't be turned off")
  const required = await browserOf('required')
  await password(required, MGR.account, MGR.pw)
  await required.tid('login-verify-step').waitFor()
  check(true, 'a new browser is asked for a code again')
  // Five wrong codes spend the sign-in: the next try goes back to the password.
  for (let i = 0; i < 5; i++) {
    await required.tid('login-code').fill(`00000${i}`)
    const [answer] = await Promise.all([
      required.page.waitForResponse((r) => r.url().endsWith('/api/v1/session/verify')),
      required.tid('login-verify').click(),
    ])
    check(answer.status() === 422, `wrong code ${i + 1} is refused`)
  }
  await required.tid('login-code').fill('000009')
  await required.tid('login-verify').click()
  await required.tid('login-form').waitFor()
  const toast = await required.page.locator('.el-message').last().innerText()
  check(toast.includes('重新输入账号密码'), `a spent sign-in goes back to the password step: ${toast}`)
  check((await required.tid('login-account').inputValue()) === MGR.account && (await required.tid('login-password').inputValue()) === '',
    'with the account kept and the password emptied')

  check(a11yFindings.length === 0, `axe finds nothing serious or critical ${a11yFindings.join('\n')}`)
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
