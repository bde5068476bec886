// 免打扰: a manual switch (saved at once) and a weekly schedule of up to 7
// periods (saved with 保存). While in effect, the app is left out of door
// calls; the indoor monitor still rings.
import { api, h, loading, failed, errorBox, toast, put } from '../core.js'

const DAYS = ['一', '二', '三', '四', '五', '六', '日']
const MAX = 7

export function render(box) {
  const load = async () => {
    put(box, loading())
    let d
    try {
      d = await api('GET', '/dnd')
    } catch (e) {
      put(box, failed(e, load))
      return
    }
    show(box, d)
  }
  load()
}

function sw(on, label, testid) {
  const b = h('button.switch', { type: 'button', role: 'switch', 'aria-checked': String(!!on), 'aria-label': label, testid })
  b.on = !!on
  b.set = (v) => { b.on = v; b.setAttribute('aria-checked', String(v)) }
  return b
}

function show(box, saved) {
  const err = errorBox()
  const state = h('div.muted.small', { testid: 'h5-dnd-active' })
  const setState = (d) => { state.textContent = d.active ? '免打扰生效中：APP 不会响铃，室内机照常响铃' : '当前未开启免打扰，门口机呼叫时 APP 会响铃' }
  setState(saved)
  const manual = sw(saved.on, '免打扰', 'h5-dnd-on')
  const sched = sw(saved.schedule_enabled, '按时段免打扰', 'h5-dnd-schedule-enabled')
  let periods = (saved.schedule || []).map((p) => ({ weekdays: [...p.weekdays], start: p.start, end: p.end }))
  const list = h('div', { testid: 'h5-dnd-periods' })
  const add = h('button.btn.block.ghost', { type: 'button', testid: 'h5-dnd-add' }, '＋ 添加时段')
  const save = h('button.btn.block', { type: 'button', testid: 'h5-dnd-save' }, '保存时段')

  const saveDnd = async (body) => {
    const d = await api('PUT', '/dnd', body)
    saved = d
    setState(d)
    return d
  }
  manual.addEventListener('click', async () => {
    err.show(null)
    const v = !manual.on
    manual.set(v)
    manual.disabled = true
    try {
      await saveDnd({ on: v, schedule_enabled: saved.schedule_enabled, schedule: saved.schedule || [] })
      toast(v ? '已开启免打扰' : '已关闭免打扰')
    } catch (e) {
      manual.set(!v)
      err.show(e)
    }
    manual.disabled = false
  })
  const editor = h('div', { testid: 'h5-dnd-editor' })
  sched.addEventListener('click', async () => {
    err.show(null)
    const v = !sched.on
    sched.set(v)
    sched.disabled = true
    try {
      await saveDnd({ on: saved.on, schedule_enabled: v, schedule: saved.schedule || [] })
      editor.hidden = !v
      toast(v ? '已开启按时段免打扰' : '已关闭按时段免打扰')
    } catch (e) {
      sched.set(!v)
      err.show(e)
    }
    sched.disabled = false
  })

  const draw = () => {
    put(list, ...periods.map((p, i) => {
      const hint = h('span.grow.hint')
      const note = () => { hint.textContent = p.end && p.start && p.end < p.start ? '结束早于开始：到次日结束' : '' }
      note()
      const start = h('input', { type: 'time', value: p.start, testid: 'h5-dnd-start', 'aria-label': '开始时间' })
      const end = h('input', { type: 'time', value: p.end, testid: 'h5-dnd-end', 'aria-label': '结束时间' })
      start.addEventListener('change', () => { p.start = start.value; note() })
      end.addEventListener('change', () => { p.end = end.value; note() })
      const days = h('div.choices.days', { role: 'group', 'aria-label': '星期' }, DAYS.map((name, k) => {
        const b = h('button', { type: 'button', 'aria-pressed': String(p.weekdays.includes(k + 1)), 'aria-label': '星期' + name }, name)
        b.addEventListener('click', () => {
          const on = !p.weekdays.includes(k + 1)
          p.weekdays = on ? [...p.weekdays, k + 1].sort() : p.weekdays.filter((x) => x !== k + 1)
          b.setAttribute('aria-pressed', String(on))
        })
        return b
      }))
      return h('div.period', { testid: 'h5-dnd-period' },
        days,
        h('div.row2',
          h('label.field', h('span.label', '开始'), start),
          h('label.field', h('span.label', '结束'), end)),
        h('div.row.period-foot',
          hint,
          h('button.btn.small.ghost.danger', { type: 'button', testid: 'h5-dnd-remove', onclick: () => { periods.splice(i, 1); draw() } }, '删除时段')))
    }))
    if (!periods.length) list.append(h('p.muted.small', '还没有时段，例如每天 22:00 到次日 07:00。'))
    add.hidden = periods.length >= MAX
  }
  add.addEventListener('click', () => {
    periods.push({ weekdays: [1, 2, 3, 4, 5, 6, 7], start: '22:00', end: '07:00' })
    draw()
  })
  save.addEventListener('click', async () => {
    err.show(null)
    for (const p of periods) {
      if (!p.weekdays.length) { err.show(new Error('每个时段至少选择一天')); return }
      if (!/^\d{2}:\d{2}$/.test(p.start) || !/^\d{2}:\d{2}$/.test(p.end)) { err.show(new Error('请填写时段的开始和结束时间')); return }
      if (p.start === p.end) { err.show(new Error('时段的开始和结束时间不能相同')); return }
    }
    save.disabled = true
    save.textContent = '保存中…'
    try {
      const d = await saveDnd({ on: manual.on, schedule_enabled: sched.on, schedule: periods })
      periods = (d.schedule || []).map((p) => ({ weekdays: [...p.weekdays], start: p.start, end: p.end }))
      draw()
      toast('已保存')
    } catch (e) {
      err.show(e)
    }
    save.disabled = false
    save.textContent = '保存时段'
  })
  draw()
  put(box, 
    h('div.card',
      h('div.switch-row', h('div.grow', h('div.title-line', '免打扰'), h('div.muted.small', '开启后立即生效，直到手动关闭')), manual),
      state),
    err,
    h('div.card',
      h('div.switch-row', h('div.grow', h('div.title-line', '按时段免打扰'), h('div.muted.small', '每周固定时段自动免打扰（北京时间）')), sched),
      editor))
  editor.hidden = !sched.on
  put(editor, h('div.field-gap'), list, h('div.field-gap'), add, h('div.field-gap'), save)
}
