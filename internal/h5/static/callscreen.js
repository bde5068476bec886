// The full-screen call of the residents' H5: the caller, the door station's
// video (before answering), 接听 / 挂断 / 开门, 通话中 with a timer, and why
// it ended (已在其他设备接听 …), over whatever screen is open. The calls
// themselves are in call.js.
import { h, toast } from './core.js'
import { accept, hangup, openDoor, onCallEvent, calls, soundOn } from './call.js'


let overlay = null // { el, s, timer, closing }
const pad = (n) => String(n).padStart(2, '0')
const mmss = (ms) => { const t = Math.max(0, Math.floor(ms / 1000)); return pad(Math.floor(t / 60)) + ':' + pad(t % 60) }

function showOverlay(s) {
  if (overlay && !overlay.closing) { refreshOverlay(); return }
  if (overlay) closeOverlay()
  const video = h('video.call-video', { autoplay: true, playsinline: true, muted: true, 'aria-label': '门口机视频', testid: 'h5-incoming-video' })
  video.muted = true
  video.srcObject = s.stream
  const el = h('div.call-overlay', { role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'call-from', testid: 'h5-incoming' },
    h('div.call-head',
      h('p.call-kind', '门口呼叫'),
      h('h2#call-from.call-from', { testid: 'h5-incoming-from' }, s.from),
      h('p.call-state', { testid: 'h5-incoming-state', role: 'status' }, '振铃中'),
      h('p.call-more', { testid: 'h5-incoming-more', hidden: true })),
    h('div.call-media', video),
    h('p.call-hint', { testid: 'h5-incoming-sound-hint', hidden: soundOn() }, '轻触屏幕任意处以启用铃声'),
    h('p.call-hint', { testid: 'h5-incoming-mic', hidden: true }, '未获得麦克风权限，只能听到对方的声音'),
    h('div.call-actions',
      h('button.call-btn.hangup', { type: 'button', testid: 'h5-incoming-hangup', 'aria-label': '挂断', onclick: () => overlay && hangup(overlay.s) }, '挂断'),
      h('button.call-btn.open', { type: 'button', testid: 'h5-incoming-open', 'aria-label': '开门', hidden: true, onclick: () => overlay && openDoor(overlay.s) }, '开门'),
      h('button.call-btn.accept', { type: 'button', testid: 'h5-incoming-accept', 'aria-label': '接听', onclick: () => overlay && accept(overlay.s) }, '接听')))
  overlay = { el, s, video, timer: setInterval(refreshOverlay, 1000), closing: false }
  document.body.append(el)
  document.body.classList.add('calling')
  el.querySelector('[data-testid="h5-incoming-accept"]').focus()
  refreshOverlay()
}

function refreshOverlay() {
  if (!overlay || overlay.closing) return
  const s = overlay.s
  const q = (id) => overlay.el.querySelector(`[data-testid="${id}"]`)
  const answered = s.state === 'answered'
  q('h5-incoming-state').textContent = answered ? '通话中 ' + mmss(Date.now() - s.answeredAt) : s.state === 'answering' ? '正在接听…' : '振铃中'
  q('h5-incoming-accept').hidden = answered
  q('h5-incoming-accept').disabled = s.state === 'answering'
  q('h5-incoming-open').hidden = !answered
  q('h5-incoming-open').disabled = s.opening
  q('h5-incoming-open').textContent = s.opening ? '开门中…' : '开门'
  q('h5-incoming-mic').hidden = !s.micRefused
  q('h5-incoming-sound-hint').hidden = soundOn() || answered
  const others = calls().filter((x) => x !== s).length
  q('h5-incoming-more').hidden = !others
  q('h5-incoming-more').textContent = others ? `另有 ${others} 个呼叫等待接听` : ''
  overlay.video.muted = !answered
  if (overlay.video.srcObject !== s.stream) overlay.video.srcObject = s.stream
}

function closeOverlay() {
  if (!overlay) return
  clearInterval(overlay.timer)
  overlay.el.remove()
  overlay = null
  document.body.classList.remove('calling')
}

onCallEvent((type, s, extra) => {
  if (type === 'ring') { showOverlay(s); return }
  if (type === 'sound') { refreshOverlay(); return }
  if (type === 'media' || type === 'accepted' || type === 'tick') refreshOverlay()
  if (type === 'opened' && s && s.kind === 'call') { toast('门已打开'); refreshOverlay() }
  if (type === 'error' && s && s.kind === 'call') { toast(extra, 'error'); refreshOverlay() }
  if (type === 'error' && !s) toast(extra, 'error')
  if (type !== 'ended' || !s || s.kind !== 'call') return
  if (!overlay || overlay.s !== s) { refreshOverlay(); return }
  // The next call waiting, if any, takes the screen; otherwise the reason
  // stays on it a moment.
  const next = calls()[0]
  if (next) {
    closeOverlay()
    toast(extra)
    showOverlay(next)
    return
  }
  overlay.closing = true
  clearInterval(overlay.timer)
  toast(extra)
  const state = overlay.el.querySelector('[data-testid="h5-incoming-state"]')
  state.textContent = extra
  overlay.el.classList.add('ended')
  overlay.el.querySelector('[data-testid="h5-incoming-sound-hint"]').hidden = true
  for (const b of overlay.el.querySelectorAll('button')) b.disabled = true
  const el = overlay.el
  setTimeout(() => { if (overlay && overlay.el === el) closeOverlay() }, 2500)
})
