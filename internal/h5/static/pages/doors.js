// 开门: the doors of my units and communities, one tap each, with the result,
// and the way to 监视.
import { api, h, loading, empty, failed, put } from '../core.js'

export function render(box) {
  const load = async () => {
    put(box, loading())
    let doors
    try {
      doors = (await api('GET', '/doors')).items || []
    } catch (e) {
      put(box, failed(e, load))
      return
    }
    if (!doors.length) {
      put(box, empty('暂无可开的门。请联系物业确认您的住户信息和设备。'), monitorLink())
      return
    }
    const byCommunity = new Map()
    for (const d of doors) {
      if (!byCommunity.has(d.community_name)) byCommunity.set(d.community_name, [])
      byCommunity.get(d.community_name).push(d)
    }
    const parts = []
    for (const [name, list] of byCommunity) {
      if (byCommunity.size > 1) parts.push(h('h2.section-title', name))
      parts.push(h('ul.list', { testid: 'h5-doors' }, list.map(door)))
    }
    put(box, ...parts, monitorLink())
  }
  load()
}

// monitorLink leads to 监视 (the live view of the door stations).
function monitorLink() {
  return h('ul.list', h('li', h('a.item', { href: '#/monitor', testid: 'h5-doors-monitor' },
    h('div.grow', h('div.title-line', '监视门口'), h('div.muted.small', '查看门口机实时画面')))))
}

function door(d) {
  const result = h('div.door-result', { hidden: true, testid: 'h5-door-result', role: 'status' })
  const btn = h('button.btn', { type: 'button', testid: 'h5-door-open', 'aria-label': '开门：' + d.name }, '开门')
  let reset
  btn.addEventListener('click', async () => {
    clearTimeout(reset)
    btn.disabled = true
    btn.className = 'btn'
    btn.textContent = '开门中…'
    result.hidden = true
    try {
      await api('POST', '/doors/' + d.id + '/open', {}, { timeout: 20000 })
      btn.className = 'btn ok'
      btn.textContent = '已开门'
      result.className = 'door-result msg ok'
      result.textContent = '门已打开，请尽快通过'
      result.hidden = false
    } catch (e) {
      btn.className = 'btn'
      btn.textContent = '重试'
      result.className = 'door-result msg error'
      result.textContent = e.message
      result.hidden = false
    }
    btn.disabled = false
    reset = setTimeout(() => {
      btn.className = 'btn'
      btn.textContent = '开门'
      if (result.classList.contains('ok')) result.hidden = true
    }, 5000)
  })
  return h('li', { testid: 'h5-door', 'data-door': d.id },
    h('div.door',
      h('div.grow',
        h('div.title-line', d.name),
        h('div.muted.small', h('span.dot' + (d.online ? '.on' : '')), d.online ? '在线' : '离线', ' · ', d.kind)),
      btn),
    result)
}
