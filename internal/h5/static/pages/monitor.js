// 监视: the door stations of my units and my communities' wall stations,
// each with 监视 → the live picture for 60 s, 延长, 对讲, 开门, 结束. The
// session goes over the page's call socket (call.js); leaving the screen
// ends it.
import { api, h, loading, empty, failed, toast, put } from '../core.js'
import { watch, extend, talk, openDoor, hangup, onCallEvent, isReady, whyNotReady } from '../call.js'

export function render(box) {
  let active = null // { s, el, video, timer }
  const viewer = h('section', { testid: 'h5-monitor-viewer', hidden: true, 'aria-label': '监视画面' })
  const list = h('div')
  const note = h('div.msg.info', { testid: 'h5-monitor-connecting', role: 'status' })
  const presence = () => {
    note.hidden = isReady()
    note.textContent = whyNotReady() || '正在连接服务器…'
  }
  presence()

  const load = async () => {
    put(list, loading())
    let items
    try {
      items = (await api('GET', '/webcall/stations')).items || []
    } catch (e) {
      put(list, failed(e, load))
      return
    }
    if (!items.length) {
      put(list, empty('暂无可监视的门口机'))
      return
    }
    put(list, h('ul.list', { testid: 'h5-stations' }, items.map(station)))
  }

  function station(d) {
    const btn = h('button.btn', { type: 'button', testid: 'h5-monitor-start', 'aria-label': '监视：' + d.label, disabled: !d.online }, '监视')
    btn.addEventListener('click', async () => {
      if (active) stop()
      btn.disabled = true
      btn.textContent = '连接中…'
      try {
        show(await watch(d.device_id))
      } catch (e) {
        toast(e.message, 'error')
      }
      btn.disabled = !d.online
      btn.textContent = '监视'
    })
    return h('li', { testid: 'h5-station', 'data-device': d.device_id },
      h('div.door',
        h('div.grow',
          h('div.title-line', d.label),
          h('div.muted.small', h('span.dot' + (d.online ? '.on' : '')), d.online ? '在线' : '离线', ' · ', d.kind === 'wall' ? '围墙机' : '门口机')),
        btn))
  }

  function show(s) {
    const video = h('video.monitor-video', { autoplay: true, playsinline: true, 'aria-label': s.from + ' 的监视画面', testid: 'h5-monitor-video' })
    video.srcObject = s.stream
    const left = h('span.tag.blue', { testid: 'h5-monitor-left', role: 'timer' })
    const talkBtn = h('button.btn.ghost', { type: 'button', testid: 'h5-monitor-talk', 'aria-pressed': 'false' }, '对讲')
    const openBtn = h('button.btn', { type: 'button', testid: 'h5-monitor-open' }, '开门')
    talkBtn.addEventListener('click', async () => {
      talkBtn.disabled = true
      const ok = await talk(s, !s.talking)
      if (!ok) toast('未获得麦克风权限，无法对讲', 'error')
      talkBtn.disabled = false
      refresh()
    })
    openBtn.addEventListener('click', () => openDoor(s))
    put(viewer, h('div.card.monitor',
      h('div.row', h('div.grow.title-line.ellipsis', { testid: 'h5-monitor-from' }, s.from), left),
      h('div.call-media.monitor-media', video),
      h('div.monitor-actions',
        h('button.btn.ghost', { type: 'button', testid: 'h5-monitor-extend', onclick: () => extend(s) }, '延长'),
        talkBtn, openBtn,
        h('button.btn.danger', { type: 'button', testid: 'h5-monitor-end', onclick: () => hangup(s) }, '结束'))))
    viewer.hidden = false
    active = { s, video, left, talkBtn, openBtn, timer: setInterval(refresh, 1000) }
    refresh()
    viewer.scrollIntoView({ block: 'nearest' })
  }

  function refresh() {
    if (!active) return
    const { s, left, talkBtn, openBtn } = active
    left.textContent = '剩余 ' + Math.max(0, Math.ceil((s.expiresAt - Date.now()) / 1000)) + ' 秒'
    talkBtn.textContent = s.talking ? '结束对讲' : '对讲'
    talkBtn.setAttribute('aria-pressed', String(s.talking))
    openBtn.disabled = s.opening
    openBtn.textContent = s.opening ? '开门中…' : '开门'
  }

  function stop() {
    if (!active) return
    clearInterval(active.timer)
    if (active.s.state !== 'ended') hangup(active.s)
    active = null
    viewer.hidden = true
    put(viewer)
  }

  const off = onCallEvent((type, s, extra) => {
    if (type === 'presence') presence()
    if (!active || s !== active.s) return
    if (type === 'tick' || type === 'media') refresh()
    if (type === 'opened') { toast('门已打开'); refresh() }
    if (type === 'error') { toast(extra, 'error'); refresh() }
    if (type === 'ended') {
      toast(extra === '已挂断' ? '监视已结束' : extra)
      stop()
    }
  })

  put(box, note, viewer, h('p.muted.small', '监视时可看到门口实时画面，60 秒后自动结束，可延长。'), list)
  load()
  return () => { off(); stop() }
}
