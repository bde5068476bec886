// Shared pieces of the residents' H5: the /app/v1 client (bearer token in
// localStorage, any 401 sends the person back to sign-in), DOM helpers that
// never parse HTML, dates in China time, and the toast and confirm sheet.

const TOKEN = 'linli.h5.token'
const TIMEOUT_MS = 30000

export function token() {
  try { return localStorage.getItem(TOKEN) || '' } catch { return '' }
}
export function setToken(t) {
  try { t ? localStorage.setItem(TOKEN, t) : localStorage.removeItem(TOKEN) } catch { /* private mode */ }
}

// ApiError carries the Chinese text to show and the HTTP status.
export class ApiError extends Error {
  constructor(message, status, problem) {
    super(message)
    this.status = status
    this.problem = problem
  }
}

// problemText turns an RFC 9457 problem into one Chinese text: the detail and,
// when several fields are wrong, each field's message.
export function problemText(p, status) {
  let text = (p && p.detail) || ''
  const errors = (p && Array.isArray(p.errors)) ? p.errors.map((e) => e && e.message).filter(Boolean) : []
  if (errors.length && !errors.every((m) => text.includes(m))) text = (text ? text + '：' : '') + errors.join('；')
  if (!text) {
    if (status === 429) text = '操作太频繁，请稍后再试'
    else if (status >= 500) text = '服务暂时不可用，请稍后再试'
    else text = '请求失败（' + status + '）'
  }
  return text
}

let onExpired = () => {}
// whenExpired sets what happens after a 401: the app shell goes to sign-in.
export function whenExpired(fn) { onExpired = fn }

// api calls /app/v1 + path. body may be an object (sent as JSON) or
// FormData. It resolves to the decoded JSON (null for 204) or, with
// {blob: true}, a Blob; it rejects with an ApiError whose message can be
// shown as is.
export async function api(method, path, body, opts = {}) {
  const headers = {}
  const t = token()
  if (t && opts.auth !== false) headers.Authorization = 'Bearer ' + t
  let payload
  if (body instanceof FormData) payload = body
  else if (body !== undefined) {
    headers['Content-Type'] = 'application/json'
    payload = JSON.stringify(body)
  }
  const ctl = new AbortController()
  const timer = setTimeout(() => ctl.abort(), opts.timeout || TIMEOUT_MS)
  let res
  try {
    res = await fetch('/app/v1' + path, { method, headers, body: payload, signal: ctl.signal, cache: 'no-store' })
  } catch (e) {
    throw new ApiError(ctl.signal.aborted ? '网络太慢，请求超时，请稍后再试' : '网络连接失败，请检查网络后再试', 0)
  } finally {
    clearTimeout(timer)
  }
  if (res.status === 401 && opts.auth !== false) {
    setToken('')
    onExpired()
    throw new ApiError('登录已失效，请重新登录', 401)
  }
  if (!res.ok) {
    const p = await res.json().catch(() => null)
    throw new ApiError(problemText(p, res.status), res.status, p)
  }
  if (opts.blob) return res.blob()
  if (res.status === 204) return null
  const text = await res.text()
  if (!text) return null
  try {
    return JSON.parse(text)
  } catch {
    throw new ApiError('服务器返回了无法识别的内容，请稍后再试', res.status)
  }
}

// h builds an element: h('div.card#x', {onclick, dataset...}, ...children).
// Strings become text nodes; nothing is ever parsed as HTML.
export function h(spec, attrs, ...children) {
  const m = spec.match(/^([a-z0-9]+)?((?:[.#][\w-]+)*)$/i)
  const el = document.createElement((m && m[1]) || 'div')
  if (m && m[2]) {
    for (const part of m[2].match(/[.#][\w-]+/g)) {
      if (part[0] === '.') el.classList.add(part.slice(1))
      else el.id = part.slice(1)
    }
  }
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs)
    attrs = null
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v)
    else if (k === 'testid') el.dataset.testid = v
    else if (k === 'text') el.textContent = v
    else if (k in el && typeof v !== 'string') el[k] = v
    else el.setAttribute(k, v === true ? '' : String(v))
  }
  append(el, children)
  return el
}
function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue
    if (Array.isArray(c)) append(el, c)
    else el.append(c instanceof Node ? c : String(c))
  }
}

// China time: the server's communities are in China, and so are the people.
const TZ = 'Asia/Shanghai'
const fmtDateTime = new Intl.DateTimeFormat('zh-CN', { timeZone: TZ, month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false })
const fmtFull = new Intl.DateTimeFormat('zh-CN', { timeZone: TZ, year: 'numeric', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false })
export function when(iso) {
  if (!iso) return ''
  const d = new Date(iso)
  if (isNaN(d)) return ''
  const thisYear = new Date().getFullYear() === d.getFullYear()
  return (thisYear ? fmtDateTime : fmtFull).format(d)
}
export function duration(sec) {
  sec = Math.max(0, Math.round(sec || 0))
  const m = Math.floor(sec / 60)
  return m ? m + ' 分 ' + (sec % 60) + ' 秒' : sec + ' 秒'
}

// Loading, empty and error states of a page or a part of it.
export function loading(text = '加载中…') {
  return h('div.state.loading', { testid: 'h5-loading', role: 'status' }, h('span.spinner'), text)
}
export function empty(text, action) {
  return h('div.state.empty', { testid: 'h5-empty' }, h('p', text), action || null)
}
export function failed(err, retry) {
  return h('div.state.error', { testid: 'h5-error', role: 'alert' }, h('p', err.message || String(err)),
    retry ? h('button.btn.ghost', { type: 'button', onclick: retry }, '重试') : null)
}
export function errorBox() {
  const el = h('div.msg.error', { testid: 'h5-form-error', role: 'alert', hidden: true })
  el.show = (e) => { el.textContent = e ? (e.message || String(e)) : ''; el.hidden = !e }
  return el
}

let toastTimer
export function toast(text, kind = 'ok') {
  let el = document.getElementById('toast')
  if (!el) {
    el = h('div#toast', { role: 'status', testid: 'h5-toast' })
    document.body.append(el)
  }
  el.className = 'toast ' + kind
  el.textContent = text
  el.hidden = false
  clearTimeout(toastTimer)
  toastTimer = setTimeout(() => { el.hidden = true }, 2600)
}

// confirmSheet asks before something that cannot be undone; resolves true
// when the person confirms.
export function confirmSheet(text, okText = '确定', danger = true) {
  return new Promise((resolve) => {
    const close = (v) => { back.remove(); document.removeEventListener('keydown', esc); resolve(v) }
    const esc = (e) => { if (e.key === 'Escape') close(false) }
    document.addEventListener('keydown', esc)
    const back = h('div.sheet-back', { testid: 'h5-confirm', onclick: (e) => { if (e.target === back) close(false) } },
      h('div.sheet', { role: 'dialog', 'aria-modal': 'true', 'aria-label': text },
        h('p.sheet-text', text),
        h('div.row2',
          h('button.btn.ghost', { type: 'button', testid: 'h5-confirm-cancel', onclick: () => close(false) }, '取消'),
          h('button.btn' + (danger ? '.danger' : ''), { type: 'button', testid: 'h5-confirm-ok', onclick: () => close(true) }, okText))))
    document.body.append(back)
    back.querySelector('[data-testid="h5-confirm-ok"]').focus()
  })
}

// me caches GET /me for a few seconds: several pages need the rooms.
let meCache = null
export async function me(fresh = false) {
  if (!fresh && meCache && Date.now() - meCache.at < 10000) return meCache.value
  const value = await api('GET', '/me')
  meCache = { at: Date.now(), value }
  return value
}
export function forgetMe() { meCache = null }

// blobURL fetches an image that needs the bearer token and returns an
// object URL for an <img>.
export async function blobURL(path) {
  return URL.createObjectURL(await api('GET', path, undefined, { blob: true }))
}

export function field(label, input, hint) {
  return h('label.field', h('span.label', label), input, hint ? h('span.hint', hint) : null)
}

// put replaces el's children, leaving out the null and false of conditional parts.
export function put(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false))
}
