// 通话记录: the door calls to my rooms, answered or missed, with the door
// station's snapshot (fetched with my token); opening the list marks missed
// calls seen.
import { api, h, loading, empty, failed, blobURL, when, duration, put } from '../core.js'

const PAGE = 20

export function render(box, ctx) {
  const urls = []
  const load = async () => {
    put(box, loading())
    let first
    try {
      first = await api('GET', '/calls?limit=' + PAGE)
    } catch (e) {
      put(box, failed(e, load))
      return
    }
    const items = first.items || []
    if (!items.length) {
      put(box, empty('暂无通话记录'))
      return
    }
    const list = h('ul.list', { testid: 'h5-calls' }, items.map((c) => call(c, urls)))
    const more = h('button.btn.block.plain', { type: 'button', testid: 'h5-calls-more', hidden: items.length < PAGE }, '加载更多')
    let last = items[items.length - 1].id
    more.addEventListener('click', async () => {
      more.disabled = true
      more.textContent = '加载中…'
      try {
        const next = (await api('GET', `/calls?before_id=${last}&limit=${PAGE}`)).items || []
        list.append(...next.map((c) => call(c, urls)))
        if (next.length) last = next[next.length - 1].id
        more.hidden = next.length < PAGE
      } catch (e) {
        more.after(failed(e))
      }
      more.disabled = false
      more.textContent = '加载更多'
    })
    put(box, 
      first.missed_unseen ? h('div.msg.info', { testid: 'h5-calls-missed' }, `有 ${first.missed_unseen} 个未接来电`) : null,
      list, more)
    if (first.missed_unseen) {
      api('POST', '/calls/seen').then(() => ctx.badges()).catch(() => {})
    }
  }
  load()
  return () => urls.forEach((u) => URL.revokeObjectURL(u))
}

function call(c, urls) {
  const missed = c.result !== '已接听'
  const shot = h('div')
  const li = h('li', { testid: 'h5-call' },
    h('div.row',
      !c.seen && missed ? h('span.dot.unread', { 'aria-label': '新的未接来电' }) : null,
      h('div.grow',
        h('div.title-line.ellipsis', c.device_name),
        h('div.muted.small.ellipsis', c.room_label),
        h('div.muted.small', when(c.started_at) + (missed ? '' : ' · ' + (c.answered_by || '') + ' · 通话 ' + duration(c.duration_seconds)))),
      h('span.tag' + (missed ? '.red' : '.green'), { testid: 'h5-call-result' }, c.result)),
    c.has_snapshot ? h('button.btn.small.plain', {
      type: 'button', testid: 'h5-call-snapshot',
      onclick: async (e) => {
        const b = e.currentTarget
        b.disabled = true
        b.textContent = '加载中…'
        try {
          const u = await blobURL('/calls/' + c.id + '/snapshot')
          urls.push(u)
          put(shot, h('img.snapshot', { src: u, alt: '门口机抓拍', testid: 'h5-call-snapshot-img' }))
          b.remove()
        } catch (err) {
          b.disabled = false
          b.textContent = '查看抓拍'
          put(shot, h('div.msg.error', err.message))
        }
      },
    }, '查看抓拍') : null,
    shot)
  return li
}
