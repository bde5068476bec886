// 通知: the notices of my communities and rooms; opening one marks it read.
import { api, h, loading, empty, failed, when, put } from '../core.js'

export function render(box, ctx) {
  const load = async () => {
    put(box, loading())
    let items
    try {
      items = (await api('GET', '/notices')).items || []
    } catch (e) {
      put(box, failed(e, load))
      return
    }
    if (!items.length) {
      put(box, empty('暂无通知'))
      return
    }
    put(box, h('ul.list', { testid: 'h5-notices' }, items.map((n) => notice(n, ctx))))
  }
  load()
}

function notice(n, ctx) {
  const body = h('div.notice-body', { hidden: true, testid: 'h5-notice-content' }, n.content)
  const dot = h('span.dot.unread', { hidden: n.read, 'aria-label': '未读' })
  const head = h('button.notice-head', { type: 'button', 'aria-expanded': 'false', testid: 'h5-notice-open' },
    h('div.row', dot, h('span.grow.title-line.ellipsis', n.title), h('span.tag' + (n.scope === 'rooms' ? '.blue' : ''), n.scope === 'rooms' ? '房间通知' : '小区通知')),
    h('div.muted.small', n.community + ' · ' + when(n.sent_at)))
  const li = h('li', { testid: 'h5-notice', class: n.read ? 'read' : 'unread' }, head, body)
  head.addEventListener('click', async () => {
    const open = body.hidden
    body.hidden = !open
    head.setAttribute('aria-expanded', String(open))
    if (open && !n.read) {
      try {
        await api('POST', '/notices/' + n.id + '/read')
        n.read = true
        dot.hidden = true
        li.className = 'read'
        ctx.badges()
      } catch { /* stays unread; tapping again retries */ }
    }
  })
  return li
}
