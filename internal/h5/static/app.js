// The residents' H5 shell: hash routes (#/doors, #/passes/12, …) so that one
// page at /h5/ serves every screen, reloads and the back button work, and the
// server needs no list of client routes. The sign-in screen lives here so the
// first page needs nothing else; the other screens are modules loaded on
// first use.
import { api, h, token, setToken, whenExpired, errorBox, toast, forgetMe, put } from './core.js'
import { startCalls, stopCalls } from './call.js'
import './callscreen.js'

const routes = [
  { re: /^\/login$/, title: '登录', login: true },
  { re: /^\/doors$/, title: '开门', tab: 'doors', mod: './pages/doors.js' },
  { re: /^\/monitor$/, title: '监视', tab: 'doors', mod: './pages/monitor.js', back: '#/doors' },
  { re: /^\/passes$/, title: '访客通行', tab: 'passes', mod: './pages/passes.js', view: 'list' },
  { re: /^\/passes\/new$/, title: '新建通行证', tab: 'passes', mod: './pages/passes.js', view: 'create', back: '#/passes' },
  { re: /^\/passes\/(\d+)$/, title: '通行证', tab: 'passes', mod: './pages/passes.js', view: 'detail', back: '#/passes' },
  { re: /^\/notices$/, title: '通知', tab: 'notices', mod: './pages/notices.js' },
  { re: /^\/me$/, title: '我的房屋', tab: 'me', mod: './pages/me.js' },
  { re: /^\/family$/, title: '家人', tab: 'me', mod: './pages/family.js', back: '#/me' },
  { re: /^\/face$/, title: '人脸', tab: 'me', mod: './pages/face.js', back: '#/me' },
  { re: /^\/calls$/, title: '通话记录', tab: 'me', mod: './pages/calls.js', back: '#/me' },
  { re: /^\/dnd$/, title: '免打扰', tab: 'me', mod: './pages/dnd.js', back: '#/me' },
]
const HOME = '#/doors'

const $ = (id) => document.getElementById(id)
let expiredNotice = false
let current = null // the cleanup of the screen on show
let seq = 0

whenExpired(() => {
  stopCalls()
  expiredNotice = true
  forgetMe()
  const here = location.hash
  if (!here.startsWith('#/login')) location.hash = '#/login?next=' + encodeURIComponent(here)
})

function parse() {
  const raw = location.hash.replace(/^#/, '') || ''
  const [path, query] = raw.split('?')
  return { path: path || '/', params: new URLSearchParams(query || '') }
}

async function show() {
  const { path, params } = parse()
  const route = routes.find((r) => r.re.test(path))
  if (!route) { location.replace(token() ? HOME : '#/login'); return }
  if (!route.login && !token()) { location.replace('#/login?next=' + encodeURIComponent('#' + path)); return }
  if (route.login && token()) { location.replace(HOME); return }
  // While signed in, every screen keeps the call socket (call.js).
  if (route.login) stopCalls()
  else startCalls()
  const my = ++seq
  if (current) { try { current() } catch { /* ignore */ } current = null }
  document.title = route.title + ' · 邻里'
  $('title').textContent = route.title
  $('back').hidden = !route.back
  $('back').dataset.to = route.back || ''
  $('tabs').hidden = !!route.login
  document.body.classList.toggle('with-tabs', !route.login)
  for (const a of document.querySelectorAll('#tabs a')) {
    const on = a.dataset.tab === route.tab
    a.classList.toggle('active', on)
    if (on) a.setAttribute('aria-current', 'page')
    else a.removeAttribute('aria-current')
  }
  const view = $('view')
  const box = h('div.page')
  if (route.login) {
    current = signIn(box, params)
    put(view, box)
    return
  }
  put(view, h('div.state.loading', { role: 'status' }, h('span.spinner'), '加载中…'))
  let mod
  try {
    mod = await import(route.mod)
  } catch {
    if (my !== seq) return
    put(view, h('div.state.error', { role: 'alert' }, h('p', '页面加载失败，请检查网络后重试'),
      h('button.btn.ghost', { type: 'button', onclick: () => show() }, '重试')))
    return
  }
  if (my !== seq) return
  put(view, box)
  window.scrollTo(0, 0)
  current = mod.render(box, { view: route.view, match: path.match(route.re), params, badges }) || null
}

// badges shows the unread notices and unseen missed calls in the tab bar.
async function badges() {
  if (!token()) return
  const set = (id, n) => { const b = $(id); b.textContent = n > 99 ? '99+' : String(n); b.hidden = !n }
  api('GET', '/notices').then((r) => set('badge-notices', (r.items || []).filter((n) => !n.read).length)).catch(() => {})
  api('GET', '/calls?limit=1').then((r) => set('badge-me', r.missed_unseen || 0)).catch(() => {})
}

// ---- 登录 ----

let countdownUntil = 0 // survives leaving and coming back to the screen

function deviceName() {
  const ua = navigator.userAgent || ''
  let name = '网页浏览器'
  const android = ua.match(/Android [\d.]+; ([^;)]+?)(?: Build|\))/)
  if (/MicroMessenger/i.test(ua)) name = '微信'
  if (/iPhone/.test(ua)) name += ' · iPhone'
  else if (/iPad/.test(ua)) name += ' · iPad'
  else if (android) name += ' · ' + android[1].trim()
  else if (/Android/.test(ua)) name += ' · Android'
  else if (/Windows/.test(ua)) name += ' · Windows'
  else if (/Mac OS X/.test(ua)) name += ' · Mac'
  return ('H5 ' + name).slice(0, 64)
}

const PHONE = /^1[3-9]\d{9}$/

function signIn(box, params) {
  const err = errorBox()
  const phone = h('input', { type: 'tel', inputmode: 'numeric', autocomplete: 'tel', maxlength: '11', placeholder: '请输入手机号', testid: 'h5-login-phone', id: 'login-phone' })
  const code = h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '6', placeholder: '6 位验证码', testid: 'h5-login-code', id: 'login-code' })
  const send = h('button.btn.ghost.send', { type: 'button', testid: 'h5-login-send' }, '获取验证码')
  const submit = h('button.btn.block', { type: 'submit', testid: 'h5-login-submit' }, '登录')
  let timer = null
  try { phone.value = localStorage.getItem('linli.h5.phone') || '' } catch { /* private mode */ }

  const tick = () => {
    const left = Math.ceil((countdownUntil - Date.now()) / 1000)
    if (left > 0) {
      send.disabled = true
      send.textContent = left + ' 秒后重新获取'
    } else {
      send.disabled = false
      send.textContent = '获取验证码'
      clearInterval(timer)
      timer = null
    }
  }
  const startCountdown = () => { tick(); if (!timer) timer = setInterval(tick, 1000) }
  if (countdownUntil > Date.now()) startCountdown()
  const phoneValue = () => phone.value.replace(/\D/g, '')

  send.addEventListener('click', async () => {
    err.show(null)
    if (!PHONE.test(phoneValue())) { err.show(new Error('请输入 11 位手机号')); phone.focus(); return }
    send.disabled = true
    send.textContent = '发送中…'
    try {
      await api('POST', '/sms-codes', { phone: phoneValue() }, { auth: false })
      countdownUntil = Date.now() + 60000
      startCountdown()
      toast('验证码已发送')
      code.focus()
    } catch (e) {
      err.show(e)
      send.disabled = false
      send.textContent = '获取验证码'
    }
  })

  const form = h('form.card.login', { novalidate: true, testid: 'h5-login-form' },
    h('label.field', { for: 'login-phone' }, h('span.label', '手机号'), phone),
    h('label.field', { for: 'login-code' }, h('span.label', '验证码')),
    h('div.code-row', code, send),
    err, submit,
    h('p.hint', '请使用物业登记的手机号登录。验证码 5 分钟内有效。'))
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    err.show(null)
    if (!PHONE.test(phoneValue())) { err.show(new Error('请输入 11 位手机号')); return }
    if (!/^\d{6}$/.test(code.value.trim())) { err.show(new Error('请输入 6 位验证码')); return }
    submit.disabled = true
    submit.textContent = '登录中…'
    try {
      const body = { phone: phoneValue(), code: code.value.trim(), device_name: deviceName() }
      let s
      try {
        s = await api('POST', '/session', body, { auth: false })
      } catch (e1) {
        // A server from before device names: sign in without one.
        const named = e1.status === 422 && e1.problem && (e1.problem.errors || []).some((x) => x && x.location === 'body.device_name')
        if (!named) throw e1
        delete body.device_name
        s = await api('POST', '/session', body, { auth: false })
      }
      setToken(s.token)
      try { localStorage.setItem('linli.h5.phone', phoneValue()) } catch { /* private mode */ }
      expiredNotice = false
      forgetMe()
      const next = params.get('next')
      location.replace(next && next.startsWith('#/') && !next.startsWith('#/login') ? next : HOME)
      badges()
    } catch (e2) {
      err.show(e2)
      submit.disabled = false
      submit.textContent = '登录'
    }
  })
  put(box,
    h('div.brand', h('div.logo', '邻'), h('h2', '邻里社区'), h('p', '开门、访客通行、家人和通知')),
    expiredNotice ? h('div.msg.info', { testid: 'h5-login-expired', role: 'status' }, '登录已失效，请重新登录') : null,
    form)
  return () => { if (timer) clearInterval(timer) }
}

$('back').addEventListener('click', () => { location.hash = $('back').dataset.to || HOME })
window.addEventListener('hashchange', show)
show()
badges()
