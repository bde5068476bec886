// End-to-end test of 忘记密码 by e-mail and 替换邮箱 in Debian's Chromium with
// the real linli binary sending mail to a small SMTP server started here (on
// loopback, one connection at a time, recording what DATA carries). A
// property manager forgets the password: the login page's 忘记密码 sends a
// link, the server receives it, the browser opens it and sets a new
// password, the other browser's session has ended, and the new password
// signs in; another forgets it and resets it with an SMS code in the dialog.
// Then the operator replaces the e-mail in 个人信息中心 with the code
// mailed to the new address. Screenshots go to e2e/shots/.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { here, root, check, startProcess as start, firstSignIn, launch, watch } from './lib.mjs'
import { checkA11y } from './layout.mjs'

const shots = join(here, 'shots')
const work = mkdtempSync(join(tmpdir(), 'linli-e2e-recover-'))
const ADMIN_INITIAL = 'Admin-Initial-1'
const ADMIN_PW = 'Operator-Pass-2026'
const MGR = { account: 'wangjl', name: '王经理', email: 'wang@example.com', pw: 'Desk-Pass-2026x', newPw: 'Found-Again-2026y' }

mkdirSync(shots, { recursive: true })

// ---- a small SMTP server: one connection at a time, messages recorded ----
const mails = []
const smtp = createServer((sock) => {
  let buf = ''
  let inData = false
  let cur = { from: '', to: '' }
  const reply = (s) => sock.write(s + '\r\n')
  reply('220 e2e-smtp ESMTP')
  sock.on('data', (chunk) => {
    buf += chunk.toString('latin1')
    for (;;) {
      if (inData) {
        const end = buf.indexOf('\r\n.\r\n')
        if (end < 0) return
        const raw = buf.slice(0, end).replace(/^\.\./gm, '.')
        buf = buf.slice(end + 5)
        inData = false
        mails.push({ ...cur, ...decode(raw) })
        cur = { from: '', to: '' }
        reply('250 queued')
        continue
      }
      const nl = buf.indexOf('\r\n')
      if (nl < 0) return
      const line = buf.slice(0, nl)
      buf = buf.slice(nl + 2)
      const verb = line.split(' ')[0].toUpperCase()
      if (verb === 'EHLO' || verb === 'HELO') reply('250-e2e-smtp\r\n250 8BITMIME')
      else if (verb === 'MAIL') (cur.from = (line.match(/<([^>]*)>/) || [])[1] || '', reply('250 ok'))
      else if (verb === 'RCPT') (cur.to = (line.match(/<([^>]*)>/) || [])[1] || '', reply('250 ok'))
      else if (verb === 'DATA') (inData = true, reply('354 end with .'))
      else if (verb === 'QUIT') (reply('221 bye'), sock.end())
      else if (verb === 'RSET' || verb === 'NOOP') reply('250 ok')
      else reply('502 not implemented')
    }
  })
  sock.on('error', () => {})
})
smtp.maxConnections = 1

// decode returns the subject and the decoded text and HTML parts of a
// multipart/alternative message in base64.
function decode(raw) {
  const [head, ...rest] = raw.split('\r\n\r\n')
  const body = rest.join('\r\n\r\n')
  const subjectRaw = (head.match(/^Subject: (.*)$/m) || [])[1] || ''
  const subject = subjectRaw.replace(/=\?utf-8\?b\?([^?]*)\?=\s*/gi, (_, b) => Buffer.from(b, 'base64').toString('utf8'))
  const boundary = (head.match(/boundary="([^"]+)"/) || [])[1]
  const out = { subject, text: '', html: '' }
  if (!boundary) return out
  for (const part of body.split('--' + boundary)) {
    const i = part.indexOf('\r\n\r\n')
    if (i < 0) continue
    const h = part.slice(0, i)
    let content = part.slice(i + 4)
    if (/base64/i.test(h)) content = Buffer.from(content.replace(/\s+/g, ''), 'base64').toString('utf8')
    if (/text\/plain/i.test(h)) out.text = content
    if (/text\/html/i.test(h)) out.html = content
  }
  return out
}

async function waitMail(n) {
  for (const stop = Date.now() + 60000; Date.now() < stop; await new Promise((r) => setTimeout(r, 100))) {
    if (mails.length >= n) return mails[n - 1]
  }
  throw new Error(`mail ${n} did not arrive (have ${mails.length})`)
}

await new Promise((resolve) => smtp.listen(0, '127.0.0.1', resolve))
const smtpAddr = `127.0.0.1:${smtp.address().port}`
const bin = join(work, 'linli')
execFileSync('go', ['build', '-o', bin, './cmd/linli'], { cwd: root, stdio: 'inherit' })
const server = start(bin, ['serve'], {
  LINLI_HTTP_ADDR: '127.0.0.1:0', LINLI_MQTT_ADDR: 'off', LINLI_SIP_ADDR: 'off',
  LINLI_DATA_DIR: join(work, 'data'), LINLI_ADMIN_PASSWORD: ADMIN_INITIAL,
  LINLI_SMTP_URL: `smtp://${smtpAddr}`, LINLI_SMTP_FROM: '物业平台 <noreply@wuye.example>',
}, /msg="linli listening" http=(http:\/\/[0-9.:]+)/, 'linli')
let browser
let failed = false
try {
  const base = (await server.found)[1]
  console.log(`linli at ${base}, SMTP at ${smtpAddr}`)
  browser = await launch()
  const newPage = async () => {
    const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' })
    const page = await ctx.newPage()
    page.setDefaultTimeout(20000)
    return page
  }
  const pageErrors = []
  const a11yFindings = []
  async function a11y(page, what, scope) {
    const found = await checkA11y(page, scope)
    if (found.length) a11yFindings.push(`${what}:\n  ${found.join('\n  ')}`)
  }
  const api = (page, method, path, body) => page.evaluate(async ([method, path, body]) => {
    const r = await fetch(path, { method, headers: { 'Content-Type': 'application/json' }, body: body ? JSON.stringify(body) : undefined })
    return { status: r.status, body: await r.text() }
  }, [method, path, body])

  // The operator signs in, changes the initial password, and creates a
  // community with a property manager who has an e-mail.
  const admin = await newPage()
  watch(admin, pageErrors)
  const atid = (id) => admin.getByTestId(id)
  await firstSignIn(admin, base, 'admin', ADMIN_INITIAL, ADMIN_PW)
  const community = JSON.parse((await api(admin, 'POST', '/api/v1/communities', { name: '找回小区', region_code: '440306', address: '南山区1号' })).body)
  const created = await api(admin, 'POST', '/api/v1/accounts', {
    account: MGR.account, name: MGR.name, phone: '13812345678', email: MGR.email, role: 'property_admin', community_ids: [community.id],
  })
  check(created.status === 201, 'the property manager account is created')

  // The manager signs in at the desk and sets a password.
  const desk = await newPage()
  await desk.goto(`${base}/login`)
  check((await api(desk, 'POST', '/api/v1/session', { account: MGR.account, password: '123456' })).status === 200, 'the manager signs in at the desk')
  check((await api(desk, 'PUT', '/api/v1/me/password', { old_password: '123456', new_password: MGR.pw })).status === 200, 'and sets a password')

  // Another browser: 忘记密码 by e-mail from the login page.
  const page = await newPage()
  watch(page, pageErrors)
  const tid = (id) => page.getByTestId(id)
  await page.goto(`${base}/login`)
  await tid('login-account').fill(MGR.account)
  await tid('login-forgot').click()
  await tid('forgot-dialog').waitFor()
  check((await tid('forgot-account').inputValue()) === MGR.account, 'the dialog takes the account name from the login form')
  await tid('forgot-method-email').click()
  await page.screenshot({ path: join(shots, 'recover-forgot.png') })
  await a11y(page, 'the 忘记密码 dialog', '[data-testid="forgot-dialog"]')
  await tid('forgot-send').click()
  await tid('forgot-answer').waitFor()
  check((await tid('forgot-answer').innerText()).includes('如果账号存在'), 'the answer does not say whether the account exists')

  const mail = await waitMail(1)
  check(mail.to === MGR.email && mail.from === 'noreply@wuye.example', `the mail goes to ${mail.to}`)
  check(mail.subject.includes('找回密码') && mail.text.includes('30 分钟'), `the mail is in Chinese: ${mail.subject}`)
  const link = (mail.text.match(/https?:\/\/\S+\/reset-password\?token=[0-9a-f]+/) || [])[0]
  check(link && link.startsWith(base) && mail.html.includes(link), `the mail carries the link ${link} in text and HTML`)

  await tid('forgot-cancel').click()
  await page.goto(link)
  await tid('reset-password').fill(MGR.newPw)
  await tid('reset-confirm').fill(MGR.newPw)
  await page.screenshot({ path: join(shots, 'recover-reset.png') })
  await a11y(page, 'the 设置新密码 page')
  await tid('reset-submit').click()
  await tid('reset-done').waitFor()
  check(true, 'the link sets the new password')

  // The desk's session has ended.
  check((await api(desk, 'GET', '/api/v1/me')).status === 401, 'the other browser is signed out')

  await tid('reset-login').click()
  await page.waitForURL(/\/login/)
  await tid('login-account').fill(MGR.account)
  await tid('login-password').fill(MGR.newPw)
  await tid('login-submit').click()
  await page.waitForURL((u) => !u.pathname.startsWith('/login'))
  check(!page.url().includes('change-password'), 'the new password signs in')

  // The link works once.
  await page.goto(link)
  await tid('reset-password').fill('Another-Pass-2026z')
  await tid('reset-confirm').fill('Another-Pass-2026z')
  await tid('reset-submit').click()
  await tid('reset-bad-link').waitFor()
  check((await tid('reset-bad-link').innerText()).includes('链接无效或已过期'), 'a used link is refused')

  // 忘记密码 by SMS: the code goes through the SMS sender (the server log
  // without a gateway); the dialog takes it with the new password.
  check((await api(admin, 'POST', '/api/v1/accounts', {
    account: 'lisi', name: '李客服', phone: '13722223333', role: 'property_admin', community_ids: [community.id],
  })).status === 201, 'a second staff account with only a phone')
  await page.goto(`${base}/login`)
  await tid('login-account').fill('lisi')
  await tid('login-forgot').click()
  await tid('forgot-dialog').waitFor()
  await tid('forgot-send').click()
  await tid('forgot-code').waitFor()
  let smsCode
  for (const stop = Date.now() + 60000; !smsCode && Date.now() < stop; await new Promise((r) => setTimeout(r, 100))) {
    smsCode = (server.log().match(/phone=137\*\*\*\*3333 code=(\d{6})/) || [])[1]
  }
  check(smsCode, 'the SMS code is sent to the bound phone')
  await tid('forgot-code').fill(smsCode)
  await tid('forgot-password').fill('Sms-Found-2026x')
  await tid('forgot-confirm').fill('Sms-Found-2026x')
  await page.screenshot({ path: join(shots, 'recover-forgot-sms.png') })
  await a11y(page, 'the 忘记密码 dialog with the code', '[data-testid="forgot-dialog"]')
  await tid('forgot-submit').click()
  await tid('forgot-dialog').waitFor({ state: 'hidden' })
  check((await tid('login-account').inputValue()) === 'lisi', 'back on the login form with the account filled in')
  await tid('login-password').fill('Sms-Found-2026x')
  await tid('login-submit').click()
  await page.waitForURL((u) => !u.pathname.startsWith('/login'))
  check(!page.url().includes('change-password'), 'the password set with the SMS code signs in')

  // 替换邮箱: the operator asks for a code at the new address and gives it
  // back with the current password.
  await admin.goto(`${base}/profile`)
  await atid('profile-replace-email').click()
  await atid('contact-dialog').waitFor()
  await atid('contact-form-value').fill('ops@example.com')
  await atid('contact-form-send').click()
  await atid('contact-form-sent').waitFor()
  const codeMail = await waitMail(2)
  const code = (codeMail.text.match(/\b\d{6}\b/) || [])[0]
  check(codeMail.to === 'ops@example.com' && code, `the code goes to the new address (${codeMail.to})`)
  await atid('contact-form-code').fill(code)
  await a11y(admin, 'the 替换邮箱 dialog', '[data-testid="contact-dialog"]')
  await atid('contact-form-password').fill('wrong-password')
  await atid('contact-form-submit').click()
  const fieldError = admin.getByTestId('contact-dialog').locator('.el-form-item__error')
  await fieldError.first().waitFor()
  check((await fieldError.first().innerText()).includes('当前密码不正确'), 'a wrong current password is refused on the form')
  await admin.screenshot({ path: join(shots, 'recover-replace-email.png') })
  await atid('contact-form-password').fill(ADMIN_PW)
  await atid('contact-form-submit').click()
  await atid('contact-dialog').waitFor({ state: 'hidden' })
  const shown = await atid('profile-email').innerText()
  check(shown.includes('已绑定邮箱') && shown.includes('example.com'), `the profile shows the new e-mail (${shown})`)

  check(a11yFindings.length === 0, `axe finds nothing serious or critical ${a11yFindings.join('\n')}`)
  check(pageErrors.length === 0, `no script errors or CSP violations on the pages ${pageErrors.join('; ')}`)
} catch (e) {
  failed = true
  console.error(e)
} finally {
  await browser?.close()
  server.child.kill('SIGTERM')
  smtp.close()
  rmSync(work, { recursive: true, force: true })
}
if (failed) process.exit(1)
