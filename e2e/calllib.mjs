// Helpers shared by the scripts that place door calls against the real linli
// binary (doorcall.mjs, bench-glass.mjs): signing in to the console and the
// app API, the seeded community, the simulated door station (`linli sim`)
// and the WebRTC stats of a page. Each takes the server object that
// lib.startServer returns.
import { spawn } from 'node:child_process'
import { codeFromLog } from './lib.mjs'

export const ADMIN_INITIAL = 'Admin-Initial-1'
export const MANAGER = { account: 'wyzx', name: '王经理', password: 'Manager-Pass-2026' }
export const OWNER_PHONE = '13800138000'
export const FAMILY_PHONE = '13900000002'
export const DEADLINE_MS = 30000

// Chromium's fake camera and microphone, granted without a prompt, and sound
// without a gesture.
export const MEDIA_FLAGS = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--autoplay-policy=no-user-gesture-required']

// until polls fn every `every` ms until it returns something truthy, or
// fails with what.
export async function until(fn, what, ms = DEADLINE_MS, every = 200) {
  const start = Date.now()
  let last
  while (Date.now() - start < ms) {
    try {
      last = await fn()
      if (last) return last
    } catch (e) {
      last = e
    }
    await new Promise((r) => setTimeout(r, every))
  }
  throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`)
}

// consoleAPI signs in to the server's /api/v1 with a cookie, changing an
// initial password.
export async function consoleAPI(srv, account, passwords, next) {
  const base = srv.base
  let cookie = ''
  const call = async (method, path, body) => {
    const res = await fetch(base + path, {
      method, headers: { ...(body ? { 'Content-Type': 'application/json' } : {}), ...(cookie ? { Cookie: cookie } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    })
    const text = await res.text()
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`)
    return text ? JSON.parse(text) : null
  }
  for (const pw of passwords) {
    const res = await fetch(base + '/api/v1/session', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ account, password: pw }) })
    if (res.status !== 200) continue
    cookie = (res.headers.getSetCookie().find((c) => c.startsWith('linli_session=')) || '').split(';')[0]
    if ((await res.json()).must_change_password) {
      await call('PUT', '/api/v1/me/password', { old_password: pw, new_password: next })
      return consoleAPI(srv, account, [next])
    }
    return call
  }
  throw new Error(`cannot sign in as ${account}`)
}

// appToken signs a phone in to the server's /app/v1 with the code it logs.
export async function appToken(srv, phoneNo) {
  const base = srv.base
  const before = srv.log().length
  const res = await fetch(base + '/app/v1/sms-codes', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ phone: phoneNo }) })
  if (!res.ok) throw new Error(`sms code for ${phoneNo}: ${res.status} ${await res.text()}`)
  const code = await codeFromLog(srv.log, phoneNo, before)
  const s = await fetch(base + '/app/v1/session', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ phone: phoneNo, code, device_name: 'H5 网页浏览器' }) })
  if (!s.ok) throw new Error(`sign-in of ${phoneNo}: ${s.status} ${await s.text()}`)
  return (await s.json()).token
}

// seed creates 测试小区1 with one unit (a door station slot), its 物业管理员
// MANAGER, and two residents of 0502 who may take calls in the app. The
// server must have been started with LINLI_ADMIN_PASSWORD=ADMIN_INITIAL.
export async function seed(srv) {
  const admin = await consoleAPI(srv, 'admin', [ADMIN_INITIAL], 'Operator-Pass-2026')
  const community = await admin('POST', '/api/v1/communities', { name: '测试小区1', region_code: '440306', address: '宝安大道 1 号', wall_station_count: 1 })
  const cid = community.id
  await admin('POST', '/api/v1/accounts', { account: MANAGER.account, name: MANAGER.name, phone: '13700137000', role: 'property_admin', community_ids: [cid] })
  const mgr = await consoleAPI(srv, MANAGER.account, ['123456'], MANAGER.password)
  const area = await mgr('POST', `/api/v1/communities/${cid}/areas`, { number: 1 })
  const building = await mgr('POST', `/api/v1/communities/${cid}/buildings`, { area_id: area.id, number: 1 })
  const unit = await mgr('POST', `/api/v1/communities/${cid}/units`, { building_id: building.id, number: 1, device_count: 1 })
  await mgr('POST', `/api/v1/communities/${cid}/units/${unit.id}/rooms/batch`, { floors: 6, rooms_per_floor: 4 })
  const rooms = (await mgr('GET', `/api/v1/communities/${cid}/rooms?unit_id=${unit.id}&size=100`)).items
  const room = rooms.find((r) => r.label.endsWith('-0502'))
  for (const [name, role, phoneNo] of [['张三', '业主', OWNER_PHONE], ['李四', '家属', FAMILY_PHONE]]) {
    const r = await mgr('POST', `/api/v1/communities/${cid}/residents`, { room_id: room.id, name, role, phone: phoneNo })
    await mgr('PATCH', `/api/v1/communities/${cid}/residents/${r.id}/permissions`, { app_call: true })
  }
  return { cid, community, unitId: unit.id, room, mgr }
}

// startDoor starts `linli sim` as the unit's door station 1 against the
// server and waits until it is registered for SIP.
export async function startDoor(srv, cid, password, unitId) {
  const proc = spawn(srv.bin, ['sim', '-server', srv.base, '-mqtt', srv.mqtt, '-sip', srv.sip, '-community', String(cid), '-password', password,
    '-slot', `door:${unitId}:1`, '-serial', 'SIM-DOOR-1', '-orientation', 'landscape', '-control', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  proc.stderr.on('data', (c) => { out += c })
  const control = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`simulator did not start:\n${out}`)), DEADLINE_MS)
    proc.stdout.on('data', (c) => {
      const m = String(c).match(/sim control at (http:\/\/[0-9.:]+)/)
      if (m) { clearTimeout(timer); resolve(m[1]) }
    })
    proc.on('exit', (code) => reject(new Error(`simulator exited ${code}:\n${out}`)))
  })
  const status = async () => (await (await fetch(`${control}/status`)).json())[0]
  await until(async () => (await status()).sip?.registration?.state === 'registered', 'the door station to register')
  // dial places a call from the door; the answer comes when the call is set up.
  const dial = (to) => fetch(`${control}/call?to=${encodeURIComponent(to)}`, { method: 'POST' }).then((r) => r.json()).catch((e) => ({ error: String(e) }))
  const hangup = () => fetch(`${control}/hangup`, { method: 'POST' }).then((r) => r.json()).catch(() => null)
  return { proc, control, status, dial, hangup, log: () => out }
}

// Every RTCPeerConnection a page makes is kept in window.__pcs, so that the
// test can read getStats() of the calls it shows. For addInitScript.
export const RECORD_PEERS = () => {
  const Native = window.RTCPeerConnection
  window.__pcs = []
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args)
      window.__pcs.push(this)
    }
  }
}

// media sums the stats of a page's open peer connections.
export async function media(page) {
  return page.evaluate(async () => {
    const out = { peers: 0, framesDecoded: 0, audioReceived: 0, audioSent: 0 }
    for (const pc of window.__pcs || []) {
      if (pc.signalingState === 'closed') continue
      out.peers++
      const stats = await pc.getStats()
      stats.forEach((r) => {
        if (r.type === 'inbound-rtp' && r.kind === 'video') out.framesDecoded += r.framesDecoded || 0
        if (r.type === 'inbound-rtp' && r.kind === 'audio') out.audioReceived += r.packetsReceived || 0
        if (r.type === 'outbound-rtp' && r.kind === 'audio') out.audioSent += r.packetsSent || 0
      })
    }
    return out
  })
}
