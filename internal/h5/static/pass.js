// 访客通行证 (public): what a visitor opens from the shared link — who it is
// for, where, when, the PIN to type at the door and the QR code to show.
import { h, when, problemText, put } from './core.js'

const STATUS_TAG = { 有效: 'green', 未开始: 'blue', 已用完: '', 已撤销: 'red', 已过期: '' }
const STATUS_TEXT = {
  已用完: '该通行证的次数已用完，请联系邀请您的住户。',
  已撤销: '该通行证已被住户撤销。',
  已过期: '该通行证已过期，请联系邀请您的住户重新生成。',
}

const token = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() || '')
const base = '/app/v1/pass-shares/' + encodeURIComponent(token)
const view = document.getElementById('view')
const community = document.getElementById('community')

async function load() {
  let p
  try {
    const res = await fetch(base, { cache: 'no-store' })
    if (!res.ok) {
      const body = await res.json().catch(() => null)
      throw new Error(res.status === 404 ? '通行证不存在，请确认链接是否完整' : problemText(body, res.status))
    }
    p = await res.json()
  } catch (e) {
    community.textContent = ''
    const msg = e instanceof TypeError ? '网络连接失败，请检查网络后再试' : e.message
    put(view, h('div.state.error', { role: 'alert', testid: 'h5-share-error' }, h('p', msg),
      h('button.btn.ghost', { type: 'button', onclick: () => { put(view, h('div.state.loading', h('span.spinner'), '加载中…')); load() } }, '重试')))
    return
  }
  community.textContent = p.community_name
  const live = p.status === '有效' || p.status === '未开始'
  put(view, 
    h('div.card.center', { testid: 'h5-share-card' },
      h('div.row', h('h2.grow.ellipsis', { testid: 'h5-share-visitor' }, p.visitor_name),
        h('span.tag' + (STATUS_TAG[p.status] ? '.' + STATUS_TAG[p.status] : ''), { testid: 'h5-share-status' }, p.status)),
      live ? h('img.qr', { src: base + '/qr.png', alt: '通行二维码', width: '220', height: '220', testid: 'h5-share-qr' }) : null,
      live && p.pin ? h('div', h('div.muted.small', '通行码：在门口机上输入'), h('div.pin', { testid: 'h5-share-pin' }, p.pin)) : null,
      live ? null : h('p.msg.info', STATUS_TEXT[p.status] || '该通行证当前不能使用'),
      p.status === '未开始' ? h('p.muted.small', '通行证尚未到生效时间') : null),
    h('div.card', h('dl.kv',
      h('dt', '小区'), h('dd', p.community_name),
      h('dt', '到访'), h('dd', { testid: 'h5-share-room' }, p.room_label),
      h('dt', '有效时间'), h('dd', { testid: 'h5-share-window' }, when(p.valid_from) + ' 至 ' + when(p.valid_to)),
      h('dt', '次数'), h('dd', p.max_uses ? `已用 ${p.uses}/${p.max_uses} 次` : `已用 ${p.uses} 次 · 不限次数`))),
    live ? h('p.hint.center', '到达后在门口机上扫描二维码，或输入 6 位通行码开门。') : null)
}
load()
