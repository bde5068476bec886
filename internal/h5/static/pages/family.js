// 家人: for each room where I am 业主, its members (remove), the invitations
// (withdraw while pending) and a form to invite someone.
import { api, h, loading, empty, failed, errorBox, toast, confirmSheet, me, when, field, put } from '../core.js'

const INVITE_TAG = { 已加入: 'green', 待物业审核: 'orange', 已拒绝: 'red', 已撤回: '' }

export function render(box) {
  const load = async () => {
    put(box, loading())
    let rooms
    try {
      rooms = ((await me(true)).rooms || []).filter((r) => r.is_owner)
    } catch (e) {
      put(box, failed(e, load))
      return
    }
    if (!rooms.length) {
      put(box, empty('只有房间的业主可以管理家人。如需添加，请联系业主或物业。'))
      return
    }
    put(box, ...rooms.map((r) => {
      const part = h('section', { testid: 'h5-family-room', 'data-room': r.room_id })
      roomPart(part, r)
      return part
    }))
  }
  load()
}

async function roomPart(part, r) {
  put(part, h('h2.section-title', r.label), loading())
  let data
  try {
    data = await api('GET', `/rooms/${r.room_id}/members`)
  } catch (e) {
    put(part, h('h2.section-title', r.label), failed(e, () => roomPart(part, r)))
    return
  }
  const err = errorBox()
  const reload = () => roomPart(part, r)
  const members = data.items || []
  const pending = (data.invitations || [])
  put(part, 
    h('h2.section-title', r.label),
    h('ul.list', { testid: 'h5-members' }, members.map((m) => h('li', { testid: 'h5-member' },
      h('div.row',
        h('div.grow',
          h('div.title-line.ellipsis', m.name, m.is_me ? h('span.muted.small', '（我）') : null),
          h('div.muted.small', m.phone_masked + ' · ' + m.origin + (m.access_until ? ' · 有效期至 ' + m.access_until : ''))),
        h('span.tag' + (m.role === '业主' ? '.blue' : ''), m.role),
        !m.is_me && m.role !== '业主' ? h('button.btn.small.ghost.danger', {
          type: 'button', testid: 'h5-member-remove',
          onclick: async () => {
            if (!(await confirmSheet(`将 ${m.name} 移出 ${r.label}？移出后其门禁、人脸和 APP 权限立即失效。`, '移除'))) return
            try {
              await api('DELETE', `/rooms/${r.room_id}/members/${m.resident_id}`)
              toast('已移除')
              reload()
            } catch (e) { err.show(e) }
          },
        }, '移除') : null)))),
    pending.length ? h('h2.section-title', '邀请记录') : null,
    pending.length ? h('ul.list', { testid: 'h5-invitations' }, pending.map((iv) => h('li', { testid: 'h5-invitation' },
      h('div.row',
        h('div.grow',
          h('div.title-line.ellipsis', iv.name + ' · ' + iv.role),
          h('div.muted.small', iv.phone_masked + ' · ' + when(iv.created_at) + (iv.access_until ? ' · 至 ' + iv.access_until : ''))),
        h('span.tag' + (INVITE_TAG[iv.status] ? '.' + INVITE_TAG[iv.status] : ''), iv.status),
        iv.status === '待物业审核' ? h('button.btn.small.ghost', {
          type: 'button', testid: 'h5-invitation-withdraw',
          onclick: async () => {
            if (!(await confirmSheet(`撤回对 ${iv.name} 的邀请？`, '撤回'))) return
            try {
              await api('DELETE', `/rooms/${r.room_id}/invitations/${iv.id}`)
              toast('已撤回')
              reload()
            } catch (e) { err.show(e) }
          },
        }, '撤回') : null)))) : null,
    err,
    inviteForm(r, reload))
}

function inviteForm(r, reload) {
  const roles = r.invitable_roles || []
  const err = errorBox()
  const phone = h('input', { type: 'tel', inputmode: 'numeric', maxlength: '11', placeholder: '家人的手机号', testid: 'h5-invite-phone' })
  const name = h('input', { maxlength: '32', placeholder: '姓名', testid: 'h5-invite-name' })
  const role = h('select', { testid: 'h5-invite-role' }, roles.map((x) => h('option', { value: x }, x)))
  const until = h('input', { type: 'date', testid: 'h5-invite-until' })
  const submit = h('button.btn.block', { type: 'submit', testid: 'h5-invite-submit' }, '发送邀请')
  const form = h('form.card', { novalidate: true, hidden: true, testid: 'h5-invite-form' },
    h('h3', '邀请家人'),
    field('手机号', phone), field('姓名', name), field('身份', role),
    field('有效期至（选填）', until, '不填为长期有效；租户建议填写租期结束日'),
    h('div.field-gap'), err, submit,
    h('p.hint', '加入后对方即可用该手机号登录；小区要求物业审核时，审核通过后生效。'))
  const open = h('button.btn.block.ghost', { type: 'button', testid: 'h5-invite-open' }, '＋ 邀请家人')
  open.addEventListener('click', () => { form.hidden = false; open.hidden = true; phone.focus() })
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    err.show(null)
    const p = phone.value.replace(/\D/g, '')
    if (!/^1[3-9]\d{9}$/.test(p)) { err.show(new Error('请输入 11 位手机号')); return }
    if (!name.value.trim()) { err.show(new Error('请填写姓名')); return }
    const body = { phone: p, name: name.value.trim(), role: role.value }
    if (until.value) body.access_until = until.value
    submit.disabled = true
    try {
      const inv = await api('POST', `/rooms/${r.room_id}/invitations`, body)
      toast(inv && inv.status === '待物业审核' ? '邀请已发送，等待物业审核' : `${body.name} 已加入本房间`)
      reload()
    } catch (e2) {
      err.show(e2)
      submit.disabled = false
    }
  })
  if (!roles.length) return h('p.hint', '本小区没有可邀请的身份，请联系物业。')
  return h('div', open, form)
}
