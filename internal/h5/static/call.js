// 门口呼叫 in the residents' H5 (docs/webcall.md): while a signed-in page is
// open it keeps one WebSocket to the server, so the page is one of the
// resident's app contacts. It holds the calls and 监视 sessions (one
// RTCPeerConnection each, offered at once for the video before 接听) and
// rings once the person has touched the page; callscreen.js shows the calls,
// pages/monitor.js the 监视 sessions. The microphone is asked for only at
// 接听 or 对讲.
import { api } from './core.js'

const BACKOFF_MAX_MS = 30000
const ICE_GATHER_MS = 5000
const WATCH_EXTEND_MS = 60000

const sessions = new Map() // call id → session
const listeners = new Set() // #/monitor and the overlay: fn(event, session)
let ws = null
let gen = 0
let attempt = 0
let retryTimer
let running = false
let ready = false
let pendingWatch = null // { deviceId, resolve, reject }
let refusal = '' // why the server last refused a ticket (e.g. no APP呼叫)

// startCalls connects (once) while the person is signed in.
export function startCalls() {
  if (running) return
  running = true
  attempt = 0
  connect()
}

// stopCalls disconnects after signing out: calls end, the socket closes.
export function stopCalls() {
  if (!running) return
  running = false
  gen++
  clearTimeout(retryTimer)
  closeSocket()
}

// soundAllowed says whether the ring can be heard (the person has touched the page).
export function soundOn() { return soundAllowed }

// calls lists the door calls ringing or answered here, oldest first.
export function calls() { return [...sessions.values()].filter((s) => s.kind === 'call') }

// isReady says whether the server has the page as a contact.
export function isReady() { return ready }

// whyNotReady is the server's reason for refusing the page, if it did.
export function whyNotReady() { return refusal }

// onCallEvent registers fn(type, session, text) for 'presence', 'ring',
// 'watching', 'media', 'accepted', 'ended', 'opened', 'error', 'tick' and
// 'sound'; returns the undo.
export function onCallEvent(fn) {
  listeners.add(fn)
  return () => listeners.delete(fn)
}

function emit(type, s, extra) {
  for (const fn of [...listeners]) {
    try { fn(type, s, extra) } catch { /* a listener's fault stays its own */ }
  }
}

// ---- the socket ----

async function connect() {
  const mine = ++gen
  closeSocket()
  if (!running) return
  let ticket
  try {
    ticket = (await api('POST', '/webcall/ticket', {})).ticket
  } catch (e) {
    if (mine !== gen || e.status === 401) return
    // 403: no room of mine has APP呼叫; try again now and then, not often.
    if (e.status === 403 || e.status === 404) {
      attempt = Math.max(attempt, 5)
      refusal = e.message
      emit('presence', null)
    }
    retry(mine)
    return
  }
  if (mine !== gen || !ticket) return
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
  const sock = new WebSocket(`${scheme}://${location.host}/webcall/ws?ticket=${encodeURIComponent(ticket)}`)
  ws = sock
  sock.onmessage = (ev) => {
    if (mine !== gen || typeof ev.data !== 'string') return
    let msg
    try { msg = JSON.parse(ev.data) } catch { return }
    handle(msg)
  }
  sock.onclose = () => {
    if (mine !== gen) return
    ws = null
    ready = false
    delete document.body.dataset.calls
    endAll('连接中断')
    emit('presence', null)
    retry(mine)
  }
}

function retry(mine) {
  if (!running || mine !== gen) return
  const delay = Math.min(BACKOFF_MAX_MS, 1000 * 2 ** attempt)
  attempt++
  clearTimeout(retryTimer)
  retryTimer = setTimeout(() => { if (mine === gen) connect() }, delay)
}

function closeSocket() {
  ready = false
  delete document.body.dataset.calls
  if (ws) {
    ws.onclose = null
    ws.onmessage = null
    ws.close()
    ws = null
  }
  endAll(null)
}

function send(msg) {
  if (!ws || ws.readyState !== WebSocket.OPEN) return false
  ws.send(JSON.stringify(msg))
  return true
}

// ---- messages from the server ----

async function handle(msg) {
  const s = msg.call ? sessions.get(msg.call) : undefined
  switch (msg.type) {
    case 'ready':
      ready = true
      refusal = ''
      attempt = 0
      document.body.dataset.calls = 'ready'
      emit('presence', null)
      break
    case 'ring': {
      if (!msg.call || s) return
      const started = Date.parse(msg.started_at || '')
      const c = session(msg.call, 'call', msg.from, msg.device_id, isNaN(started) ? Date.now() : started)
      updateRing()
      emit('ring', c)
      await offer(c)
      break
    }
    case 'watching': {
      if (!msg.call) return
      const at = expiry(Date.parse(msg.expires_at || ''))
      if (s) { s.expiresAt = at; emit('tick', s); return }
      const w = session(msg.call, 'watch', msg.from, msg.device_id, Date.now())
      w.state = 'watching'
      w.expiresAt = at
      if (pendingWatch && pendingWatch.deviceId === msg.device_id) {
        pendingWatch.resolve(w)
        pendingWatch = null
      }
      emit('watching', w)
      await offer(w)
      break
    }
    case 'answer':
      if (!s || !s.pc || !msg.sdp) return
      try {
        await s.pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp })
      } catch {
        emit('error', s, '视频连接失败：无法识别服务器的应答')
      }
      break
    case 'accepted':
      if (!s) return
      s.state = 'answered'
      s.answeredAt = Date.now()
      emit('accepted', s)
      break
    case 'opened':
      if (s) s.opening = false
      emit('opened', s)
      break
    case 'ended':
      if (s) end(s, msg.reason || '通话已结束')
      break
    case 'error':
      if (s) s.opening = false
      if (!msg.call && pendingWatch) {
        pendingWatch.reject(new Error(msg.message || '无法监视'))
        pendingWatch = null
        return
      }
      emit('error', s, msg.message || '操作失败')
      break
  }
}

function expiry(at) {
  // The server's clock may differ from the phone's: an implausible deadline
  // is taken as the standard 60 s from now.
  const left = at - Date.now()
  return isNaN(at) || left <= 0 || left > 10 * WATCH_EXTEND_MS ? Date.now() + WATCH_EXTEND_MS : at
}

function session(id, kind, from, deviceId, startedAt) {
  const s = { id, kind, from: from || '', deviceId: deviceId || 0, startedAt, state: 'ringing', answeredAt: null, expiresAt: null,
    pc: null, stream: new MediaStream(), mic: null, talking: false, opening: false, micRefused: false }
  sessions.set(id, s)
  return s
}

// ---- WebRTC ----

async function offer(s) {
  const pc = new RTCPeerConnection()
  s.pc = pc
  const video = pc.addTransceiver('video', { direction: 'recvonly' })
  pc.addTransceiver('audio', { direction: 'sendrecv' })
  preferH264(video)
  pc.ontrack = (ev) => { s.stream.addTrack(ev.track); emit('media', s) }
  try {
    await pc.setLocalDescription(await pc.createOffer())
    await gathered(pc)
  } catch {
    emit('error', s, '浏览器无法建立视频连接')
    return
  }
  if (s.pc !== pc || !pc.localDescription) return
  send({ type: 'offer', call: s.id, sdp: pc.localDescription.sdp })
}

function preferH264(t) {
  const caps = RTCRtpReceiver.getCapabilities ? RTCRtpReceiver.getCapabilities('video') : null
  if (!caps || !t.setCodecPreferences) return
  const isH264 = (c) => c.mimeType.toLowerCase() === 'video/h264'
  const h264 = caps.codecs.filter(isH264)
  if (!h264.length) return
  try { t.setCodecPreferences([...h264, ...caps.codecs.filter((c) => !isH264(c))]) } catch { /* keep the browser's order */ }
}

function gathered(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState !== 'complete') return
      pc.removeEventListener('icegatheringstatechange', done)
      clearTimeout(timer)
      resolve()
    }
    const timer = setTimeout(() => { pc.removeEventListener('icegatheringstatechange', done); resolve() }, ICE_GATHER_MS)
    pc.addEventListener('icegatheringstatechange', done)
  })
}

function audioSender(s) {
  const t = s.pc && s.pc.getTransceivers().find((x) => x.receiver.track.kind === 'audio')
  return t ? t.sender : null
}

// attachMic asks for the microphone (once per session) and puts it on the
// audio sender; false when refused.
async function attachMic(s) {
  if (!s.mic) {
    let track
    try {
      track = (await navigator.mediaDevices.getUserMedia({ audio: true, video: false })).getAudioTracks()[0]
    } catch {
      return false
    }
    if (!track) return false
    if (!sessions.has(s.id)) { track.stop(); return false }
    s.mic = track
  }
  const sender = audioSender(s)
  if (!sender) return false
  await sender.replaceTrack(s.mic)
  return true
}

async function detachMic(s) {
  const sender = audioSender(s)
  if (sender) await sender.replaceTrack(null).catch(() => {})
  if (s.mic) s.mic.stop()
  s.mic = null
}

// ---- actions ----

export async function accept(s) {
  if (s.state !== 'ringing') return
  s.state = 'answering'
  updateRing()
  emit('tick', s)
  const mic = await attachMic(s)
  if (!sessions.has(s.id)) return
  if (!mic) s.micRefused = true
  if (!send({ type: 'accept', call: s.id })) {
    s.state = 'ringing'
    updateRing()
    emit('error', s, '连接已中断，请稍后重试')
  }
  emit('tick', s)
}

export function hangup(s) {
  if (!send({ type: 'hangup', call: s.id })) end(s, s.kind === 'watch' ? '监视已结束' : '已挂断')
}

export function openDoor(s) {
  if (s.opening) return
  if (!send({ type: 'open', call: s.id })) { emit('error', s, '连接已中断，请稍后重试'); return }
  s.opening = true
  emit('tick', s)
}

// watch asks for a 监视 session of a station; resolves to the session or
// rejects with the server's reason.
export function watch(deviceId) {
  if (pendingWatch) return Promise.reject(new Error('正在打开监视，请稍候'))
  return new Promise((resolve, reject) => {
    if (!send({ type: 'watch', device_id: deviceId })) { reject(new Error('正在连接服务器，请稍后再试')); return }
    pendingWatch = { deviceId, resolve, reject }
  })
}

export function extend(s) {
  if (!send({ type: 'extend', call: s.id })) return
  // The server answers with `watching` and the new deadline; until then, 60 s from now.
  s.expiresAt = Date.now() + WATCH_EXTEND_MS
  emit('tick', s)
}

// talk turns 对讲 on or off; false when the microphone was refused.
export async function talk(s, on) {
  if (on && !(await attachMic(s))) { s.micRefused = true; return false }
  if (!on) await detachMic(s)
  if (send({ type: 'talk', call: s.id, on })) s.talking = on
  emit('tick', s)
  return true
}

// ---- ending ----

function end(s, reason) {
  sessions.delete(s.id)
  if (s.mic) s.mic.stop()
  if (s.pc) s.pc.close()
  s.pc = null
  s.state = 'ended'
  s.reason = reason
  updateRing()
  emit('ended', s, reason)
}

function endAll(reason) {
  if (pendingWatch) { pendingWatch.reject(new Error('连接中断，请稍后再试')); pendingWatch = null }
  for (const s of [...sessions.values()]) end(s, reason || '连接中断')
}

// ---- the ring sound: allowed after the first touch, click or key ----

let audio = null
let soundAllowed = false
let ringTimer = null

function unlockSound() {
  try {
    audio = audio || new AudioContext()
  } catch { return }
  // Sound is allowed once the context runs; a gesture that did not start it
  // leaves the listeners for the next one.
  const started = () => {
    if (audio.state !== 'running' || soundAllowed) return
    soundAllowed = true
    for (const t of UNLOCK_EVENTS) document.removeEventListener(t, unlockSound, true)
    updateRing()
    emit('sound', null)
  }
  audio.resume().then(started, () => {})
}

// iOS Safari lets sound start on touchend and click rather than touchstart.
const UNLOCK_EVENTS = ['pointerdown', 'touchstart', 'touchend', 'click', 'keydown']
for (const t of UNLOCK_EVENTS) document.addEventListener(t, unlockSound, true)

function beep() {
  if (!audio || audio.state !== 'running') return
  for (const offset of [0, 0.4]) {
    const osc = audio.createOscillator()
    const gain = audio.createGain()
    osc.frequency.value = 880
    const t0 = audio.currentTime + offset
    gain.gain.setValueAtTime(0.0001, t0)
    gain.gain.exponentialRampToValueAtTime(0.25, t0 + 0.02)
    gain.gain.exponentialRampToValueAtTime(0.0001, t0 + 0.3)
    osc.connect(gain).connect(audio.destination)
    osc.start(t0)
    osc.stop(t0 + 0.32)
  }
}

function updateRing() {
  const ringing = [...sessions.values()].some((s) => s.kind === 'call' && s.state === 'ringing')
  if (ringing && soundAllowed && !ringTimer) {
    beep()
    ringTimer = setInterval(beep, 2000)
  } else if (!ringing && ringTimer) {
    clearInterval(ringTimer)
    ringTimer = null
  }
}
