// Helpers shared by the end-to-end walks: checks, the linli binary and other
// processes started and waited for, Debian's Chromium, a phone-sized
// context, and the layout checks of the H5 pages.
import { spawn, execFileSync } from 'node:child_process'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

export const here = dirname(fileURLToPath(import.meta.url))
export const root = join(here, '..')
export const PHONE_VIEWPORT = { width: 390, height: 844 }

let checks = 0
export function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`)
  checks++
  console.log(`ok - ${what}`)
}
export const checkCount = () => checks

// startProcess runs bin with args (env added to this process's) and
// resolves found with the first match of re in its output; log() returns
// what it has printed.
export function startProcess(bin, args, env, re, what) {
  const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  let log = ''
  const found = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${log}`)), 30000)
    child.stdout.on('data', (chunk) => {
      log += chunk
      const m = log.match(re)
      if (m) {
        clearTimeout(timer)
        resolve(m)
      }
    })
    child.on('exit', (code) => reject(new Error(`${what} exited ${code}:\n${log}`)))
  })
  return { child, found, log: () => log }
}

// startServer builds ./cmd/linli (unless bin is given) and starts it on free
// ports with a fresh data directory; log() returns what it has printed.
export async function startServer(work, { bin, env = {} } = {}) {
  if (!bin) {
    bin = join(work, 'linli')
    execFileSync('go', ['build', '-o', bin, './cmd/linli'], { cwd: root, stdio: 'inherit' })
  }
  const server = spawn(bin, ['serve'], {
    env: { ...process.env, LINLI_HTTP_ADDR: '127.0.0.1:0', LINLI_MQTT_ADDR: '127.0.0.1:0', LINLI_SIP_ADDR: '127.0.0.1:0', LINLI_DATA_DIR: join(work, 'data'), ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let log = ''
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 60000)
    server.stdout.on('data', (chunk) => {
      log += chunk
      const m = log.match(/msg="linli listening" http=(http:\/\/[0-9.:]+)/)
      if (m) { clearTimeout(timer); resolve(m[1]) }
    })
    server.on('exit', (code) => reject(new Error(`server exited ${code}:\n${log}`)))
  })
  const mqtt = (log.match(/msg="MQTT broker listening" mqtt=([0-9.:]+)/) || [])[1]
  const sip = (log.match(/msg="SIP server listening" sip=([0-9.:]+)/) || [])[1]
  return { bin, base, mqtt, sip, server, log: () => log, stop: () => server.kill('SIGTERM') }
}

// firstSignIn signs account in on page at base with its initial password
// and sets newPassword, as the console asks at a first sign-in.
export async function firstSignIn(page, base, account, initial, newPassword) {
  const tid = (id) => page.getByTestId(id)
  await page.goto(`${base}/login`)
  await tid('login-account').fill(account)
  await tid('login-password').fill(initial)
  await tid('login-submit').click()
  await page.waitForURL(/\/change-password/)
  await tid('change-password-old').fill(initial)
  await tid('change-password-new').fill(newPassword)
  await tid('change-password-confirm').fill(newPassword)
  await tid('change-password-submit').click()
  await page.waitForURL((u) => !u.pathname.startsWith('/change-password'))
}

// launch starts Debian's Chromium; extra flags (e.g. the fake camera and
// microphone for calls) come after the usual ones.
export async function launch(extra = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--lang=zh-CN', ...extra],
  })
}

// watch records the script errors and the Content-Security-Policy
// violations of page in problems, each line starting with prefix: the walks
// check at their end that problems is empty. No context of a walk bypasses
// CSP, so the pages are checked under their own policy.
export function watch(page, problems, prefix = '') {
  page.on('pageerror', (e) => problems.push(prefix + 'script error: ' + e.message))
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) problems.push(prefix + 'CSP: ' + m.text())
  })
}

// phone opens a 390×844 touch context and a page that records script errors
// and CSP violations (watch).
export async function phone(browser, base) {
  const context = await browser.newContext({ viewport: PHONE_VIEWPORT, isMobile: true, hasTouch: true, deviceScaleFactor: 2, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' })
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base })
  const page = await context.newPage()
  page.setDefaultTimeout(15000)
  const problems = []
  watch(page, problems)
  return { context, page, problems }
}

// layout checks the 390 px page: no horizontal scroll, nothing visible sticking
// out on the right, tap targets at least 36 px high.
export async function layout(page) {
  return page.evaluate(() => {
    const out = []
    const de = document.documentElement
    if (de.scrollWidth > de.clientWidth) out.push(`page scrolls sideways (${de.scrollWidth} > ${de.clientWidth})`)
    if (document.body.scrollWidth > document.body.clientWidth + 1) out.push(`body is wider than the screen (${document.body.scrollWidth})`)
    const W = window.innerWidth
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect()
      if (!r.width || !r.height || el.closest('.offscreen,[hidden]')) continue
      const cs = getComputedStyle(el)
      if (cs.visibility === 'hidden' || cs.display === 'none') continue
      if (r.right > W + 1 && !el.closest('.consent-text')) out.push(`<${el.tagName.toLowerCase()} ${el.className}> sticks out to ${Math.round(r.right)} px`)
      if (el.matches('button, a.btn, select, input:not([type=checkbox]):not([type=radio]):not([type=file])') && r.height < 36) {
        out.push(`tap target <${el.tagName.toLowerCase()} ${el.className}> "${(el.textContent || '').trim().slice(0, 12)}" is ${Math.round(r.height)} px high`)
      }
      if (el.scrollWidth > el.clientWidth + 1 && ['auto', 'scroll'].includes(cs.overflowX)) out.push(`<${el.tagName.toLowerCase()} ${el.className}> scrolls sideways`)
    }
    return [...new Set(out)].slice(0, 10)
  })
}

// signInCode waits for the code linli logs for phone when no SMS gateway is
// configured (phone masked as 138****8000 in the log).
export async function codeFromLog(log, phone, after = 0, ms = 10000) {
  const masked = phone.slice(0, 3) + '****' + phone.slice(7)
  const start = Date.now()
  while (Date.now() - start < ms) {
    const text = log().slice(after)
    const all = [...text.matchAll(/app sign-in code[^\n]*phone=(\S+) code=(\d{6})/g)].filter((m) => m[1] === masked)
    if (all.length) return all[all.length - 1][2]
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`no sign-in code for ${masked} in the server log`)
}

// flatShot saves a screenshot of the whole page; for a long page the sticky
// title bar and the fixed tab bar are laid out in place for the picture
// (through the CSSOM, which the CSP allows) so they do not float over the
// middle of it.
export async function flatShot(page, file, full = true) {
  if (!full) return page.screenshot({ path: file })
  const long = await page.evaluate(() => {
    if (document.documentElement.scrollHeight <= window.innerHeight + 1) return false
    for (const el of document.querySelectorAll('.bar, .tabs')) el.style.position = 'static'
    return true
  })
  await page.screenshot({ path: file, fullPage: long })
  if (long) await page.evaluate(() => { for (const el of document.querySelectorAll('.bar, .tabs')) el.style.position = '' })
}
