// Glass-to-glass call setup in a real browser: the door station's INVITE to
// the first video frame decoded in the console's 门口呼叫 page, and 接听 to
// two-way audio, over CALLS calls (20 by default) against the real linli
// binary, a simulated door station (`linli sim`: real SIP, H.264 and G.711)
// and headless Chromium with a fake camera and microphone, all on loopback.
//
//   node e2e/bench-glass.mjs        builds ./cmd/linli (LINLI_BIN=path reuses one)
//
// Per call:
//   t0  node, just before POST /call?to=9900 on the simulator's control URL
//       (its INVITE goes out at once);
//   t1  the page, when getStats() of the newest RTCPeerConnection first
//       reports inbound video framesDecoded > 0 (polled every 10 ms inside
//       the page);
//   t2  the page, the click event on 接听;
//   t3  when both hold: the door station's /status counts audio packets
//       from the browser (polled every 20 ms) and the page's inbound audio
//       packetsReceived has grown since the click (polled in the page).
// All times are Date.now() of the one machine clock, read in node or in
// the page. Then 挂断, and the next call once the door station is idle.
// Prints a markdown table (ms): n, p50, p95, min, max.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServer, launch } from './lib.mjs'
import { ADMIN_INITIAL, MANAGER, DEADLINE_MS, MEDIA_FLAGS, until, seed, startDoor, RECORD_PEERS } from './calllib.mjs'

const CALLS = Number(process.env.CALLS || 20)
const work = mkdtempSync(join(tmpdir(), 'linli-glass-'))
const started = Date.now()
const srv = await startServer(work, { bin: process.env.LINLI_BIN, env: { LINLI_ADMIN_PASSWORD: ADMIN_INITIAL } })
const base = srv.base

// In the page: the click event on 接听 is timed in the capture phase,
// before the page's own handler runs.
const TIME_ACCEPT = () => {
  document.addEventListener('click', (e) => {
    if (e.target instanceof Element && e.target.closest('[data-testid="doorcalls-accept"]')) window.__acceptAt = Date.now()
  }, true)
}

// watchCall starts a loop in the page for the call about to come: the newest
// RTCPeerConnection made after `since` peers. window.__glass resolves with
// when the page first showed the call in its queue and when it first
// decoded a video frame.
function watchCall(since) {
  window.__glass = new Promise((resolve) => {
    let rang = 0
    let frame = 0
    let shown = 0
    const tick = async () => {
      if (!rang && document.querySelector('[data-testid="doorcalls-queue-item"]')) rang = Date.now()
      // The first frame the page presents in a <video>, for comparison.
      for (const v of document.querySelectorAll('video')) {
        if (v.__glass === since) continue
        v.__glass = since
        v.requestVideoFrameCallback(() => { if (!shown && v.__glass === since) shown = Date.now() })
      }
      const pcs = window.__pcs.slice(since).filter((pc) => pc.signalingState !== 'closed')
      const pc = pcs[pcs.length - 1]
      if (pc && !frame) {
        let frames = 0
        ;(await pc.getStats()).forEach((r) => {
          if (r.type === 'inbound-rtp' && r.kind === 'video') frames += r.framesDecoded || 0
        })
        if (frames > 0) frame = Date.now()
      }
      if (frame && (shown || Date.now() - frame > 3000)) return resolve({ rang: rang || frame, frame, shown })
      setTimeout(tick, 10)
    }
    tick()
  })
}

// watchAudio starts a loop in the page: window.__heard resolves when the
// newest peer's inbound audio packetsReceived grows past what it was at the
// click on 接听 (or, before the click, at the start).
function watchAudio() {
  window.__acceptAt = 0
  const pc = window.__pcs.filter((p) => p.signalingState !== 'closed').pop()
  const received = async () => {
    let n = 0
    ;(await pc.getStats()).forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'audio') n += r.packetsReceived || 0 })
    return n
  }
  window.__heard = new Promise((resolve) => {
    let base = -1
    let early = -1
    let clickSeen = false
    const tick = async () => {
      const n = await received()
      if (early < 0) early = n
      if (base < 0 || (!clickSeen && window.__acceptAt)) {
        base = n
        clickSeen = !!window.__acceptAt
      } else if (clickSeen && n > base) {
        return resolve({ at: Date.now(), clickAt: window.__acceptAt, early, base, n })
      }
      setTimeout(tick, 10)
    }
    tick()
  })
}

function summary(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const q = (p) => s[Math.max(0, Math.ceil(p * s.length) - 1)]
  return { n: s.length, p50: q(0.5), p95: q(0.95), min: s[0], max: s[s.length - 1] }
}

let browser = null
let door = null
let failed = false
let page = null
try {
  browser = await launch(MEDIA_FLAGS)
  const scene = await seed(srv)
  door = await startDoor(srv, scene.cid, scene.community.community_password, scene.unitId)
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' })
  await ctx.grantPermissions(['microphone', 'camera'], { origin: base })
  await ctx.addInitScript(RECORD_PEERS)
  await ctx.addInitScript(TIME_ACCEPT)
  page = await ctx.newPage()
  page.setDefaultTimeout(DEADLINE_MS)
  const tid = (id) => page.getByTestId(id)
  await page.goto(`${base}/login`)
  await tid('login-account').fill(MANAGER.account)
  await tid('login-password').fill(MANAGER.password)
  await tid('login-submit').click()
  await page.waitForURL((u) => !u.pathname.startsWith('/login'))
  await page.goto(`${base}/door-calls`)
  await tid('doorcalls-presence').filter({ hasText: '已就绪，可接听门口呼叫' }).waitFor()
  await page.locator('.filters').click({ position: { x: 5, y: 5 } }) // enables the ring
  await tid('doorcalls-sound-hint').waitFor({ state: 'detached' })
  console.log(`linli at ${base}; 门口呼叫 ready as ${MANAGER.name}; ${CALLS} calls from the door station to 9900`)

  const outCalls = async () => ((await door.status()).sip?.calls || []).filter((c) => c.direction === 'out')
  const rows = { ring: [], frame: [], shown: [], talk: [], doorHears: [], pageHears: [] }
  let keyframes = 0
  let earlyAudio = 0
  for (let i = 1; i <= CALLS; i++) {
    const before = (await outCalls()).length
    const peers = await page.evaluate(() => window.__pcs.length)
    await page.evaluate(watchCall, peers)
    const t0 = Date.now()
    const placed = door.dial('9900')
    const seen = await page.evaluate(() => window.__glass)

    await page.evaluate(watchAudio)
    const accept = tid('doorcalls-accept')
    await accept.waitFor()
    const heardAt = page.evaluate(() => window.__heard)
    await accept.click()
    // The door station hears the browser: this call counts audio from it.
    const doorAt = await until(async () => {
      const c = (await outCalls())[before]
      return c && c.rtp_received > 0 && Date.now()
    }, 'the door station to receive the browser\'s audio', DEADLINE_MS, 20)
    const heard = await heardAt
    if (heard.early > 0) earlyAudio++
    const t2 = heard.clickAt
    const t3 = Math.max(doorAt, heard.at)
    rows.ring.push(seen.rang - t0)
    rows.frame.push(seen.frame - t0)
    if (seen.shown) rows.shown.push(seen.shown - t0)
    rows.talk.push(t3 - t2)
    rows.doorHears.push(doorAt - t2)
    rows.pageHears.push(heard.at - t2)

    await tid('doorcalls-hangup').click()
    const res = await placed
    if (res.error) throw new Error(`call ${i}: ${res.error}`)
    const done = await until(async () => {
      const c = (await outCalls())[before]
      return c && c.state === 'ended' && c
    }, 'the call to end at the door station', DEADLINE_MS, 50)
    keyframes += done.keyframe_requests || 0
    await until(async () => (await tid('doorcalls-queue-item').count()) === 0, 'the page to have no call in its queue')
    console.log(`call ${String(i).padStart(2)}: frame ${seen.frame - t0} ms (rang ${seen.rang - t0}, shown ${seen.shown ? seen.shown - t0 : '-'}), two-way audio ${t3 - t2} ms (door ${doorAt - t2}, page ${heard.at - t2}), key frame requests ${done.keyframe_requests ?? '-'}`)
  }

  const line = (what, xs) => {
    const s = summary(xs)
    return `| ${what} | ${s.n} | ${s.p50} | ${s.p95} | ${s.min} | ${s.max} |`
  }
  console.log('\n| ms | n | p50 | p95 | min | max |\n|---|---|---|---|---|---|')
  console.log(line('INVITE → first decoded frame', rows.frame))
  console.log(line('接听 → two-way audio', rows.talk))
  console.log(line('  INVITE → ringing on the page', rows.ring))
  if (rows.shown.length) console.log(line('  INVITE → first frame presented in the <video>', rows.shown))
  console.log(line('  接听 → the door station hears the browser', rows.doorHears))
  console.log(line('  接听 → the page\'s inbound audio grows', rows.pageHears))
  console.log(`\nkey frame requests at the door station (PLI/FIR/INFO), all ${CALLS} calls: ${keyframes}`)
  console.log(`calls whose page received door audio before 接听 (early media): ${earlyAudio} of ${CALLS}`)
  console.log(`machine: load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')}; ${Math.round((Date.now() - started) / 1000)} s`)
} catch (err) {
  failed = true
  console.error(err)
  if (page) console.error(`--- ${page.url()} shows:\n${(await page.evaluate(() => document.body.innerText).catch(() => '')).slice(0, 1500)}`)
  if (door) console.error('simulator:\n' + door.log().slice(-3000))
  console.error('server:\n' + srv.log().slice(-3000))
} finally {
  if (browser) await browser.close()
  if (door) door.proc.kill('SIGTERM')
  srv.stop()
  rmSync(work, { recursive: true, force: true })
}
if (failed) process.exit(1)
