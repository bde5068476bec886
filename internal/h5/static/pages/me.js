// 我的房屋: my rooms with role, permissions and access_until; the other
// screens of 我的; the devices signed in with my phone.
import { api, h, loading, failed, errorBox, toast, confirmSheet, me, when, setToken, forgetMe, put } from '../core.js'

const PERMS = [['app_call', 'APP 呼叫'], ['call_forward', '呼叫转移'], ['face', '人脸开门']]

export function render(box, ctx) {
  const load = async () => {
    put(box, loading())
    let info
    try {
      info = await me(true)
    } catch (e) {
      put(box, failed(e, load))
      return
    }
    const rooms = info.rooms || []
    const owner = rooms.some((r) => r.is_owner)
    const sessions = h('div', loading('正在加载登录设备…'))
    const err = errorBox()
    put(box, 
      h('div.card', { testid: 'h5-me' },
        h('h2', info.name || '住户'),
        h('div.muted', info.phone)),
      h('h2.section-title', '我的房屋'),
      rooms.length ? h('ul.list', { testid: 'h5-rooms' }, rooms.map(room)) : h('div.card.muted', '暂无登记的房间，请联系物业。'),
      h('ul.list', { testid: 'h5-menu' },
        owner ? h('li', h('a.item', { href: '#/family', testid: 'h5-menu-family' }, '家人')) : null,
        h('li', h('a.item', { href: '#/face', testid: 'h5-menu-face' }, '人脸')),
        h('li', h('a.item', { href: '#/calls', testid: 'h5-menu-calls' }, '通话记录')),
        h('li', h('a.item', { href: '#/dnd', testid: 'h5-menu-dnd' }, '免打扰'))),
      h('h2.section-title', '登录设备'),
      sessions, err,
      h('div.actions',
        h('button.btn.ghost', { type: 'button', testid: 'h5-signout', onclick: () => signOut(err) }, '退出登录'),
        h('button.btn.ghost.danger', { type: 'button', testid: 'h5-signout-all', onclick: () => signOutAll(err) }, '退出所有设备')))
    loadSessions(sessions, err)
    ctx.badges()
  }
  load()
}

function room(r) {
  return h('li', { testid: 'h5-room' },
    h('div.title-line', r.label),
    h('div.tags',
      h('span.tag' + (r.is_owner ? '.blue' : ''), { testid: 'h5-room-role' }, r.role),
      PERMS.map(([k, label]) => h('span.tag' + (r.permissions && r.permissions[k] ? '.green' : ''),
        (r.permissions && r.permissions[k] ? '✓ ' : '✗ ') + label))),
    h('div.muted.small', { testid: 'h5-room-until' }, r.access_until ? '有效期至 ' + r.access_until : '长期有效'))
}

async function loadSessions(box, err) {
  let items
  try {
    items = (await api('GET', '/sessions')).items || []
  } catch (e) {
    put(box, failed(e, () => { put(box, loading()); loadSessions(box, err) }))
    return
  }
  put(box, h('ul.list', { testid: 'h5-sessions' }, items.map((s) => h('li', { testid: 'h5-session' },
    h('div.row',
      h('div.grow',
        h('div.title-line.ellipsis', s.device_name || '未命名设备'),
        h('div.muted.small', '登录于 ' + when(s.created_at))),
      s.current ? h('span.tag.green', '本机') : null,
      h('button.btn.small.ghost.danger', {
        type: 'button', testid: 'h5-session-remove',
        onclick: async () => {
          if (!(await confirmSheet(`让「${s.device_name || '该设备'}」退出登录？`, '退出此设备'))) return
          try {
            if (s.current) return await signOut(err, true)
            await api('DELETE', '/sessions/' + s.id)
            toast('已退出该设备')
            loadSessions(box, err)
          } catch (e) { err.show(e) }
        },
      }, '退出此设备'))))))
}

function toLogin() {
  setToken('')
  forgetMe()
  location.hash = '#/login'
}

async function signOut(err, confirmed = false) {
  if (!confirmed && !(await confirmSheet('退出登录？', '退出', false))) return
  try {
    await api('DELETE', '/session')
  } catch (e) {
    if (e.status !== 401) { err.show(e); return }
  }
  toLogin()
}

async function signOutAll(err) {
  if (!(await confirmSheet('退出所有设备？包括本机在内，所有用这个手机号登录的 APP 和网页都要重新登录。', '全部退出'))) return
  try {
    await api('DELETE', '/sessions')
  } catch (e) {
    if (e.status !== 401) { err.show(e); return }
  }
  toLogin()
}
