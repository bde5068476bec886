// Measurements of what a person sees: tables that fit or visibly scroll,
// toasts that leave the panels alone, and axe-core's accessibility rules.
import { readFileSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

// axe-core is evaluated in the page, not added as a script tag: the pages
// keep their Content-Security-Policy (no bypassCSP), which the walks check.
const axeSource = readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'node_modules', 'axe-core', 'axe.min.js'), 'utf8')

/** The screen sizes every page is looked at. */
export const SIZES = [
  { width: 1366, height: 768 },
  { width: 1440, height: 900 },
  { width: 1920, height: 1080 },
]

/**
 * checkA11y runs axe-core on the page (or on the elements matching scope)
 * and returns its serious and critical findings as readable lines.
 */
export async function checkA11y(page, scope) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource)
  const violations = await page.evaluate(async (scope) => {
    const target = scope ? { include: [[scope]] } : document
    const res = await window.axe.run(target, { resultTypes: ['violations'] })
    return res.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id} (${v.help}): ${v.nodes.slice(0, 4).map((n) => `${n.target.join(' ')} ${n.html.slice(0, 160)}`).join(' | ')}`)
  }, scope ?? null)
  return violations
}

/**
 * checkTables measures every visible Element Plus table and returns what a
 * person could not read:
 *   - a header cut or wrapped;
 *   - a status tag narrower than its text;
 *   - a table wider than its box without a visible horizontal scrollbar;
 *   - scrolled to the end, a column still hidden under the fixed 操作 column;
 *   - with oneLine: a body cell broken over two lines, or cut without a
 *     tooltip for the full value.
 * The table is scrolled back to the start afterwards.
 */
export async function checkTables(page, { oneLine = [] } = {}) {
  await page.mouse.move(1, 1) // the hover must not be what shows a scrollbar
  await page.waitForTimeout(250)
  const problems = await page.evaluate(async (oneLine) => {
    const out = []
    const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))
    for (const table of document.querySelectorAll('.el-table')) {
      if (!table.offsetParent) continue
      const name = table.getAttribute('data-testid') || 'table'
      const headers = [...table.querySelectorAll('.el-table__header-wrapper th.el-table__cell')]
      for (const th of headers) {
        const cell = th.querySelector('.cell')
        if (!cell || !cell.textContent.trim()) continue
        const lh = parseFloat(getComputedStyle(cell).lineHeight) || 23
        if (cell.scrollWidth > cell.clientWidth + 1 || cell.clientHeight > lh * 1.5) {
          out.push(`${name}: header "${cell.textContent.trim()}" does not fit (${cell.scrollWidth}px text in ${cell.clientWidth}px)`)
        }
      }
      for (const tag of table.querySelectorAll('.el-table__body .el-tag')) {
        const content = tag.querySelector('.el-tag__content') || tag
        if (content.scrollWidth > content.clientWidth + 1 || tag.getBoundingClientRect().height > 30) {
          out.push(`${name}: tag "${tag.textContent.trim()}" is squeezed`)
        }
      }
      if (oneLine.includes(name)) {
        for (const cell of table.querySelectorAll('.el-table__body td.el-table__cell > .cell')) {
          const text = cell.textContent.trim()
          if (!text) continue
          const lh = parseFloat(getComputedStyle(cell).lineHeight) || 23
          if (cell.clientHeight > lh * 1.5) out.push(`${name}: "${text}" breaks over two lines`)
          if (cell.scrollWidth > cell.clientWidth + 1 && !cell.classList.contains('el-tooltip')) {
            out.push(`${name}: "${text}" is cut without a tooltip`)
          }
        }
      }
      const wrap = table.querySelector('.el-table__body-wrapper .el-scrollbar__wrap')
      if (!wrap || wrap.scrollWidth <= wrap.clientWidth + 1) continue
      const bar = table.querySelector('.el-table__body-wrapper .el-scrollbar__bar.is-horizontal')
      const thumb = bar && bar.querySelector('.el-scrollbar__thumb')
      if (!bar || getComputedStyle(bar).display === 'none' || !thumb || thumb.offsetWidth === 0) {
        out.push(`${name}: ${wrap.scrollWidth}px of columns in ${wrap.clientWidth}px and no visible scrollbar`)
      }
      wrap.scrollLeft = wrap.scrollWidth
      wrap.dispatchEvent(new Event('scroll'))
      await frame()
      const fixed = headers.filter((th) => th.classList.contains('el-table-fixed-column--right'))
      const fixedLeft = Math.min(...fixed.map((th) => th.getBoundingClientRect().left))
      for (const th of headers) {
        if (fixed.includes(th)) continue
        if (th.getBoundingClientRect().right > fixedLeft + 1) {
          out.push(`${name}: column "${th.textContent.trim()}" stays hidden under the fixed column`)
        }
      }
      wrap.scrollLeft = 0
      wrap.dispatchEvent(new Event('scroll'))
      await frame()
    }
    return out
  }, oneLine)
  return problems
}

/**
 * checkToasts returns the toasts that cover a panel's title or filters, a
 * dialog's header, or anything below the page header band.
 */
export async function checkToasts(page) {
  return page.evaluate(() => {
    const out = []
    const header = document.querySelector('.el-header')
    const band = header ? header.getBoundingClientRect().bottom : 56
    const covered = [...document.querySelectorAll('.toolbar-title, .filters, .el-dialog__header, .el-card__header, h1')]
      .filter((e) => e.offsetParent)
      .map((e) => [e, e.getBoundingClientRect()])
    for (const m of document.querySelectorAll('.el-message')) {
      const r = m.getBoundingClientRect()
      const text = m.textContent.trim()
      if (r.bottom > band + 1) out.push(`toast "${text}" reaches ${Math.round(r.bottom)}px, below the ${band}px header`)
      for (const [e, b] of covered) {
        if (r.left < b.right && b.left < r.right && r.top < b.bottom && b.top < r.bottom) {
          out.push(`toast "${text}" covers "${e.textContent.trim().slice(0, 20)}"`)
        }
      }
    }
    return out
  })
}
