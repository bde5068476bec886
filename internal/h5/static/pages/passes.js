// 访客通行: my visitor passes, a new pass (visitor or 快递码), and one pass
// with its PIN, QR code, share link and 撤销.
import { api, h, loading, empty, failed, errorBox, toast, confirmSheet, me, when, field, put } from '../core.js'

const STATUS_TAG = { 有效: 'green', 未开始: 'blue', 已用完: '', 已撤销: 'red', 已过期: '' }
const DAY = 24 * 3600 * 1000

export function render(box, ctx) {
  if (ctx.view === 'create') return create(box)
  if (ctx.view === 'detail') return detail(box, ctx.match[1])
  return list(box)
}

function statusTag(s) {
  return h('span.tag' + (STATUS_TAG[s] ? '.' + STATUS_TAG[s] : ''), { testid: 'h5-pass-status' }, s)
}
function uses(p) {
  return p.max_uses ? `已用 ${p.uses}/${p.max_uses} 次` : `已用 ${p.uses} 次 · 不限次数`
}

function list(box) {
  const load = async () => {
    put(box, loading())
    let items
    try {
      items = (await api('GET', '/passes')).items || []
    } catch (e) {
      put(box, failed(e, load))
      return
    }
    const add = h('a.btn.block', { href: '#/passes/new', testid: 'h5-pass-new' }, '＋ 新建访客通行证')
    if (!items.length) {
      put(box, add, empty('还没有通行证。为来访的亲友或快递员生成一个吧。'))
      return
    }
    put(box, add, h('ul.list', { testid: 'h5-passes' }, items.map((p) => h('li', { testid: 'h5-pass' },
      h('a.item', { href: '#/passes/' + p.id },
        h('div.grow',
          h('div.row', h('span.title-line.ellipsis', p.visitor_name), p.kind === 'delivery' ? h('span.tag.orange', '快递') : null, statusTag(p.status)),
          h('div.muted.small', when(p.valid_from) + ' 至 ' + when(p.valid_to)),
          h('div.muted.small.ellipsis', p.room_label + ' · ' + uses(p))))))))
  }
  load()
}

// local formats a Date for <input type=datetime-local> in the phone's time.
function local(d) {
  const p = (n) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`
}

function choices(options, value, testid) {
  const wrap = h('div.choices', { role: 'group', testid })
  wrap.value = value
  for (const [v, label] of options) {
    const b = h('button', { type: 'button', 'aria-pressed': String(v === value), 'data-value': String(v) }, label)
    b.addEventListener('click', () => {
      wrap.value = v
      for (const x of wrap.children) x.setAttribute('aria-pressed', String(x === b))
      wrap.dispatchEvent(new Event('change'))
    })
    wrap.append(b)
  }
  return wrap
}

function create(box) {
  const load = async () => {
    put(box, loading())
    let rooms
    try {
      rooms = (await me()).rooms || []
    } catch (e) {
      put(box, failed(e, load))
      return
    }
    if (!rooms.length) {
      put(box, empty('您还没有登记的房间，无法生成通行证。'))
      return
    }
    const err = errorBox()
    const room = h('select', { testid: 'h5-pass-room' }, rooms.map((r) => h('option', { value: String(r.room_id) }, r.label)))
    const kind = choices([['visitor', '访客'], ['delivery', '快递码']], 'visitor', 'h5-pass-kind')
    const name = h('input', { maxlength: '32', placeholder: '如：王阿姨', testid: 'h5-pass-name' })
    const note = h('textarea', { maxlength: '100', placeholder: '选填，如：来家里修空调', testid: 'h5-pass-note' })
    const now = new Date()
    const from = h('input', { type: 'datetime-local', value: local(now), testid: 'h5-pass-from' })
    const to = h('input', { type: 'datetime-local', value: local(new Date(now.getTime() + DAY)), testid: 'h5-pass-to' })
    const times = choices([[1, '1 次'], [2, '2 次'], [5, '5 次'], [0, '不限']], 1, 'h5-pass-uses')
    const door = h('select', { testid: 'h5-pass-door' }, h('option', { value: '' }, '小区内任意门'))
    const visitorOnly = h('div', field('有效时间 从', from), h('div.field-gap'), field('到（最长 7 天）', to), h('div.field-gap'),
      h('span.label', '可用次数'), times)
    const deliveryOnly = h('div', { hidden: true }, field('可开的门', door, '快递码 24 小时内有效，只能用 1 次'))
    let doorsLoaded = false
    let allDoors = []
    // The doors a 快递码 may name: those of the chosen room's community.
    const fillDoors = () => {
      const r = rooms.find((x) => String(x.room_id) === room.value) || rooms[0]
      put(door, h('option', { value: '' }, '小区内任意门'),
        allDoors.filter((d) => d.community_id === r.community_id).map((d) => h('option', { value: String(d.id) }, d.name)))
    }
    room.addEventListener('change', fillDoors)
    kind.addEventListener('change', async () => {
      const delivery = kind.value === 'delivery'
      visitorOnly.hidden = delivery
      deliveryOnly.hidden = !delivery
      if (delivery && !name.value) name.value = '快递员'
      if (!delivery && name.value === '快递员') name.value = ''
      if (delivery && !doorsLoaded) {
        doorsLoaded = true
        try {
          allDoors = (await api('GET', '/doors')).items || []
          fillDoors()
        } catch { /* the pass works for every door then */ }
      }
    })
    const submit = h('button.btn.block', { type: 'submit', testid: 'h5-pass-submit' }, '生成通行证')
    const form = h('form.card', { novalidate: true, testid: 'h5-pass-form' },
      rooms.length > 1 ? field('房间', room) : h('div.muted.small', rooms[0].label),
      h('div.field-gap'), h('span.label', '类型'), kind, h('div.field-gap'),
      field('访客姓名', name), h('div.field-gap'), field('备注', note), h('div.field-gap'),
      visitorOnly, deliveryOnly, h('div.field-gap'), err, submit)
    form.addEventListener('submit', async (e) => {
      e.preventDefault()
      err.show(null)
      const delivery = kind.value === 'delivery'
      const body = { room_id: Number(room.value), visitor_name: name.value.trim(), kind: delivery ? 'delivery' : 'visitor' }
      if (note.value.trim()) body.note = note.value.trim()
      if (!body.visitor_name) { err.show(new Error('请填写访客姓名')); name.focus(); return }
      if (delivery) {
        if (door.value) body.door_id = Number(door.value)
      } else {
        const f = new Date(from.value)
        const t = new Date(to.value)
        if (isNaN(f) || isNaN(t)) { err.show(new Error('请选择有效时间')); return }
        if (t <= f) { err.show(new Error('结束时间要晚于开始时间')); return }
        if (t <= new Date()) { err.show(new Error('结束时间已过，请重新选择')); return }
        if (t.getTime() > Date.now() + 7 * DAY + 60000) { err.show(new Error('通行证最长 7 天，请缩短有效时间')); return }
        body.valid_from = f.toISOString()
        body.valid_to = t.toISOString()
        body.max_uses = times.value
      }
      submit.disabled = true
      submit.textContent = '生成中…'
      try {
        const p = await api('POST', '/passes', body)
        toast('通行证已生成')
        location.hash = '#/passes/' + p.id
      } catch (e2) {
        err.show(e2)
        submit.disabled = false
        submit.textContent = '生成通行证'
      }
    })
    put(box, form)
  }
  load()
}

function shareURL(p) {
  return new URL(p.share_url || '/h5/pass/' + p.share_token, location.origin).href
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text)
    return true
  } catch {
    // Older browsers and plain http: a selected text field and execCommand.
    const ta = h('textarea', { readonly: true, class: 'offscreen' })
    ta.value = text
    document.body.append(ta)
    ta.select()
    let ok = false
    try { ok = document.execCommand('copy') } catch { /* unsupported */ }
    ta.remove()
    return ok
  }
}

function detail(box, id) {
  const load = async () => {
    put(box, loading())
    let p
    try {
      p = await api('GET', '/passes/' + id)
    } catch (e) {
      put(box, failed(e, e.status === 404 ? null : load))
      return
    }
    const live = p.status === '有效' || p.status === '未开始'
    const url = shareURL(p)
    const err = errorBox()
    const linkBox = h('input', { readonly: true, value: url, testid: 'h5-pass-link', 'aria-label': '分享链接' })
    const actions = h('div.actions')
    if (live) {
      if (navigator.share) {
        actions.append(h('button.btn', {
          type: 'button', testid: 'h5-pass-share',
          onclick: () => navigator.share({ title: '访客通行证', text: `${p.visitor_name}，您的通行码 ${p.pin}`, url }).catch(() => {}),
        }, '分享'))
      }
      actions.append(h('button.btn' + (navigator.share ? '.ghost' : ''), {
        type: 'button', testid: 'h5-pass-copy',
        onclick: async () => {
          if (await copy(url)) toast('链接已复制，发给访客即可')
          else { linkBox.select(); toast('请长按链接手动复制', 'error') }
        },
      }, '复制链接'))
      actions.append(h('button.btn.ghost.danger', {
        type: 'button', testid: 'h5-pass-revoke',
        onclick: async () => {
          if (!(await confirmSheet(`撤销 ${p.visitor_name} 的通行证？撤销后二维码和通行码立即失效。`, '撤销'))) return
          try {
            await api('DELETE', '/passes/' + p.id)
            toast('已撤销')
            load()
          } catch (e) { err.show(e) }
        },
      }, '撤销'))
    }
    put(box, 
      h('div.card.center', { testid: 'h5-pass-detail' },
        h('div.row', h('h2.grow.ellipsis', p.visitor_name), statusTag(p.status)),
        live ? h('img.qr', { src: '/app/v1/pass-shares/' + encodeURIComponent(p.share_token) + '/qr.png', alt: '通行二维码', width: '220', height: '220', testid: 'h5-pass-qr' }) : null,
        live ? h('div', h('div.muted.small', '通行码'), h('div.pin', { testid: 'h5-pass-pin' }, p.pin)) : h('p.muted', '该通行证已不能使用')),
      h('div.card', h('dl.kv',
        h('dt', '房间'), h('dd', p.room_label),
        h('dt', '类型'), h('dd', p.kind === 'delivery' ? '快递码' : '访客'),
        h('dt', '有效时间'), h('dd', when(p.valid_from) + ' 至 ' + when(p.valid_to)),
        h('dt', '次数'), h('dd', uses(p)),
        p.note ? [h('dt', '备注'), h('dd', p.note)] : null)),
      live ? h('div.card', h('span.label', '分享给访客'), linkBox, h('div.field-gap'), actions, err) : null)
  }
  load()
}
