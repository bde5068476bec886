// 业主申请 H5 page: loads the community's housing, submits the form as
// multipart/form-data to /app/v1/apply/{token}, and looks up results by phone.
(function () {
  'use strict'
  const token = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() || '')
  const api = '/app/v1/apply/' + encodeURIComponent(token)
  const $ = (id) => document.getElementById(id)
  let form = null

  function option(select, items, label, placeholder) {
    select.replaceChildren()
    const first = document.createElement('option')
    first.value = ''
    first.textContent = placeholder
    select.appendChild(first)
    for (const it of items) {
      const o = document.createElement('option')
      o.value = String(it.id)
      o.textContent = label(it)
      select.appendChild(o)
    }
  }

  function showError(el, problem) {
    let text = (problem && problem.detail) || '网络错误，请稍后再试'
    if (problem && Array.isArray(problem.errors) && problem.errors.length > 1) {
      text += '\n' + problem.errors.map((e) => '· ' + e.message).join('\n')
    }
    el.textContent = text
    el.hidden = false
  }

  async function getJSON(url) {
    const res = await fetch(url, { credentials: 'same-origin' })
    const body = await res.json().catch(() => null)
    if (!res.ok) throw body
    return body
  }

  function areaById(id) { return form.areas.find((a) => String(a.id) === id) }
  function buildingById(a, id) { return a && a.buildings.find((b) => String(b.id) === id) }

  async function load() {
    try {
      form = await getJSON(api)
    } catch (p) {
      $('community').textContent = ''
      showError($('load-error'), p)
      $('apply-form').hidden = true
      return
    }
    $('community').textContent = form.community
    option($('area'), form.areas, (a) => a.name, '请选择区域')
    option($('building'), [], () => '', '请选择楼栋')
    option($('unit'), [], () => '', '请选择单元')
    option($('room'), [], () => '', '请选择房号')
    const role = $('role')
    role.replaceChildren()
    for (const r of form.roles) {
      const o = document.createElement('option')
      o.value = r
      o.textContent = r
      role.appendChild(o)
    }
  }

  $('area').addEventListener('change', () => {
    const a = areaById($('area').value)
    option($('building'), a ? a.buildings : [], (b) => b.name, '请选择楼栋')
    option($('unit'), [], () => '', '请选择单元')
    option($('room'), [], () => '', '请选择房号')
  })
  $('building').addEventListener('change', () => {
    const b = buildingById(areaById($('area').value), $('building').value)
    option($('unit'), b ? b.units : [], (u) => u.name, '请选择单元')
    option($('room'), [], () => '', '请选择房号')
  })
  $('unit').addEventListener('change', async () => {
    option($('room'), [], () => '', '请选择房号')
    if (!$('unit').value) return
    try {
      const rooms = await getJSON(api + '/rooms?unit_id=' + encodeURIComponent($('unit').value))
      option($('room'), rooms, (r) => r.room_no, '请选择房号')
    } catch (p) {
      showError($('form-error'), p)
    }
  })
  $('photos').addEventListener('change', () => {
    const box = $('previews')
    box.replaceChildren()
    for (const f of Array.from($('photos').files).slice(0, 3)) {
      const img = document.createElement('img')
      img.src = URL.createObjectURL(f)
      img.alt = f.name
      box.appendChild(img)
    }
  })

  $('apply-form').addEventListener('submit', async (e) => {
    e.preventDefault()
    const err = $('form-error')
    err.hidden = true
    const problems = []
    if (!$('room').value) problems.push('请选择申请的房间（区域、楼栋、单元、房号）')
    if (!$('name').value.trim()) problems.push('请填写姓名')
    if (!/^(\+?86)?\s*1[3-9]\d{9}$/.test($('phone').value.replace(/[\s-]/g, ''))) problems.push('请填写 11 位手机号')
    const files = Array.from($('photos').files)
    if (files.length > 3) problems.push('最多上传 3 张照片')
    if (files.some((f) => f.size > 5 * 1024 * 1024)) problems.push('每张照片不能超过 5 MB')
    if (!$('consent').checked) problems.push('请勾选同意物业收集和使用以上信息')
    if (problems.length) {
      err.textContent = problems.join('\n')
      err.hidden = false
      return
    }
    const body = new FormData()
    body.set('room_id', $('room').value)
    body.set('name', $('name').value.trim())
    body.set('gender', document.querySelector('input[name=gender]:checked').value)
    body.set('phone', $('phone').value)
    body.set('contact_phone', $('contact_phone').value)
    body.set('id_number', $('id_number').value)
    body.set('role', $('role').value)
    for (const f of files.slice(0, 3)) body.append('photos', f)
    $('submit').disabled = true
    try {
      const res = await fetch(api, { method: 'POST', body, credentials: 'same-origin' })
      const out = await res.json().catch(() => null)
      if (!res.ok) throw out
      $('apply-form').hidden = true
      $('done').hidden = false
    } catch (p) {
      showError(err, p)
    } finally {
      $('submit').disabled = false
    }
  })

  const statusName = { pending: '申请中', approved: '已通过', rejected: '已打回' }
  $('status-form').addEventListener('submit', async (e) => {
    e.preventDefault()
    const err = $('status-error')
    err.hidden = true
    const list = $('status-list')
    list.replaceChildren()
    try {
      const items = await getJSON(api + '/status?phone=' + encodeURIComponent($('status-phone').value))
      if (!items.length) {
        const li = document.createElement('li')
        li.textContent = '没有找到该手机号的申请'
        list.appendChild(li)
      }
      for (const it of items) {
        const li = document.createElement('li')
        const title = document.createElement('div')
        title.textContent = it.room + ' ' + it.name
        const tag = document.createElement('span')
        tag.className = 'tag ' + it.status
        tag.textContent = statusName[it.status] || it.status
        title.appendChild(tag)
        li.appendChild(title)
        if (it.reason) {
          const r = document.createElement('div')
          r.textContent = '打回原因：' + it.reason
          li.appendChild(r)
        }
        list.appendChild(li)
      }
    } catch (p) {
      showError(err, p)
    }
  })

  function tab(apply) {
    $('tab-apply').classList.toggle('active', apply)
    $('tab-status').classList.toggle('active', !apply)
    $('apply-form').hidden = !apply || !$('done').hidden
    $('status-form').hidden = apply
    if (!apply) $('done').hidden = true
  }
  $('tab-apply').addEventListener('click', () => tab(true))
  $('tab-status').addEventListener('click', () => tab(false))

  load()
})()
