// End-to-end test of 监控设备 in Debian's Chromium with the real linli binary
// and a fake ONVIF camera (linli sim camera) on loopback: the operator adds
// the camera in the console (a wrong password is refused on the form), the
// snapshot thumbnail loads, and 实时画面 plays the camera's H.264 through the
// media relay: getStats() shows framesDecoded above zero and growing.
// Closing the dialog ends the viewing session. Screenshots go to e2e/shots/.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { here, root, check, startProcess as start, firstSignIn, launch, watch } from './lib.mjs'
import { checkA11y } from './layout.mjs'

const shots = join(here, 'shots')
const work = mkdtempSync(join(tmpdir(), 'linli-e2e-cameras-'))
const ADMIN_INITIAL = 'Admin-Initial-1'
const ADMIN_PW = 'Operator-Pass-2026'
const CAM_PW = 'Cam-Pass-2026'

mkdirSync(shots, { recursive: true })

const bin = join(work, 'linli')
execFileSync('go', ['build', '-o', bin, './cmd/linli'], { cwd: root, stdio: 'inherit' })
const server = start(bin, ['serve'], {
  LINLI_HTTP_ADDR: '127.0.0.1:0', LINLI_MQTT_ADDR: '127.0.0.1:0', LINLI_SIP_ADDR: 'off', LINLI_CAMERAS_ON_LOOPBACK: '1',
  LINLI_DATA_DIR: join(work, 'data'), LINLI_ADMIN_PASSWORD: ADMIN_INITIAL,
}, /msg="linli listening" http=(http:\/\/[0-9.:]+)/, 'linli')
const camera = start(bin, ['sim', 'camera', '-listen', '127.0.0.1:0', '-name', 'E2E GATE', '-password', CAM_PW], {},
  /fake camera onvif=([0-9.:]+) /, 'fake camera')
let browser
let failed = false
try {
  const base = (await server.found)[1]
  const camAddr = (await camera.found)[1]
  console.log(`linli at ${base}, fake camera at ${camAddr}`)

  browser = await launch(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
    '--autoplay-policy=no-user-gesture-required',
    // ICE on loopback only: the relay answers with 127.0.0.1 candidates.
    '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns'])
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' })
  // Keep every RTCPeerConnection the page makes, to read its stats.
  await context.addInitScript(() => {
    const Native = window.RTCPeerConnection
    window.__pcs = []
    window.RTCPeerConnection = function (...args) {
      const pc = new Native(...args)
      window.__pcs.push(pc)
      return pc
    }
    window.RTCPeerConnection.prototype = Native.prototype
  })
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
  const community = await page.evaluate(async () => {
    const r = await fetch('/api/v1/communities', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: '监控小区', region_code: '440306', address: '南山区1号' }),
    })
    return r.json()
  })
  check(community.id > 0, 'a community to put the camera in')

  // 门禁信息管理 → 监控设备.
  await page.goto(`${base}/cameras?cid=${community.id}`)
  await tid('cameras-table').waitFor()
  await tid('cameras-add').click()
  await tid('camera-form-name').fill('东门岗亭')
  await tid('camera-form-address').fill(camAddr)
  await tid('camera-form-username').fill('admin')
  await tid('camera-form-password').fill('wrong-password')
  await tid('camera-form-submit').click()
  const fieldError = page.getByTestId('camera-form-dialog').locator('.el-form-item__error')
  await fieldError.first().waitFor()
  check((await fieldError.first().innerText()).includes('用户名或密码错误'), 'a wrong password is refused on the form')
  await a11y('the 新增监控设备 dialog', '[data-testid="camera-form-dialog"]')
  await tid('camera-form-password').fill(CAM_PW)
  await tid('camera-form-submit').click()
  await tid('camera-form-dialog').waitFor({ state: 'hidden' })
  const row = page.locator('[data-testid^="camera-row-"]', { hasText: '东门岗亭' })
  await row.waitFor()
  check(true, 'the camera is in the list')
  check((await page.getByTestId('camera-status').first().innerText()).includes('正常'), 'its status is 正常')
  const vendorCell = await page.locator('.el-table__row').first().innerText()
  check(vendorCell.includes('Linli') && vendorCell.includes('FakeCam-1'), 'the manufacturer and model the camera told are shown')

  const thumb = page.locator('img[data-testid^="camera-snapshot-"]').first()
  await thumb.waitFor()
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await thumb.elementHandle())
  check(await thumb.evaluate((el) => el.naturalWidth === 640), 'the snapshot thumbnail loads (640 px wide)')
  await page.screenshot({ path: join(shots, 'cameras-list.png') })
  await a11y('监控设备')

  // 实时画面.
  await tid('camera-live').first().click()
  await tid('camera-live-dialog').waitFor()
  const framesDecoded = () => page.evaluate(async () => {
    const pc = window.__pcs[window.__pcs.length - 1]
    if (!pc) return 0
    let n = 0
    ;(await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') n = s.framesDecoded ?? 0
    })
    return n
  })
  const deadline = Date.now() + 30000
  let first = 0
  while ((first = await framesDecoded()) === 0 && Date.now() < deadline) await page.waitForTimeout(200)
  if (first === 0) {
    console.log(await page.evaluate(async () => {
      const pc = window.__pcs[window.__pcs.length - 1]
      const out = [pc?.connectionState, pc?.iceConnectionState, pc?.remoteDescription?.sdp]
      ;(await pc.getStats()).forEach((s) => { if (['inbound-rtp','candidate-pair','local-candidate','remote-candidate','transport'].includes(s.type)) out.push(JSON.stringify(s)) })
      return out.join('\n')
    }))
    await page.screenshot({ path: join(shots, 'cameras-live-failed.png') })
  }
  check(first > 0, `实时画面 decodes the camera's video (framesDecoded ${first})`)
  await page.waitForTimeout(1500)
  const later = await framesDecoded()
  check(later > first, `the frames keep coming (${first} → ${later})`)
  const size = await tid('camera-live-video').evaluate((v) => [v.videoWidth, v.videoHeight])
  check(size[0] === 640 && size[1] === 480, `the video is 640×480 (${size.join('×')})`)
  await page.screenshot({ path: join(shots, 'cameras-live.png') })
  await a11y('the 实时画面 dialog', '[data-testid="camera-live-dialog"]')

  await tid('camera-live-close').click()
  await tid('camera-live-dialog').waitFor({ state: 'hidden' })
  const camId = Number((await row.getAttribute('data-testid')).replace('camera-row-', ''))
  let viewers = -1
  for (const stop = Date.now() + 15000; Date.now() < stop; await page.waitForTimeout(200)) {
    viewers = await page.evaluate(async (p) => (await (await fetch(p)).json()).viewers, `/api/v1/communities/${community.id}/cameras/${camId}`)
    if (viewers === 0) break
  }
  check(viewers === 0, 'closing the dialog ends the viewing session')
  check(a11yFindings.length === 0, `axe finds nothing serious or critical on 监控设备 ${a11yFindings.join('\n')}`)
  check(pageErrors.length === 0, `no script errors or CSP violations on the page ${pageErrors.join('; ')}`)
} catch (e) {
  failed = true
  console.error(e)
} finally {
  await browser?.close()
  server.child.kill('SIGTERM')
  camera.child.kill('SIGTERM')
  rmSync(work, { recursive: true, force: true })
}
if (failed) process.exit(1)
