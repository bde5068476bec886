// A fake of the residents' API (/app/v1, docs: /work/briefs app contract) for
// testing the H5 pages before the real endpoints exist. It lives only in the
// test harness: h5e2e.mjs installs it with Playwright route interception in
// front of the real linli binary (which serves /h5/), and
//
//   node e2e/h5fake.mjs --upstream http://127.0.0.1:8080 [--port 8090]
//
// runs it as a small HTTP server that answers /app/v1 itself and passes
// everything else to a running linli, to look at the pages by hand. Sign in
// with 13800138000 and code 123456.
import http from 'node:http'
import { deflateSync, crc32 } from 'node:zlib'
import { randomBytes } from 'node:crypto'

export const PHONE = '13800138000'
export const CODE = '123456'
const DAY = 86400000

// png draws a w×h grey-scale picture from pixel(x, y) -> 0..255.
export function png(w, h, pixel) {
  const raw = Buffer.alloc((w + 1) * h)
  for (let y = 0; y < h; y++) {
    raw[y * (w + 1)] = 0
    for (let x = 0; x < w; x++) raw[y * (w + 1) + 1 + x] = pixel(x, y)
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4)
    len.writeUInt32BE(data.length)
    const td = Buffer.concat([Buffer.from(type), data])
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(td) >>> 0)
    return Buffer.concat([len, td, crc])
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(w, 0)
  ihdr.writeUInt32BE(h, 4)
  ihdr[8] = 8 // bit depth
  ihdr[9] = 0 // grey
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))])
}
// A QR-looking picture (not a readable code) and a "camera snapshot".
const qrPNG = (seed) => png(232, 232, (x, y) => {
  const cx = Math.floor(x / 8); const cy = Math.floor(y / 8)
  const finder = (a, b) => a < 7 && b < 7 && (a === 0 || a === 6 || b === 0 || b === 6 || (a > 1 && a < 5 && b > 1 && b < 5))
  if (cx < 1 || cy < 1 || cx > 27 || cy > 27) return 255
  const X = cx - 1; const Y = cy - 1
  if (finder(X, Y) || finder(26 - X, Y) || finder(X, 26 - Y)) return 0
  if ((X < 8 && Y < 8) || (X > 18 && Y < 8) || (X < 8 && Y > 18)) return 255
  return ((X * 31 + Y * 17 + seed) * 2654435761 >>> 13) % 3 === 0 ? 0 : 255
})
const snapshotPNG = png(320, 180, (x, y) => 40 + ((x + y) % 160) + (x > 120 && x < 200 && y > 40 && y < 150 ? 40 : 0))
const facePNG = png(160, 200, (x, y) => ((x - 80) ** 2 / 50 ** 2 + (y - 95) ** 2 / 70 ** 2 < 1 ? 210 : 90))

function problem(status, detail, errors) {
  const title = { 401: 'Unauthorized', 404: 'Not Found', 409: 'Conflict', 422: 'Unprocessable Entity', 429: 'Too Many Requests', 504: 'Gateway Timeout' }[status] || 'Error'
  const body = { title, status, detail }
  if (errors) body.errors = errors
  return { status, headers: { 'content-type': 'application/problem+json' }, body: JSON.stringify(body) }
}
const json = (status, v) => ({ status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(v) })
const noContent = () => ({ status: 204, headers: {}, body: '' })
const image = (buf, type = 'image/png') => ({ status: 200, headers: { 'content-type': type }, body: buf })

// createFake returns the fake's state and handle(method, url, headers, body)
// -> {status, headers, body}. Options: delayMs before door opening answers.
export function createFake({ openDelayMs = 400 } = {}) {
  const now = () => new Date()
  const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
  const t0 = Date.now()
  const s = {
    sessions: new Map([['other-device-token', { id: 1, device_name: 'iPhone 15', created_at: iso(t0 - 5 * DAY) }]]),
    nextSession: 2,
    rooms: [
      { resident_id: 11, room_id: 502, label: '【测试小区1】-1区-1栋-1单元-0502', community_id: 1, community_name: '测试小区1', role: '业主', is_owner: true, permissions: { app_call: true, call_forward: true, face: true }, access_until: null, invitable_roles: ['家属', '租户'] },
      { resident_id: 12, room_id: 903, label: '【阳光花园】-2区-3栋-2单元-1203', community_id: 2, community_name: '阳光花园', role: '租户', is_owner: false, permissions: { app_call: true, call_forward: false, face: false }, access_until: '2027-06-30', invitable_roles: [] },
    ],
    stations: [
      { device_id: 11, label: '【测试小区1】-1区-1栋-1单元-门口机1', kind: 'door', online: true },
      { device_id: 12, label: '【测试小区1】-围墙机1', kind: 'wall', online: true },
      { device_id: 13, label: '【测试小区1】-1区-2栋-1单元-门口机1', kind: 'door', online: false },
    ],
    doors: [
      { id: 1, name: '1区1栋1单元门口机', kind: '门口机', community_id: 1, community_name: '测试小区1', online: true },
      { id: 2, name: '东门围墙机', kind: '围墙机', community_id: 1, community_name: '测试小区1', online: true },
      { id: 3, name: '1区2栋1单元门口机', kind: '门口机', community_id: 1, community_name: '测试小区1', online: false },
      { id: 4, name: '2区3栋2单元门口机', kind: '门口机', community_id: 2, community_name: '阳光花园', online: true },
    ],
    passes: [],
    nextPass: 100,
    members: {
      502: [
        { resident_id: 11, name: '张三', phone_masked: '138****8000', role: '业主', origin: '物业添加', access_until: null, is_me: true },
        { resident_id: 21, name: '李四', phone_masked: '139****0002', role: '家属', origin: '业主邀请', access_until: null, is_me: false },
        { resident_id: 22, name: '王租客', phone_masked: '137****1234', role: '租户', origin: '申请', access_until: '2026-12-31', is_me: false },
      ],
    },
    invitations: { 502: [{ id: 7, phone_masked: '136****5555', name: '赵六', role: '家属', access_until: null, status: '待物业审核', created_at: iso(t0 - DAY) }] },
    nextInvitation: 8,
    face: { consent_text: '为了让您刷脸开门，物业将采集您的人脸照片，仅用于本小区门禁识别。\n照片加密保存，只下发到您所在小区的门口机和围墙机。\n您可以随时在本页撤回同意，撤回后照片立即删除，并从所有门口机上移除。\n未满 14 周岁的未成年人须由监护人代为同意。', consent_version: 2, consented_at: null, has_photo: false },
    notices: [
      { id: 31, community: '测试小区1', scope: 'community', title: '停水通知', content: '7 月 24 日 9:00–12:00 小区停水，请提前储水。', show_from: iso(t0 - DAY), show_until: iso(t0 + 3 * DAY), showing: true, sent_at: iso(t0 - DAY), read: false },
      { id: 32, community: '测试小区1', scope: 'rooms', title: '电梯检修', content: '1单元电梯周三上午检修，请走楼梯。', show_from: iso(t0 - 2 * DAY), show_until: iso(t0 + DAY), showing: true, sent_at: iso(t0 - 2 * DAY), read: false },
      { id: 33, community: '阳光花园', scope: 'community', title: '物业费缴纳提醒', content: '请于本月底前缴纳下半年物业费。', show_from: iso(t0 - 9 * DAY), show_until: iso(t0 - 2 * DAY), showing: false, sent_at: iso(t0 - 9 * DAY), read: true },
    ],
    calls: [],
    seenCalled: 0,
    dnd: { on: false, schedule_enabled: false, schedule: [] },
    opened: [],
  }
  for (let i = 0; i < 25; i++) {
    const answered = i % 3 !== 0
    s.calls.push({ id: 500 - i, room_label: s.rooms[i % 5 === 4 ? 1 : 0].label, device_name: i % 4 === 1 ? '东门围墙机' : '1区1栋1单元门口机', started_at: iso(t0 - i * 3 * 3600000 - 600000), result: answered ? '已接听' : '未接听', answered_by: answered ? (i % 2 ? '室内分机' : 'APP（张三）') : '', duration_seconds: answered ? 20 + i * 7 : 0, has_snapshot: i % 2 === 0, seen: i > 6 })
  }
  const addPass = (b) => {
    const id = s.nextPass++
    const share = randomBytes(12).toString('base64url')
    const room = s.rooms.find((r) => r.room_id === b.room_id)
    const p = { id, room_id: b.room_id, room_label: room.label, visitor_name: b.visitor_name, note: b.note || '', kind: b.kind, valid_from: b.valid_from, valid_to: b.valid_to, max_uses: b.max_uses, uses: 0, pin: String(100000 + (id * 7919) % 900000), qr: 'LINLI-PASS:' + share, share_token: share, share_url: '/h5/pass/' + share, revoked: false, created_at: iso(Date.now()) }
    s.passes.unshift(p)
    return p
  }
  const status = (p) => {
    const n = now()
    if (p.revoked) return '已撤销'
    if (p.max_uses && p.uses >= p.max_uses) return '已用完'
    if (new Date(p.valid_to) <= n) return '已过期'
    if (new Date(p.valid_from) > n) return '未开始'
    return '有效'
  }
  const passOut = (p) => { const { revoked, ...rest } = p; return { ...rest, status: status(p) } }
  addPass({ room_id: 502, visitor_name: '王阿姨', note: '保洁', kind: 'visitor', valid_from: iso(t0 - 3600000), valid_to: iso(t0 + DAY), max_uses: 0 })
  const old = addPass({ room_id: 502, visitor_name: '快递员', kind: 'delivery', valid_from: iso(t0 - 3 * DAY), valid_to: iso(t0 - 2 * DAY), max_uses: 1 })
  old.uses = 1

  const fake = { state: s, requests: [] }
  fake.expireAll = () => { for (const k of [...s.sessions.keys()]) s.sessions.delete(k) }

  fake.handle = async (method, rawURL, headers, body) => {
    const url = new URL(rawURL, 'http://fake')
    const path = url.pathname.replace(/^\/app\/v1/, '')
    fake.requests.push(`${method} ${path}`)
    const bodyJSON = () => { try { return JSON.parse(body ? body.toString() : '{}') } catch { return {} } }
    let m
    // Public.
    if (method === 'POST' && path === '/sms-codes') {
      return bodyJSON().phone === PHONE ? noContent() : problem(404, '该手机号不是已登记的业主，请联系物业登记')
    }
    if (method === 'POST' && path === '/session') {
      const b = bodyJSON()
      if (b.phone !== PHONE || b.code !== CODE) return problem(401, '验证码错误或已过期，请重新获取')
      const token = randomBytes(16).toString('hex')
      s.sessions.set(token, { id: s.nextSession++, device_name: b.device_name || '', created_at: iso(Date.now()) })
      return json(200, { token, expires_at: iso(Date.now() + 30 * DAY) })
    }
    if ((m = path.match(/^\/pass-shares\/([\w-]+)(\/qr\.png)?$/)) && method === 'GET') {
      const p = s.passes.find((x) => x.share_token === m[1])
      if (!p) return problem(404, '通行证不存在')
      const st = status(p)
      if (m[2]) return st === '有效' || st === '未开始' ? image(qrPNG(p.id)) : problem(404, '通行证已失效')
      const room = s.rooms.find((r) => r.room_id === p.room_id)
      return json(200, { visitor_name: p.visitor_name, community_name: room.community_name, room_label: p.room_label, valid_from: p.valid_from, valid_to: p.valid_to, pin: st === '有效' || st === '未开始' ? p.pin : '', qr: p.qr, uses: p.uses, max_uses: p.max_uses, status: st })
    }
    // Signed in.
    const auth = (headers.authorization || headers.Authorization || '').replace(/^Bearer /, '')
    const sess = s.sessions.get(auth)
    if (!sess) return problem(401, '登录已失效，请重新登录')
    if (method === 'DELETE' && path === '/session') { s.sessions.delete(auth); return noContent() }
    if (method === 'GET' && path === '/me') return json(200, { phone: PHONE, name: '张三', rooms: s.rooms })
    if (method === 'GET' && path === '/sessions') {
      return json(200, { items: [...s.sessions.entries()].map(([k, v]) => ({ ...v, current: k === auth })) })
    }
    if (method === 'DELETE' && path === '/sessions') { s.sessions.clear(); return noContent() }
    if ((m = path.match(/^\/sessions\/(\d+)$/)) && method === 'DELETE') {
      const e = [...s.sessions.entries()].find(([, v]) => v.id === Number(m[1]))
      if (!e) return problem(404, '该登录设备不存在')
      s.sessions.delete(e[0])
      return noContent()
    }
    if (method === 'GET' && path === '/doors') return json(200, { items: s.doors })
    if (method === 'POST' && path === '/webcall/ticket') return json(200, { ticket: 'fake-' + randomBytes(8).toString('hex'), expires_in: 30 })
    if (method === 'GET' && path === '/webcall/stations') return json(200, { items: s.stations })
    if ((m = path.match(/^\/doors\/(\d+)\/open$/)) && method === 'POST') {
      const d = s.doors.find((x) => x.id === Number(m[1]))
      if (!d) return problem(404, '门不存在')
      await new Promise((r) => setTimeout(r, openDelayMs))
      if (!d.online) return problem(409, '设备离线，无法开门')
      s.opened.push(d.id)
      return json(200, { opened_at: iso(Date.now()) })
    }
    if (method === 'GET' && path === '/passes') return json(200, { items: s.passes.map(passOut) })
    if (method === 'POST' && path === '/passes') {
      const b = bodyJSON()
      const errors = []
      if (!s.rooms.some((r) => r.room_id === b.room_id)) return problem(404, '房间不存在')
      if (!b.visitor_name || b.visitor_name.length > 32) errors.push({ location: 'body.visitor_name', message: '访客姓名为 1–32 个字' })
      if (b.kind === 'delivery') {
        b.valid_from = iso(Date.now()); b.valid_to = iso(Date.now() + DAY); b.max_uses = 1
      } else {
        const f = Date.parse(b.valid_from); const t = Date.parse(b.valid_to)
        if (!(t > f)) errors.push({ location: 'body.valid_to', message: '结束时间要晚于开始时间' })
        if (t > Date.now() + 7 * DAY + 60000) errors.push({ location: 'body.valid_to', message: '通行证最长 7 天' })
        if (!Number.isInteger(b.max_uses) || b.max_uses < 0) errors.push({ location: 'body.max_uses', message: '次数不正确' })
      }
      if (errors.length) return problem(422, '通行证信息有误', errors)
      return json(201, passOut(addPass(b)))
    }
    if ((m = path.match(/^\/passes\/(\d+)$/))) {
      const p = s.passes.find((x) => x.id === Number(m[1]))
      if (!p) return problem(404, '通行证不存在')
      if (method === 'GET') return json(200, passOut(p))
      if (method === 'DELETE') { p.revoked = true; return noContent() }
    }
    if ((m = path.match(/^\/rooms\/(\d+)\/(members|invitations)(?:\/(\d+))?$/))) {
      const room = s.rooms.find((r) => r.room_id === Number(m[1]))
      if (!room) return problem(404, '房间不存在')
      const members = s.members[room.room_id] || []
      const invs = s.invitations[room.room_id] || (s.invitations[room.room_id] = [])
      if (m[2] === 'members' && !m[3] && method === 'GET') return json(200, { items: members, invitations: invs })
      if (!room.is_owner) return problem(404, '房间不存在')
      if (m[2] === 'members' && m[3] && method === 'DELETE') {
        const i = members.findIndex((x) => x.resident_id === Number(m[3]))
        if (i < 0) return problem(404, '该住户不存在')
        if (members[i].is_me || members[i].role === '业主') return problem(409, '不能移除自己或其他业主')
        members.splice(i, 1)
        return noContent()
      }
      if (m[2] === 'invitations' && !m[3] && method === 'POST') {
        const b = bodyJSON()
        if (!/^1[3-9]\d{9}$/.test(b.phone || '')) return problem(422, '手机号格式不正确', [{ location: 'body.phone', message: '请填写 11 位手机号' }])
        if (b.phone === PHONE) return problem(409, '该手机号已是本房间的住户')
        if (!room.invitable_roles.includes(b.role)) return problem(422, '身份不可邀请')
        const iv = { id: s.nextInvitation++, phone_masked: b.phone.slice(0, 3) + '****' + b.phone.slice(7), name: b.name, role: b.role, access_until: b.access_until || null, status: '待物业审核', created_at: iso(Date.now()) }
        invs.unshift(iv)
        return json(201, iv)
      }
      if (m[2] === 'invitations' && m[3] && method === 'DELETE') {
        const iv = invs.find((x) => x.id === Number(m[3]))
        if (!iv) return problem(404, '邀请不存在')
        iv.status = '已撤回'
        return noContent()
      }
    }
    if (path === '/face') {
      if (method === 'GET') return json(200, s.face)
      if (method === 'PUT') {
        const ct = headers['content-type'] || headers['Content-Type'] || ''
        const text = body ? body.toString('latin1') : ''
        if (!ct.startsWith('multipart/form-data') || !text.includes('name="photo"')) return problem(422, '请上传照片')
        if (!new RegExp(`name="consent_version"\\r\\n\\r\\n${s.face.consent_version}\\r\\n`).test(text)) return problem(409, '说明已更新，请重新阅读并同意')
        s.face.has_photo = true
        s.face.consented_at = iso(Date.now())
        return noContent()
      }
      if (method === 'DELETE') { s.face.has_photo = false; s.face.consented_at = null; return noContent() }
    }
    if (method === 'GET' && path === '/face/photo') return s.face.has_photo ? image(facePNG) : problem(404, '没有人脸照片')
    if (method === 'GET' && path === '/notices') return json(200, { items: s.notices })
    if ((m = path.match(/^\/notices\/(\d+)\/read$/)) && method === 'POST') {
      const n = s.notices.find((x) => x.id === Number(m[1]))
      if (!n) return problem(404, '通知不存在')
      n.read = true
      return noContent()
    }
    if (method === 'GET' && path === '/calls') {
      const before = Number(url.searchParams.get('before_id') || Infinity)
      const limit = Math.min(100, Number(url.searchParams.get('limit') || 20))
      const items = s.calls.filter((c) => c.id < before).slice(0, limit)
      return json(200, { items, missed_unseen: s.calls.filter((c) => c.result === '未接听' && !c.seen).length })
    }
    if (method === 'POST' && path === '/calls/seen') { s.seenCalled++; s.calls.forEach((c) => { c.seen = true }); return noContent() }
    if ((m = path.match(/^\/calls\/(\d+)\/snapshot$/)) && method === 'GET') {
      const c = s.calls.find((x) => x.id === Number(m[1]))
      return c && c.has_snapshot ? image(snapshotPNG) : problem(404, '没有抓拍照片')
    }
    if (path === '/dnd') {
      const out = () => json(200, { ...s.dnd, active: s.dnd.on })
      if (method === 'GET') return out()
      if (method === 'PUT') {
        const b = bodyJSON()
        if ((b.schedule || []).length > 7) return problem(422, '最多 7 个时段')
        for (const p of b.schedule || []) {
          if (!/^\d\d:\d\d$/.test(p.start) || !/^\d\d:\d\d$/.test(p.end) || !p.weekdays.length) return problem(422, '时段不正确')
        }
        s.dnd = { on: !!b.on, schedule_enabled: !!b.schedule_enabled, schedule: b.schedule || [] }
        return out()
      }
    }
    return problem(404, '接口不存在')
  }

  // install answers /app/v1 in a Playwright browser context.
  fake.install = async (context) => {
    await context.route((u) => new URL(u).pathname.startsWith('/app/v1/'), async (route) => {
      const req = route.request()
      const out = await fake.handle(req.method(), req.url(), req.headers(), req.postDataBuffer())
      await route.fulfill({ status: out.status, headers: out.headers, body: out.body })
    })
  }
  // installCalls stages the call socket (/webcall/ws, docs/webcall.md) in a
  // browser context: the page's messages are kept in calls.received, and
  // calls.send(msg) speaks for the server. Each new socket is told `ready`.
  fake.installCalls = async (context) => {
    const calls = { received: [], sockets: [] }
    calls.send = (msg) => { for (const ws of calls.sockets) ws.send(JSON.stringify(msg)) }
    // next waits for the page's next message of a type (after those seen).
    calls.next = async (type, after = 0, ms = 10000) => {
      const start = Date.now()
      while (Date.now() - start < ms) {
        const m = calls.received.slice(after).find((x) => x.type === type)
        if (m) return m
        await new Promise((r) => setTimeout(r, 50))
      }
      throw new Error(`the page sent no ${type} (got ${calls.received.map((x) => x.type).join(', ') || 'nothing'})`)
    }
    await context.routeWebSocket(/\/webcall\/ws/, (ws) => {
      calls.sockets.push(ws)
      ws.onMessage((m) => { try { calls.received.push(JSON.parse(String(m))) } catch { /* not ours */ } })
      ws.onClose(() => { calls.sockets = calls.sockets.filter((x) => x !== ws) })
      ws.send(JSON.stringify({ type: 'ready', name: '张三', community: '测试小区1' }))
    })
    return calls
  }
  return fake
}

// Run as a server: /app/v1 from the fake, everything else from --upstream.
if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (k, d) => { const i = process.argv.indexOf(k); return i > 0 ? process.argv[i + 1] : d }
  const upstream = new URL(arg('--upstream', 'http://127.0.0.1:8080'))
  const port = Number(arg('--port', '8090'))
  const fake = createFake()
  http.createServer(async (req, res) => {
    const chunks = []
    for await (const c of req) chunks.push(c)
    const body = Buffer.concat(chunks)
    if (req.url.startsWith('/app/v1/')) {
      const out = await fake.handle(req.method, req.url, req.headers, body)
      res.writeHead(out.status, out.headers)
      res.end(out.body)
      return
    }
    const up = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...req.headers, host: upstream.host } }, (r) => {
      res.writeHead(r.statusCode, r.headers)
      r.pipe(res)
    })
    up.on('error', (e) => { res.writeHead(502); res.end(String(e)) })
    up.end(body)
  }).listen(port, '127.0.0.1', () => console.log(`H5 with the fake API at http://127.0.0.1:${port}/h5/ (sign in: ${PHONE} / ${CODE})`))
}
